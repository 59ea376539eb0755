"""Benchmark: export a generated project in every format, at two sizes.

    .venv/bin/python benchmarks/export_formats.py                    # 1,000 then 5,000 briefs
    .venv/bin/python benchmarks/export_formats.py --documents 200 --large 0
    .venv/bin/python benchmarks/export_formats.py --formats jsonl csv

A project of N briefs x 3 annotators x ~40 spans and ~20 relations each is
written with ``bulk_create`` into a fresh SQLite file in a temporary folder
(``generate_project`` of ``benchmarks/agreement_run.py``; DATABASE_URL may
name PostgreSQL instead). Then each format is exported by
``services.exports.export_write`` exactly as an export job does it (the
multi-file formats as a zip), each in a fresh process, so that the peak memory
(``ru_maxrss``) is the export's own. Printed per format: wall time, spans per
second, file size, the peak RSS of the process and its growth during the
export. The same at a second size shows that memory stays flat: exports stream.

Reference (issue 6): Label Studio 1.23 on this machine exports 200 such briefs
(24,000 spans) as JSON in about 1.0 s (24,000 spans/s) and as CoNLL in 6.4 s
(3,750 spans/s). Target: JSONL at least 5x faster per span (120,000 spans/s).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FORMATS = ("jsonl", "csv", "hf", "brat", "conll", "aif")
#: Label Studio's figures on this machine (issue 6), in spans per second.
LABEL_STUDIO_SPANS_PER_S = {"jsonl": 24_000 / 1.0, "conll": 24_000 / 6.4}
TARGET_JSONL_FACTOR = 5
WORDS_PER_BRIEF = 800


def _rss_mib() -> float:
    """Peak resident memory of this process, MiB.

    ``VmHWM`` of /proc, not ``ru_maxrss``: Linux carries ``ru_maxrss`` over
    ``fork`` + ``exec``, so a child would report its parent's (the data
    generator's) peak.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _setup(tmp_dir: str) -> None:
    sys.path.insert(0, str(ROOT))
    if not os.environ.get("DATABASE_URL"):
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp_dir}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ.setdefault("WARRANT_DATA_DIR", tmp_dir)
    # DEBUG would keep every query's SQL in memory and blur the peak.
    os.environ["DEBUG"] = "0"
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ.pop("CELERY_BROKER_URL", None)
    os.environ.pop("REDIS_URL", None)

    import django

    django.setup()


def export_once(slug: str, fmt: str, out_dir: str) -> dict:
    """Export one project in one format (in a fresh process); time, size, memory."""
    from annotator.models import Project
    from annotator.services.exports import EXPORT_FORMATS, export_write

    project = Project.objects.get(slug=slug)
    spec = EXPORT_FORMATS[fmt]
    path = Path(out_dir) / f"{slug}-{fmt}{spec.suffix}"
    if fmt == "hf":
        import pyarrow.parquet  # noqa: F401 (a library of ~100 MiB, not the export's data)
    rss_before = _rss_mib()
    clock, cpu_clock = time.perf_counter(), time.process_time()
    summary = export_write(project=project, format=fmt, path=path, scope="both")
    wall = time.perf_counter() - clock
    # CPU time too: on a shared 2-core machine wall time also counts other processes.
    cpu = time.process_time() - cpu_clock
    result = {
        "format": fmt,
        "documents": summary.documents,
        "spans": summary.spans,
        "relations": summary.relations,
        "wall_s": wall,
        "spans_per_s": summary.spans / wall if wall else 0.0,
        "cpu_s": cpu,
        "spans_per_cpu_s": summary.spans / cpu if cpu else 0.0,
        "size_mib": path.stat().st_size / 2**20,
        "peak_rss_mib": _rss_mib(),
        "rss_before_mib": rss_before,
    }
    path.unlink()
    return result


def bench(documents: int, formats, out_dir: str) -> list[dict]:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from agreement_run import generate_project

    slug = f"export-{documents}"
    clock = time.perf_counter()
    generate_project(slug=slug, documents=documents, words=WORDS_PER_BRIEF)
    print(f"\n{documents:,} briefs generated in {time.perf_counter() - clock:.1f} s")
    results = []
    for fmt in formats:
        out = subprocess.run(
            [sys.executable, __file__, "--run", slug, "--format", fmt, "--out", out_dir],
            check=True,
            capture_output=True,
            text=True,
            env=os.environ.copy(),
        )
        result = json.loads(out.stdout.strip().splitlines()[-1])
        results.append(result)
        _print_row(result)
    return results


def _print_header() -> None:
    print(
        f"  {'format':<7}{'wall':>9}{'spans/s':>11}{'CPU':>9}{'spans/CPU s':>13}{'size':>10}"
        f"{'peak RSS':>11}{'growth':>9}"
    )


def _print_row(r: dict) -> None:
    print(
        f"  {r['format']:<7}{r['wall_s']:>8.2f}s{r['spans_per_s']:>11,.0f}"
        f"{r['cpu_s']:>8.2f}s{r['spans_per_cpu_s']:>13,.0f}"
        f"{r['size_mib']:>7.1f}MiB{r['peak_rss_mib']:>8.0f}MiB"
        f"{r['peak_rss_mib'] - r['rss_before_mib']:>6.0f}MiB"
    )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=1000)
    parser.add_argument("--large", type=int, default=5000, help="second size (0: none)")
    parser.add_argument("--formats", nargs="+", default=list(FORMATS), choices=FORMATS)
    parser.add_argument("--run", metavar="SLUG", help=argparse.SUPPRESS)
    parser.add_argument("--format", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.run:  # the child process: one export of an existing project
        _setup(os.environ["WARRANT_DATA_DIR"])
        print(json.dumps(export_once(args.run, args.format, args.out)))
        return

    with tempfile.TemporaryDirectory(prefix="warrant-export-bench-") as tmp:
        _setup(tmp)
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        print(f"database: {os.environ['DATABASE_URL'].split('@')[-1]}")
        all_results = {}
        for size in [args.documents] + ([args.large] if args.large else []):
            print(f"{size:,} briefs x 3 annotators:")
            _print_header()
            all_results[size] = bench(size, args.formats, tmp)
        for size, results in all_results.items():
            for r in results:
                reference = LABEL_STUDIO_SPANS_PER_S.get(r["format"])
                if reference:
                    print(
                        f"{size:,} briefs, {r['format']}: {r['spans_per_s']:,.0f} spans/s wall "
                        f"({r['spans_per_cpu_s']:,.0f} per CPU second) = "
                        f"{r['spans_per_s'] / reference:.1f}x Label Studio's "
                        f"{reference:,.0f} spans/s"
                        + (f" (target {TARGET_JSONL_FACTOR}x)" if r["format"] == "jsonl" else "")
                    )
        if len(all_results) == 2:
            small, large = all_results.values()
            print("peak RSS, small -> large: " + ", ".join(
                f"{a['format']} {a['peak_rss_mib']:.0f}->{b['peak_rss_mib']:.0f} MiB"
                for a, b in zip(small, large, strict=True)
            ))


if __name__ == "__main__":
    main()
