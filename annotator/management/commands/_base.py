"""What every Warrant command shares: a project by slug, one-line errors."""

from __future__ import annotations

import sys

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
    """Turns bad input into one line and a non-zero exit.

    Service refusals (WarrantError, FormatError) become CommandError, which
    Django prints as one line with exit 1. Argument errors print one line with
    exit 2 (argparse's usual usage block is left out; ``--help`` shows it), and
    positional arguments may follow options (``add_members SLUG --role R NAME``).
    """

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.parse_args = parser.parse_intermixed_args

        def error(message):
            if not parser.called_from_command_line:
                raise CommandError(f"Error: {message}")
            sys.stderr.write(f"{parser.prog}: error: {message}\n")
            sys.exit(2)

        parser.error = error
        return parser

    def execute(self, *args, **options):
        try:
            return super().execute(*args, **options)
        except (WarrantError, FormatError) as exc:
            raise CommandError(str(exc)) from None
