import datetime as dt

from django.core.management.base import CommandError
from django.db import transaction

from annotator.services.assignments import assignment_csv, assignments_make

from ._base import WarrantCommand, get_project


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--due {value!r} is not a date (YYYY-MM-DD)") from None


class Command(WarrantCommand):
    help = "Give each document K distinct annotators with balanced loads; "\
           "print the assignment table as CSV (document, annotator, status, due)."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--per-document", type=int, required=True, metavar="K")
        parser.add_argument("--seed", type=int, default=None)
        parser.add_argument("--due", default=None, metavar="YYYY-MM-DD")
        parser.add_argument("-o", "--output", metavar="FILE")

    def handle(self, *args, slug, per_document, seed, due, output, **options):
        project = get_project(slug)
        due_date = _date(due) if due else None
        # One transaction: if the table cannot be written, no assignment is kept.
        with transaction.atomic():
            created = assignments_make(project=project, per_document=per_document, seed=seed,
                                       due=due_date)
            table = assignment_csv(project)
            if output:
                try:
                    with open(output, "w", encoding="utf-8", newline="") as fh:
                        fh.write(table)
                except OSError as exc:
                    raise CommandError(f"{output}: {exc.strerror}") from None
        if output:
            self.stdout.write(f"{len(created)} new assignment(s); table written to {output}")
        else:
            self.stdout.write(table, ending="")
            self.stderr.write(f"{len(created)} new assignment(s)")
