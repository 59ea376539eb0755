"""Benchmark: import a 20-page PDF and a 50-page .docx (issue 17).

    .venv/bin/python benchmarks/import_briefs.py                  # 20-page PDF, 50-page .docx
    .venv/bin/python benchmarks/import_briefs.py --pdf-pages 40 --docx-pages 100 --repeat 3
    PYTHONPATH=/path/to/pdfplumber .venv/bin/python benchmarks/import_briefs.py   # + pdfplumber

The files are built with the tests' builders (tests/formats/brief_files.py): a
two-column brief with headings, lists, hyphenation, running headers, footers and
page numbers, laid out until it has the pages asked for; a .docx of the same
article repeated, with a table, footnotes and an endnote, at 500 words a page
(a page of 11 pt single-spaced text; Word counts pages only when it lays the
file out, so the page count of a .docx is an estimate by words).

Each file is imported the way the upload page does it: read (``read_upload``)
then written (``documents_import``) into a fresh project of a fresh SQLite file
(DATABASE_URL may name PostgreSQL instead), ``--repeat`` times; the median is
printed, in wall time and CPU time (the machine is shared: CPU time is steadier,
and the ratios are taken on it).
The first import in a process also loads the library (pypdfium2, python-docx):
that cost is printed apart, measured in a fresh process.

Reference in the same run: the PDF's own text as a ``.txt`` of the same words
(what a brief cost before PDF import), and, when pdfplumber can be imported, its
``extract_text`` on the same PDF (no layout analysis of ours, no database).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORDS_PER_DOCX_PAGE = 500
_PROJECTS = iter(range(10**9))


def _setup(tmp_dir: str) -> None:
    """Django on a fresh database (export_formats' setup), migrated."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from export_formats import _setup as django_setup

    django_setup(tmp_dir)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def build_pdf(pages: int):
    """The smallest copy of the brief with at least ``pages`` pages."""
    from tests.formats.brief_files import brief_article, two_column_pdf

    sections = max(1, int(pages / 0.66))
    while True:
        layout = two_column_pdf(brief_article(sections))
        layout.sections = sections
        if layout.pages >= pages:
            # Step back while still long enough (the estimate may overshoot).
            while sections > 1:
                shorter = two_column_pdf(brief_article(sections - 1))
                if shorter.pages < pages:
                    break
                layout, sections = shorter, sections - 1
                layout.sections = sections
            return layout
        sections += max(1, (pages - layout.pages) // 2)


def build_docx(pages: int) -> tuple[bytes, int]:
    from tests.formats.brief_files import ARTICLE, brief_article, brief_docx

    words_per_copy = sum(len(text.split()) for _, text in ARTICLE)
    sections = max(1, round(pages * WORDS_PER_DOCX_PAGE / words_per_copy))
    blocks = brief_article(sections)
    return brief_docx(blocks), sum(len(text.split()) for _, text in blocks)


def _time(function, repeat: int) -> tuple[float, float]:
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        function()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def import_timer(name: str, data: bytes, repeat: int):
    """Read and import ``data`` into a fresh project each time; (read, import) medians."""
    from annotator.formats.readers import read_upload
    from annotator.models import Project
    from annotator.services.imports import documents_import

    def read():
        return read_upload(name, data)

    def read_and_import():
        project = Project.objects.create(slug=f"bench-{next(_PROJECTS)}", name="bench")
        report = documents_import(project=project, records=read_upload(name, data))
        assert len(report.imported) == 1, report.lines()

    read()  # the library's first load is measured apart
    return _time(read, repeat), _time(read_and_import, repeat)


def library_load_seconds(module: str) -> float:
    """Time to import ``module`` in a fresh interpreter (what the first upload pays)."""
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def sentences_in_order(text: str, blocks: list[str]) -> float:
    """Share of the article's sentences found whole and in order in ``text`` (spaces
    and line ends alike): 1.0 when the reading order is right."""
    import re

    flat = " ".join(text.split())
    sentences = [" ".join(s.split()) for b in blocks for s in re.split(r"(?<=[.!?])\s+", b)]
    position = found = 0
    for sentence in sentences:
        at = flat.find(sentence, position)
        if at >= 0:
            found += 1
            position = at + len(sentence)
    return found / len(sentences)


def pdfplumber_run(data: bytes, repeat: int):
    """pdfplumber's ``extract_text`` on the PDF: its time, and its text."""
    try:
        import io

        import pdfplumber
    except ImportError:
        return None

    def extract():
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            return "\n".join(page.extract_text() or "" for page in pdf.pages)

    text = extract()
    return _time(extract, repeat), text


def _row(label: str, wall: float, cpu: float, per: str = "") -> None:
    print(f"  {label:<46}{wall * 1000:>9.0f} ms{cpu * 1000:>9.0f} ms CPU  {per}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pdf-pages", type=int, default=20)
    parser.add_argument("--docx-pages", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp_dir:
        _setup(tmp_dir)
        layout = build_pdf(args.pdf_pages)
        docx_data, docx_words = build_docx(args.docx_pages)
        from annotator.formats.readers import read_upload

        pdf_record = read_upload("brief.pdf", layout.data)[0]
        txt_data = pdf_record.text.encode("utf-8")
        print(f"PDF: {layout.pages} pages, {len(layout.data) / 1024:.0f} KiB, "
              f"{len(pdf_record.text.split()):,} words, "
              f"{pdf_record.cleaning.removed_lines} residue lines removed")
        print(f".docx: ~{docx_words / WORDS_PER_DOCX_PAGE:.0f} pages ({docx_words:,} words at "
              f"{WORDS_PER_DOCX_PAGE} a page), {len(docx_data) / 1024:.0f} KiB")
        print(f"median of {args.repeat}; wall and CPU time")

        (pdf_read, pdf_read_cpu), (pdf_import, pdf_import_cpu) = import_timer(
            "brief.pdf", layout.data, args.repeat)
        _, (txt_import, txt_import_cpu) = import_timer(
            "brief.txt", txt_data, args.repeat)
        (docx_read, docx_read_cpu), (docx_import, docx_import_cpu) = import_timer(
            "brief.docx", docx_data, args.repeat)
        docx_text = read_upload("brief.docx", docx_data)[0].text.encode("utf-8")
        _, (docx_txt_import, docx_txt_cpu) = import_timer("docx.txt", docx_text, args.repeat)
        from tests.formats.brief_files import BYLINE, SERIES, TITLE, brief_article

        expected = [SERIES, TITLE, BYLINE] + [t for _, t in brief_article(layout.sections)]

        _row(f"PDF read ({layout.pages} pages)", pdf_read, pdf_read_cpu,
             f"{pdf_read / layout.pages * 1000:.1f} ms a page")
        _row("PDF read + import (write to the database)", pdf_import, pdf_import_cpu)
        _row("same text as .txt: read + import", txt_import, txt_import_cpu,
             f"PDF/txt = {pdf_import_cpu / txt_import_cpu:.1f}x CPU")
        _row(f".docx read (~{args.docx_pages} pages)", docx_read, docx_read_cpu)
        _row(".docx read + import", docx_import, docx_import_cpu)
        _row("same text as .txt: read + import", docx_txt_import, docx_txt_cpu,
             f".docx/txt = {docx_import_cpu / docx_txt_cpu:.1f}x CPU")
        print(f"  sentences in reading order, ours: "
              f"{sentences_in_order(pdf_record.text, expected):.0%}")
        plumber = pdfplumber_run(layout.data, args.repeat)
        if plumber is None:
            print("  pdfplumber not importable: its comparison is left out")
        else:
            (plumber_wall, plumber_cpu), plumber_text = plumber
            _row("pdfplumber extract_text, same PDF (no import)", plumber_wall, plumber_cpu,
                 f"pdfplumber/ours (read) = {plumber_cpu / pdf_read_cpu:.1f}x CPU")
            print(f"  sentences in reading order, pdfplumber: "
                  f"{sentences_in_order(plumber_text, expected):.0%}")
        for module in ("pypdfium2", "docx"):
            seconds = library_load_seconds(module)
            print(f"  first upload of its kind also loads {module}: {seconds * 1000:.0f} ms")


if __name__ == "__main__":
    main()
