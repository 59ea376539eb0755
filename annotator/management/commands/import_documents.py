import time

from annotator.formats.readers import read_paths
from annotator.services.imports import documents_import

from ._base import WarrantCommand, get_project

#: Below this many documents the import takes a few seconds: no progress lines.
PROGRESS_MIN_DOCUMENTS = 1_000
#: Seconds between two progress lines (a terminal's line is rewritten in place instead).
PROGRESS_INTERVAL = 2.0


class _Progress:
    """ "imported 12,300 of 100,000 documents (12%)" on stderr, so that the report on
    stdout stays what scripts read; rewritten in place on a terminal."""

    def __init__(self, stream, total: int):
        self.stream, self.total = stream, total
        self.tty = stream.isatty()
        self.last = 0.0

    def __call__(self, share: float, *, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - self.last < (0.2 if self.tty else PROGRESS_INTERVAL):
            return
        self.last = now
        done = round(share * self.total)
        line = f"imported {done:,} of {self.total:,} documents ({share:.0%})"
        if self.tty:
            self.stream.write(f"\r{line}", style_func=str, ending="\n" if final else "")
        else:
            self.stream.write(line, style_func=str)
        self.stream.flush()


class Command(WarrantCommand):
    help = (
        "Import .txt, .md, .html, .pdf, .docx, canonical .jsonl, brat .txt+.ann, "
        "CDCP .txt+.ann.json, "
        "arg-microtexts .txt+.xml, or a .zip of them. "
        "One import is atomic: on any error nothing is written. It runs in this process "
        "(not on the worker) and, for 1,000 documents or more, shows its progress on stderr."
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
        parser.add_argument("--quiet", action="store_true", help="no progress lines")

    def handle(self, *args, slug, paths, no_clean, add_labels, annotator, quiet, **options):
        project = get_project(slug)
        began = time.monotonic()
        records = read_paths(paths, clean=not no_clean)
        progress = None
        if not quiet and len(records) >= PROGRESS_MIN_DOCUMENTS:
            self.stderr.write(f"read {len(records):,} documents in "
                              f"{time.monotonic() - began:.1f} s; writing them in one "
                              "transaction (nothing is kept if one fails)", style_func=str)
            progress = _Progress(self.stderr, len(records))
        report = documents_import(
            project=project, records=records, add_labels=add_labels, annotator=annotator,
            progress=progress,
        )
        if progress is not None:
            progress(1.0, final=True)
        for line in report.lines():
            self.stdout.write(line)
