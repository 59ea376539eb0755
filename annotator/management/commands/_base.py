"""What every Warrant command shares: a project by slug, one-line errors."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from annotator.formats.records import FormatError
from annotator.models import Project
from annotator.services.errors import WarrantError


def get_project(slug: str) -> Project:
    try:
        return Project.objects.get(slug=slug)
    except Project.DoesNotExist:
        raise CommandError(f"no project with slug {slug!r}") from None


class WarrantCommand(BaseCommand):
    """Turns bad input (WarrantError, FormatError) into one line and exit 1."""

    def execute(self, *args, **options):
        try:
            return super().execute(*args, **options)
        except (WarrantError, FormatError) as exc:
            raise CommandError(str(exc)) from None
