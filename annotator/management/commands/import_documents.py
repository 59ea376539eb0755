from annotator.formats.readers import read_paths
from annotator.services.imports import documents_import

from ._base import WarrantCommand, get_project


class Command(WarrantCommand):
    help = (
        "Import .txt, .md, .html, .pdf, .docx, canonical .jsonl, brat .txt+.ann, "
        "CDCP .txt+.ann.json, "
        "arg-microtexts .txt+.xml, or a .zip of them. "
        "One import is atomic: on any error nothing is written."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("paths", nargs="+", metavar="PATH")
        parser.add_argument("--no-clean", action="store_true",
                            help="keep page residue: menus and repeated lines of web pages and "
                                 "text, running headers, footers and page numbers of PDFs")
        parser.add_argument("--add-labels", action="store_true",
                            help="add labels and relation types the schema lacks")
        parser.add_argument("--annotator", metavar="USERNAME",
                            help="annotations without an annotator (brat) belong to this user "
                                 "instead of the gold standard")

    def handle(self, *args, slug, paths, no_clean, add_labels, annotator, **options):
        project = get_project(slug)
        records = read_paths(paths, clean=not no_clean)
        report = documents_import(
            project=project, records=records, add_labels=add_labels, annotator=annotator
        )
        for line in report.lines():
            self.stdout.write(line)
