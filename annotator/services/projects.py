from __future__ import annotations

import re
import secrets

from django.db import transaction

from annotator.formats.schema import SchemaSpec
from annotator.models import Membership, Project, RelationType, Role, SpanLabel

from .errors import WarrantError

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
def schema_apply(*, project: Project, schema: SchemaSpec) -> None:
    """Add or update the schema's labels and relation types on a project.

    Labels and types already used by spans are never deleted here: a schema
    only grows or changes colour, hotkey, description and allowed pairs.
    """
    for position, lab in enumerate(schema.span_labels):
        # A hotkey moves to the label the schema gives it.
        SpanLabel.objects.filter(project=project, hotkey=lab.hotkey).exclude(
            name=lab.name
        ).exclude(hotkey="").update(hotkey="")
        SpanLabel.objects.update_or_create(
            project=project,
            name=lab.name,
            defaults={
                "colour": lab.colour,
                "hotkey": lab.hotkey,
                "description": lab.description,
                "position": position,
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
            },
        )


# A project's name is a title, not a description.
MAX_PROJECT_NAME_CHARS = 200
# Guidelines are a few pages of Markdown; a limit keeps a paste accident out of every page.
MAX_GUIDELINES_CHARS = 100_000
# An annotator's load: a document read by more people than this is a survey, not a class.
MAX_ANNOTATORS_PER_DOCUMENT = 50
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
