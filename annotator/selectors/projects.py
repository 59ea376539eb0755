from django.db.models import Count, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from annotator.formats.schema import (
    RelationTypeSpec,
    SchemaSpec,
    SpanLabelSpec,
    parse_attributes,
)
from annotator.models import Document, Membership, Project, RelationType, SpanLabel
from annotator.text.spreadsheet import spreadsheet_csv

#: The members download, for a spreadsheet.
MEMBER_COLUMNS = ("username", "email", "role")


def projects_for_user(user) -> QuerySet[Project]:
    """Projects the user belongs to (all of them for a superuser)."""
    if not user.is_authenticated:
        return Project.objects.none()
    qs = Project.objects.all() if user.is_superuser else Project.objects.filter(
        memberships__user=user
    )
    # A count per project (its documents' index alone), not a DISTINCT over the join
    # of memberships and every document (26 ms against 12 for 100,000 documents).
    documents = (
        Document.objects.filter(project=OuterRef("pk")).order_by().values("project")
        .annotate(n=Count("pk")).values("n")
    )
    return qs.annotate(document_count=Coalesce(Subquery(documents), Value(0))).order_by("name")


def label_spec(label: SpanLabel) -> SpanLabelSpec:
    """One label of a schema as plain data, with its attributes."""
    return SpanLabelSpec(
        label.name, label.colour, label.hotkey, label.description,
        parse_attributes(label.attributes, label=label.name, source="the schema"),
    )


def relation_type_spec(rtype: RelationType) -> RelationTypeSpec:
    return RelationTypeSpec(
        rtype.name, tuple(tuple(pair) for pair in rtype.allowed), rtype.directed,
        rtype.description, rtype.aif,
    )


def project_schema(project: Project) -> SchemaSpec:
    """The project's label schema as plain data (two queries)."""
    labels = tuple(label_spec(lab) for lab in project.span_labels.all())
    relations = tuple(relation_type_spec(rel) for rel in project.relation_types.all())
    return SchemaSpec(labels, relations)


def project_has_annotator(project: Project, username: str) -> bool:
    return project.memberships.filter(role="annotator", user__username=username).exists()


def project_members_csv(project: Project) -> str:
    """The project's members (username, email, role) for a spreadsheet, formulas neutralised."""
    rows = (
        Membership.objects.filter(project=project)
        .order_by("user__username")
        .values_list("user__username", "user__email", "role")
        .iterator()
    )
    return spreadsheet_csv(MEMBER_COLUMNS, rows)
