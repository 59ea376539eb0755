from annotator.models import ExportScope
from annotator.services.exports import export_formats, export_path_help, export_write

from ._base import WarrantCommand, get_project


class Command(WarrantCommand):
    help = "Export a project's documents and annotations as a dataset file."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--format", required=True, choices=export_formats())
        parser.add_argument("-o", "--output", required=True, metavar="PATH",
                            help=export_path_help())
        parser.add_argument("--scope", default=ExportScope.BOTH, choices=ExportScope.values,
                            help="gold only, all annotators, or both (default)")
        parser.add_argument("--seed", type=int, default=0,
                            help="hf: seed of the document-level train/validation/test split")
        parser.add_argument("--license", default="other",
                            help="hf: licence identifier for the dataset card (default: other)")
        parser.add_argument("--language", action="append",
                            help="hf: language code for the dataset card (repeatable; default en)")

    def handle(self, *args, slug, format, output, scope, seed, license, language, **options):
        project = get_project(slug)
        summary = export_write(
            project=project, format=format, path=output, scope=scope,
            options={"seed": seed, "license": license, "language": language or ["en"]},
        )
        self.stdout.write(
            f"wrote {summary.documents} document(s), {summary.spans} span(s), "
            f"{summary.relations} relation(s) to {summary.path}"
        )
        if note := summary.left_out_note():
            self.stdout.write(note)
