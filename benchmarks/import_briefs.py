"""Benchmark: import a 20-page PDF and a 50-page .docx (issue 17); a big JSONL as a job (issue 12).

    .venv/bin/python benchmarks/import_briefs.py                  # 20-page PDF, 50-page .docx
    .venv/bin/python benchmarks/import_briefs.py --pdf-pages 40 --docx-pages 100 --repeat 3
    PYTHONPATH=/path/to/pdfplumber .venv/bin/python benchmarks/import_briefs.py   # + pdfplumber
    .venv/bin/python benchmarks/import_briefs.py --jsonl-documents 100000  # the job, on a worker
    .venv/bin/python benchmarks/import_briefs.py --jsonl-documents 100000 --base /work/hNN-base

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

``--jsonl-documents N`` measures something else, the way production imports a big
upload: N briefs of 120 words (``tests/scale.py``'s prose; with
``--annotated``, each with one submitted set of 4 spans and 2 relations) in one
canonical JSONL, stored as an import job (``import_job_request``) on a fresh
PostgreSQL database (the server DATABASE_URL names, else postgres@127.0.0.1)
and imported by a real Celery worker (``celery -A config worker``, one
process, Redis database WARRANT_BENCH_IMPORT_REDIS_URL, default db 11). Printed:
the file's size, the job's wall time from the request to DONE, the progress the
page showed at each second's poll, and the worker process's peak resident
memory (VmHWM). ``--base DIR`` runs the same job with the worker on another
checkout (same schema), in the same session.

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


def build_jsonl(documents: int, *, annotated: bool) -> bytes:
    """``documents`` briefs of 120 words as canonical JSONL."""
    import json
    import random

    from tests.scale import brief_text

    rng = random.Random(0)
    lines = []
    for i in range(documents):
        text = f"Brief {i}.\n\n" + brief_text(rng, 120)
        record = {"id": f"brief-{i}", "title": f"Brief {i}", "text": text}
        if annotated:
            words = text.split(" ")[2:6]  # "Brief 7.\n\nfirst ..." : four words of prose
            spans, at = [], text.index(words[0])
            for k, word in enumerate(words):
                at = text.index(word, at)
                spans.append({"id": f"T{k}", "start": at, "end": at + len(word),
                              "label": ("Claim", "Reason")[k % 2]})
                at += len(word)
            record["annotations"] = [{
                "annotator": "student", "status": "submitted", "spans": spans,
                "relations": [{"id": "R1", "source": "T1", "target": "T0", "type": "supports"},
                              {"id": "R2", "source": "T3", "target": "T2", "type": "supports"}]}]
        lines.append(json.dumps(record))
    return ("\n".join(lines) + "\n").encode()


def _job_database() -> tuple[str, str]:
    """A fresh PostgreSQL database: (its URL, the admin URL that drops it)."""
    import os
    import urllib.parse
    import uuid

    import psycopg

    server = os.environ.get("DATABASE_URL", "")
    if not server.startswith(("postgres://", "postgresql://")):
        server = "postgres://postgres@127.0.0.1:5432/postgres"
    parts = urllib.parse.urlsplit(server)
    admin = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    name = f"warrant_bench_import_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return urllib.parse.urlunsplit(parts._replace(path=f"/{name}")), admin


def job_import(data: bytes, workers_code: list[tuple[str, Path]]) -> None:
    """Import ``data`` as a job on a real worker running each checkout's code in turn."""
    import os
    import uuid

    import psycopg

    url, admin = _job_database()
    media = tempfile.mkdtemp(prefix="warrant-bench-import-media-")
    os.environ.update(DATABASE_URL=url, MEDIA_ROOT=media, DEBUG="0", LOG_LEVEL="WARNING",
                      DJANGO_SETTINGS_MODULE="config.settings.local")
    redis = os.environ.get("WARRANT_BENCH_IMPORT_REDIS_URL", "redis://127.0.0.1:6379/11")
    os.environ.pop("REDIS_URL", None)
    os.environ["CELERY_BROKER_URL"] = redis
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from scale import _broker, _children, _flush, _start_worker, _worker_peak_mib

    from annotator.formats.schema import load_schema
    from annotator.models import Document, ImportJob
    from annotator.services.import_jobs import import_job_request
    from annotator.services.projects import project_create

    try:
        for label, code in workers_code:
            project = project_create(slug=f"import-{uuid.uuid4().hex[:6]}", name=label,
                                     schema=load_schema("argument"))
            _flush(redis)
            env = {**os.environ, "PYTHONPATH": str(code)}
            with tempfile.TemporaryDirectory() as tmp, _broker(redis, "celery"):
                worker = _start_worker(env, "celery", Path(tmp) / "worker.log", cwd=code)
                try:
                    began = time.perf_counter()
                    job = import_job_request(project=project, files=[("briefs.jsonl", data)])
                    seen, peak = [], 0.0
                    while True:
                        time.sleep(1)
                        job.refresh_from_db()
                        seen.append(round(job.progress * 100))
                        pools = _children(worker.pid)
                        peak = max(peak, _worker_peak_mib(pools))
                        if job.status in ("done", "failed"):
                            break
                    took = time.perf_counter() - began
                finally:
                    os.killpg(worker.pid, 15)
                    worker.wait(timeout=60)
            documents = Document.objects.filter(project=project).count()
            shown = sorted(set(seen))
            print(f"  {label}: {job.status} in {took:,.1f} s, {documents:,} documents, "
                  f"worker peak {peak:,.0f} MiB; progress shown: "
                  f"{shown[:12]}{' ...' if len(shown) > 12 else ''}"
                  + (f"; error: {job.error}" if job.error else ""), flush=True)
            assert ImportJob.objects.filter(pk=job.pk).exists()
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pdf-pages", type=int, default=20)
    parser.add_argument("--docx-pages", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--jsonl-documents", type=int,
                        help="instead: import this many briefs from one JSONL as a job")
    parser.add_argument("--annotated", action="store_true",
                        help="each brief with one submitted set of 4 spans and 2 relations")
    parser.add_argument("--base", type=Path, help="with --jsonl-documents: also run the "
                        "job on a worker of this checkout")
    args = parser.parse_args(argv)
    if args.jsonl_documents:
        import os

        sys.path.insert(0, str(ROOT))
        data = build_jsonl(args.jsonl_documents, annotated=args.annotated)
        print(f"JSONL: {args.jsonl_documents:,} briefs of 120 words"
              f"{', annotated' if args.annotated else ''}, {len(data) / 1e6:,.1f} MB; "
              f"load averages {os.getloadavg()}", flush=True)
        trees = [("this", ROOT)] + ([("base", args.base.resolve())] if args.base else [])
        job_import(data, trees)
        print(f"load averages {os.getloadavg()}")
        return
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
