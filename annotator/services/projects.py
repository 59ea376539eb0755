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
