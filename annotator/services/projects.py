from __future__ import annotations

import re
import secrets
import shutil
from collections import Counter
from dataclasses import dataclass

from django.db import transaction
from django.db.models.fields.json import KeyTransform

from annotator.formats.schema import AttributeSpec, SchemaSpec, parse_attributes
from annotator.models import (
    Document,
    ExportJob,
    ImportJob,
    Membership,
    Project,
    RelationType,
    Role,
    Span,
    SpanLabel,
)

from .errors import WarrantError
from .import_jobs import import_folder

_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


@transaction.atomic
def project_create(
    *,
    slug: str,
    name: str = "",
    schema: SchemaSpec,
    created_by=None,
    guidelines: str = "",
    annotators_per_document: int = 2,
    blind: bool = True,
) -> Project:
    """Create a project with its label schema; its creator becomes a manager."""
    if not _SLUG.match(slug):
        raise WarrantError(
            f"slug {slug!r} must be 1-64 lowercase letters, digits, '-' or '_', "
            "starting with a letter or digit"
        )
    if Project.objects.filter(slug=slug).exists():
        raise WarrantError(f"a project with slug {slug!r} already exists")
    if annotators_per_document < 1:
        raise WarrantError("annotators per document must be at least 1")
    project = Project.objects.create(
        slug=slug,
        name=name or slug,
        guidelines=guidelines,
        annotators_per_document=annotators_per_document,
        blind=blind,
        join_code=secrets.token_urlsafe(6),
    )
    schema_apply(project=project, schema=schema)
    if created_by is not None:
        Membership.objects.create(project=project, user=created_by, role=Role.MANAGER)
    return project


@transaction.atomic
def schema_apply(*, project: Project, schema: SchemaSpec, exact_attributes: bool = False) -> None:
    """Add or update the schema's labels and relation types on a project.

    Labels and types already used by spans are never deleted here: a schema
    only grows or changes colour, hotkey, description, attributes, allowed
    pairs and AIF mapping. A label's attributes are merged into the ones it
    has (an import that names a label without attributes takes none away);
    with ``exact_attributes`` (the schema editor, which shows them all) they
    become exactly the schema's. Either way an attribute that spans hold can
    only change in ways those values still fit: removing it, changing its type
    or dropping a value in use is refused with the number of spans concerned.
    """
    existing = {lab.name: lab for lab in SpanLabel.objects.filter(project=project)}
    for position, lab in enumerate(schema.span_labels):
        # A hotkey moves to the label the schema gives it.
        SpanLabel.objects.filter(project=project, hotkey=lab.hotkey).exclude(
            name=lab.name
        ).exclude(hotkey="").update(hotkey="")
        old = existing.get(lab.name)
        attributes = list(lab.attributes)
        if old is not None:
            before = parse_attributes(old.attributes, label=lab.name)
            if not exact_attributes:
                given = {a.name for a in attributes}
                attributes = [a for a in before if a.name not in given] + attributes
            _check_attributes_in_use(old, before, attributes)
        SpanLabel.objects.update_or_create(
            project=project,
            name=lab.name,
            defaults={
                "colour": lab.colour,
                "hotkey": lab.hotkey,
                "description": lab.description,
                "position": position,
                "attributes": [a.to_dict() for a in attributes],
            },
        )
    for position, rel in enumerate(schema.relation_types):
        RelationType.objects.update_or_create(
            project=project,
            name=rel.name,
            defaults={
                "directed": rel.directed,
                "description": rel.description,
                "allowed": [list(pair) for pair in rel.allowed],
                "position": position,
                "aif": rel.aif,
            },
        )


def _check_attributes_in_use(
    label: SpanLabel, before: tuple[AttributeSpec, ...], after: list[AttributeSpec]
) -> None:
    """Refuse a change of ``label``'s attributes that would leave a span's value unfit."""
    now = {a.name: a for a in after}
    for old in before:
        new = now.get(old.name)
        if new is not None and (new.type, set(new.values)) == (old.type, set(old.values)):
            continue
        holding = Span.objects.filter(label=label, attributes__has_key=old.name)
        if new is None:
            count = holding.count()
            if count:
                raise WarrantError(
                    f"{label.name}'s attribute {old.name!r} is set on {count} span(s): "
                    "clear it there before removing it from the schema"
                )
            continue
        holding = holding.annotate(value=KeyTransform(old.name, "attributes"))
        for value in holding.order_by().values_list("value", flat=True).distinct():
            try:
                new.check(value)
            except ValueError as exc:
                count = holding.filter(value=value).count()
                raise WarrantError(
                    f"{label.name}: {exc}, but {count} span(s) hold {value!r}: change them "
                    "first"
                ) from None


# A project's name is a title, not a description.
MAX_PROJECT_NAME_CHARS = 200
# Guidelines are a few pages of Markdown; a limit keeps a paste accident out of every page.
MAX_GUIDELINES_CHARS = 100_000
# An annotator's load: a document read by more people than this is a survey, not a class.
MAX_ANNOTATORS_PER_DOCUMENT = 50
# A citation is a BibTeX entry or two, not a bibliography.
MAX_CITATION_CHARS = 10_000
_UNSET = object()


@transaction.atomic
def project_update(
    *,
    project: Project,
    name: str | object = _UNSET,
    description: str | object = _UNSET,
    guidelines: str | object = _UNSET,
    annotators_per_document: int | object = _UNSET,
    blind: bool | object = _UNSET,
    allow_reopen: bool | object = _UNSET,
    citation: str | object = _UNSET,
) -> Project:
    """Change a project's settings; an argument left out keeps its value.

    The project deadline has its own service (``project_deadline_set`` in
    assignments.py) because it also moves the assignments that follow it.
    """
    changed: list[str] = []
    if name is not _UNSET:
        name = str(name).strip()
        if not name or len(name) > MAX_PROJECT_NAME_CHARS:
            raise WarrantError(f"a project name is 1-{MAX_PROJECT_NAME_CHARS} characters")
        project.name = name
        changed.append("name")
    if description is not _UNSET:
        project.description = str(description).strip()
        changed.append("description")
    if guidelines is not _UNSET:
        if len(str(guidelines)) > MAX_GUIDELINES_CHARS:
            raise WarrantError(f"guidelines are at most {MAX_GUIDELINES_CHARS} characters")
        project.guidelines = str(guidelines)
        changed.append("guidelines")
    if citation is not _UNSET:
        if len(str(citation)) > MAX_CITATION_CHARS:
            raise WarrantError(f"a citation is at most {MAX_CITATION_CHARS} characters")
        project.citation = str(citation).strip()
        changed.append("citation")
    if annotators_per_document is not _UNSET:
        k = annotators_per_document
        whole = isinstance(k, int) and not isinstance(k, bool)
        if not whole or not 1 <= k <= MAX_ANNOTATORS_PER_DOCUMENT:
            raise WarrantError(
                f"annotators per document must be a whole number from 1 to "
                f"{MAX_ANNOTATORS_PER_DOCUMENT}"
            )
        project.annotators_per_document = k
        changed.append("annotators_per_document")
    for field, value in (("blind", blind), ("allow_reopen", allow_reopen)):
        if value is not _UNSET:
            setattr(project, field, bool(value))
            changed.append(field)
    if changed:
        project.save(update_fields=[*changed, "updated_at"])
    return project


def new_join_code() -> str:
    """A join code a student can type: 8 characters, no look-alikes (0/O, 1/l/I)."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "".join(secrets.choice(alphabet) for _ in range(8))


@transaction.atomic
def project_join_code_regenerate(*, project: Project, enabled: bool = True) -> Project:
    """Give the project a new join code (the old one stops working), or none at all."""
    project.join_code = new_join_code() if enabled else ""
    project.save(update_fields=["join_code", "updated_at"])
    return project


# --------------------------------------------------------------------------- deletion

#: What a deletion summary counts, in this order (Django's model labels).
DELETION_COUNTED = (
    ("annotator.Document", "document(s)"), ("annotator.AnnotationSet", "annotation set(s)"),
    ("annotator.Span", "span(s)"), ("annotator.Relation", "relation(s)"),
    ("annotator.Membership", "member(s)"), ("annotator.AgreementRun", "agreement run(s)"),
    ("annotator.ExportJob", "export(s)"), ("annotator.ImportJob", "import job(s)"),
)


@dataclass
class ProjectDeletion:
    slug: str
    counts: Counter
    export_files: int
    upload_folders: int

    def summary(self) -> str:
        counted = ", ".join(f"{self.counts[key]} {words}" for key, words in DELETION_COUNTED)
        return (f"deleted project {self.slug}: {counted}; {self.export_files} export file(s) "
                f"and {self.upload_folders} import upload folder(s) removed; its users remain")


@transaction.atomic
def project_delete(*, project: Project, confirm: str) -> ProjectDeletion:
    """Delete ``project`` and everything of it; ``confirm`` must be its slug.

    Rows: its documents with their annotation sets, spans, relations, undo log,
    reopenings and dismissed suggestions, then the project with its schema,
    memberships, agreement runs and chunks, import and export jobs and
    suggestion models. Documents go first: spans and relations PROTECT the
    labels and relation types that the project's own deletion cascades to (what
    made the admin's delete a ProtectedError). Files: the export files and the
    import uploads waiting under MEDIA_ROOT, deleted once the deletion is
    committed (a rollback keeps them). Users stay: they may belong to other
    projects. Nothing of another project is touched.
    """
    if confirm.strip() != project.slug:
        raise WarrantError(
            f"type the project's slug, {project.slug}, to delete it; nothing was deleted"
        )
    project = Project.objects.select_for_update().get(pk=project.pk)
    export_files = list(
        ExportJob.objects.filter(project=project).exclude(file="").values_list("file", flat=True)
    )
    import_folders = [
        import_folder(pk)
        for pk in ImportJob.objects.filter(project=project).values_list("pk", flat=True)
    ]
    counts: Counter = Counter()
    counts.update(Document.objects.filter(project=project).delete()[1])
    counts.update(Project.objects.filter(pk=project.pk).delete()[1])
    storage = ExportJob._meta.get_field("file").storage
    waiting = [folder for folder in import_folders if folder.exists()]

    def delete_files():
        for name in export_files:
            storage.delete(name)
        for folder in waiting:
            shutil.rmtree(folder, ignore_errors=True)

    transaction.on_commit(delete_files)
    return ProjectDeletion(slug=project.slug, counts=counts, export_files=len(export_files),
                           upload_folders=len(waiting))
