from django.db.models import Count, QuerySet

from annotator.formats.schema import RelationTypeSpec, SchemaSpec, SpanLabelSpec
from annotator.models import Membership, Project
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
    return qs.annotate(
        document_count=Count("documents", distinct=True),
    ).order_by("name")


def project_schema(project: Project) -> SchemaSpec:
    """The project's label schema as plain data."""
    labels = tuple(
        SpanLabelSpec(lab.name, lab.colour, lab.hotkey, lab.description)
        for lab in project.span_labels.all()
    )
    relations = tuple(
        RelationTypeSpec(
            rel.name, tuple(tuple(pair) for pair in rel.allowed), rel.directed, rel.description
        )
        for rel in project.relation_types.all()
    )
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
