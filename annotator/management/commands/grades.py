from django.core.management.base import CommandError

from annotator.selectors.grading import grades_csv

from ._base import WarrantCommand, get_project


class Command(WarrantCommand):
    help = "Write each student's grades against the final gold standard as CSV: student, "\
           "span_f1_exact, span_f1_overlap, relation_f1, missed, extra, boundary_off, exact, "\
           "documents (an undefined F1 is an empty cell)."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("-o", "--output", metavar="FILE",
                            help="where to write the CSV (default: standard output)")

    def handle(self, *args, slug, output, **options):
        project = get_project(slug)
        table = grades_csv(project=project)
        if not output:
            self.stdout.write(table, ending="")
            return
        try:
            with open(output, "w", encoding="utf-8", newline="") as fh:
                fh.write(table)
        except OSError as exc:
            raise CommandError(f"{output}: {exc.strerror}") from None
        self.stdout.write(f"{table.count(chr(10)) - 1} student(s); grades written to {output}")
