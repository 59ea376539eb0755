from pathlib import Path

from django.core.management.base import CommandError

from annotator.services.backup import project_restore_report

from ._base import WarrantCommand


class Command(WarrantCommand):
    help = (
        "Restore a project from a file written by `backup`, all of it or nothing. An existing "
        "user with the same username is taken to be the same person: they get the file's "
        "roles and keep their password; the summary names them."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="FILE")
        parser.add_argument("--slug", metavar="NEW",
                            help="restore under another slug (a copy beside the original)")

    def handle(self, *args, file, slug, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        with path.open("rb") as in_file:
            report = project_restore_report(in_file, slug=slug)
        self.stdout.write(report.summary())
