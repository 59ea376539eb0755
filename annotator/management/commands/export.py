from annotator.models import ExportScope
from annotator.services.exports import export_formats, export_write

from ._base import WarrantCommand, get_project


class Command(WarrantCommand):
    help = "Export a project's documents and annotations as a dataset file."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--format", required=True, choices=export_formats())
        parser.add_argument("-o", "--output", required=True, metavar="PATH")
        parser.add_argument("--scope", default=ExportScope.BOTH, choices=ExportScope.values,
                            help="gold only, all annotators, or both (default)")

    def handle(self, *args, slug, format, output, scope, **options):
        project = get_project(slug)
        summary = export_write(project=project, format=format, path=output, scope=scope)
        self.stdout.write(
            f"wrote {summary.documents} document(s), {summary.spans} span(s), "
            f"{summary.relations} relation(s) to {summary.path}"
        )
