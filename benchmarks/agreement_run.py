"""Benchmark: a full agreement run through the service, on a generated project.

    .venv/bin/python benchmarks/agreement_run.py                 # 1,000 then 10,000 briefs
    .venv/bin/python benchmarks/agreement_run.py --documents 1000 --no-large
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/warrant_bench \\
        .venv/bin/python benchmarks/agreement_run.py

A project of N briefs x 3 annotators x ~40 spans and ~20 relations each is
written with ``bulk_create`` into a fresh database (an SQLite file in a
temporary folder unless DATABASE_URL names PostgreSQL), then one run goes
through ``agreement_run_request`` + ``agreement_run_execute`` exactly as the
worker runs it. Printed: the time of each phase as the run row records it
(load, report, intervals, save), each metric's share of the report phase (the
report recomputed with one metric family at a time is not possible, so the
shares come from profiling ``build_report``), and the peak memory (RSS) of
the process.

``generate_project`` is also used by the worker tests for a project large
enough to kill a worker in the middle of its run.

Targets (issue 4): 1,000 briefs in under 10 s and 1 GiB on 2 cores, cost linear
in briefs.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_WORD_LIST = (
    "sanctions tariffs exports imports growth prices policy government reform evidence "
    "report study data shows because therefore however although inflation trade market "
    "countries regime pressure effective costly households firms banks oil gas currency "
    "the a of to and in that is was for on with as by it not be are this have"
)
WORDS = tuple(_WORD_LIST.split())
LABELS = ("MajorClaim", "Claim", "Reason", "Evidence")
RELATION_TYPES = ("supports", "attacks", "evidence_for")


def _text(rng: random.Random, n_words: int) -> str:
    sentences, words = [], 0
    while words < n_words:
        length = rng.randint(8, 24)
        sentence = " ".join(rng.choice(WORDS) for _ in range(length))
        sentences.append(sentence[0].upper() + sentence[1:] + ".")
        words += length
    paragraphs = [" ".join(sentences[i : i + 5]) for i in range(0, len(sentences), 5)]
    return "\n\n".join(paragraphs) + "\n"


def _token_bounds(text: str) -> list[tuple[int, int]]:
    import re

    return [m.span() for m in re.finditer(r"\S+", text)]


def _reference(rng: random.Random, tokens, n_spans: int, n_relations: int):
    """A 'true' annotation: n_spans token-aligned spans that do not overlap, and relations."""
    slots = len(tokens) // n_spans
    spans = []
    for k in range(n_spans):
        first = k * slots + rng.randint(0, max(0, slots // 3))
        length = rng.randint(2, max(2, slots // 2))
        last = min(first + length, (k + 1) * slots) - 1
        spans.append([first, max(first, last), rng.choice(LABELS)])
    pairs = set()
    while len(pairs) < n_relations:
        a, b = rng.randrange(n_spans), rng.randrange(n_spans)
        if a != b:
            pairs.add((a, b, rng.choice(RELATION_TYPES)))
    return spans, sorted(pairs)


def _perturb(rng: random.Random, reference, n_tokens: int, agreement: float):
    """One annotator's version of the reference: kept, moved by a token, relabelled or not."""
    spans, kept = [], {}
    for k, (first, last, label) in enumerate(reference):
        roll = rng.random()
        if roll < agreement:
            pass
        elif roll < agreement + (1 - agreement) * 0.4:
            first = min(max(0, first + rng.choice((-1, 1))), last)
        elif roll < agreement + (1 - agreement) * 0.8:
            label = rng.choice(LABELS)
        else:
            continue
        kept[k] = len(spans)
        spans.append((first, min(last, n_tokens - 1), label))
    return spans, kept


def generate_project(
    *,
    slug: str,
    documents: int,
    annotators: int = 3,
    spans: int = 40,
    relations: int = 20,
    words: int = 600,
    agreement: float = 0.7,
    seed: int = 0,
    batch_size: int = 5000,
):
    """Create a project with submitted annotation sets, quickly (bulk_create).

    Every annotator of the project annotates every document: ``spans`` spans
    that perturb a common reference (``agreement`` of them kept as they are,
    the rest moved by one token, relabelled or dropped) and the reference's
    ``relations`` between the spans they kept. Returns the project.
    """
    from django.contrib.auth import get_user_model

    from annotator.formats.schema import load_schema
    from annotator.models import (
        AnnotationSet,
        AnnotationStatus,
        Document,
        Membership,
        Relation,
        RelationType,
        Role,
        Span,
        SpanLabel,
    )
    from annotator.services.imports import content_hash
    from annotator.services.projects import project_create

    rng = random.Random(seed)
    project = project_create(slug=slug, name=f"Benchmark {slug}", schema=load_schema("argument"))
    User = get_user_model()
    users = []
    for k in range(annotators):
        user, _ = User.objects.get_or_create(username=f"{slug}-annotator-{k + 1}")
        users.append(user)
    Membership.objects.bulk_create(
        [Membership(project=project, user=u, role=Role.ANNOTATOR) for u in users]
    )
    label_ids = dict(SpanLabel.objects.filter(project=project).values_list("name", "id"))
    type_ids = dict(RelationType.objects.filter(project=project).values_list("name", "id"))

    for begin in range(0, documents, 500):
        count = min(500, documents - begin)
        texts = []
        for i in range(begin, begin + count):
            texts.append(f"Brief {i}.\n\n" + _text(rng, words))
        docs = Document.objects.bulk_create(
            [
                Document(
                    project=project,
                    external_id=f"brief-{i}",
                    title=f"Brief {i}",
                    text=text,
                    content_hash=content_hash(text),
                    original=text.encode(),
                    source_format="text",
                    position=i,
                )
                for i, text in zip(range(begin, begin + count), texts, strict=True)
            ],
            batch_size=batch_size,
        )
        now_sets = AnnotationSet.objects.bulk_create(
            [
                AnnotationSet(
                    document=doc, annotator=u, status=AnnotationStatus.SUBMITTED, version=1
                )
                for doc in docs
                for u in users
            ],
            batch_size=batch_size,
        )
        span_rows, plans = [], []
        for d, doc in enumerate(docs):
            tokens = _token_bounds(doc.text)
            reference, ref_relations = _reference(rng, tokens, spans, relations)
            for a in range(annotators):
                aset = now_sets[d * annotators + a]
                mine, kept = _perturb(rng, reference, len(tokens), agreement)
                first_index = len(span_rows)
                for first, last, label in mine:
                    span_rows.append(
                        Span(
                            annotation_set=aset,
                            label_id=label_ids[label],
                            start=tokens[first][0],
                            end=tokens[last][1],
                        )
                    )
                plans.append((aset, first_index, kept, ref_relations))
        created = Span.objects.bulk_create(span_rows, batch_size=batch_size)
        relation_rows = []
        for aset, first_index, kept, ref_relations in plans:
            for src, tgt, rel_type in ref_relations:
                if src in kept and tgt in kept:
                    relation_rows.append(
                        Relation(
                            annotation_set=aset,
                            source_id=created[first_index + kept[src]].pk,
                            target_id=created[first_index + kept[tgt]].pk,
                            type_id=type_ids[rel_type],
                        )
                    )
        Relation.objects.bulk_create(relation_rows, batch_size=batch_size)
    return project


def _peak_rss_mib() -> float:
    """Peak resident memory of this process, MiB.

    Linux's VmHWM belongs to this program image; ``ru_maxrss`` would carry over
    the peak of the parent that forked it (the data generator).
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _cpu_seconds() -> float:
    """CPU time of this process (user + system): less disturbed than wall time by other load."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _metric_shares(documents, unit: str) -> dict[str, float]:
    """Share of build_report's time spent in each metric's module (cProfile, cumulative)."""
    import cProfile
    import pstats

    from annotator.metrics.report import build_report

    profiler = cProfile.Profile()
    profiler.enable()
    build_report("bench", documents, unit=unit)
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = stats.total_tt or 1.0
    shares: dict[str, float] = {}
    for (filename, _line, _name), (_cc, _nc, tt, _ct, _callers) in stats.stats.items():
        if "annotator/metrics/" in filename:
            module = Path(filename).stem
        elif "numpy" in filename or "scipy" in filename:
            module = "numpy/scipy Python code"
        elif filename == "~":
            module = "built-ins (numpy C functions, list and dict operations)"
        else:
            module = "other (standard library)"
        shares[module] = shares.get(module, 0.0) + tt
    return {k: v / total for k, v in sorted(shares.items(), key=lambda kv: -kv[1])}


def run_once(slug: str, *, shares: bool = True) -> dict:
    """One run of an existing project, as the worker does it; timings and peak memory.

    Called in a fresh process (``--run SLUG``) so that the peak RSS is the
    run's, not the data generator's.
    """
    from django.db import connection

    from annotator.models import AgreementRun, Project, Relation, Span
    from annotator.selectors.agreement import agreement_data
    from annotator.services.agreement import agreement_run_execute, agreement_run_request

    project = Project.objects.get(slug=slug)
    documents = project.documents.count()
    spans = Span.objects.filter(annotation_set__document__project=project).count()
    relations = Relation.objects.filter(annotation_set__document__project=project).count()
    rss_before = _peak_rss_mib()
    cpu_before = _cpu_seconds()
    clock = time.perf_counter()
    run = agreement_run_request(project=project, unit="token")
    run = agreement_run_execute(run_id=run.pk)  # a no-op if the embedded mode ran it already
    wall = time.perf_counter() - clock
    cpu = _cpu_seconds() - cpu_before
    peak = _peak_rss_mib()
    run = AgreementRun.objects.get(pk=run.pk)
    if run.status != "done":
        raise SystemExit(f"run failed: {run.error}")
    result = {
        "documents": documents,
        "spans": spans,
        "relations": relations,
        "database": connection.vendor,
        "run_wall_s": wall,
        "run_cpu_s": cpu,
        "timings": run.timings,
        "peak_rss_mib": peak,
        "rss_before_run_mib": rss_before,
        "report_json_mib": len(json.dumps(run.report)) / 2**20,
    }
    if shares:
        data = agreement_data(project=project)
        result["metric_shares"] = _metric_shares(data.documents, "token")
    return result


def bench(documents: int, *, seed: int = 0) -> dict:
    slug = f"bench-{documents}-{int(time.time())}"
    clock = time.perf_counter()
    generate_project(slug=slug, documents=documents, seed=seed)
    generated = time.perf_counter() - clock
    out = subprocess.run(
        [sys.executable, __file__, "--run", slug],
        check=True,
        capture_output=True,
        text=True,
        env=os.environ.copy(),
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["generate_s"] = generated
    return result


def _print(result: dict) -> None:
    t = result["timings"]
    print(
        f"\n{result['documents']:,} briefs, {result['spans']:,} spans, "
        f"{result['relations']:,} relations ({result['database']}); generated in "
        f"{result['generate_s']:.1f} s"
    )
    print(
        f"  run: {result['run_wall_s']:.2f} s wall ({result['run_cpu_s']:.2f} s CPU) = "
        f"load {t['load']:.2f} s + report "
        f"{t['report']:.2f} s + bootstrap intervals {t['intervals']:.2f} s + save "
        f"{t['save']:.2f} s"
    )
    print(
        f"  peak RSS of the run's process {result['peak_rss_mib']:.0f} MiB "
        f"(before the run {result['rss_before_run_mib']:.0f} MiB); "
        f"report JSON {result['report_json_mib']:.1f} MiB"
    )
    if "metric_shares" in result:
        parts = ", ".join(f"{k} {v:.0%}" for k, v in result["metric_shares"].items() if v >= 0.01)
        print(f"  report time by module (self time): {parts}")


def _setup(tmp_dir: str) -> None:
    root = Path(__file__).resolve().parents[1]
    sys.path.insert(0, str(root))
    if not os.environ.get("DATABASE_URL"):
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp_dir}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ.setdefault("WARRANT_DATA_DIR", tmp_dir)
    os.environ["LOG_LEVEL"] = "WARNING"
    # The run is timed in this process, as the embedded mode runs it.
    os.environ.pop("CELERY_BROKER_URL", None)
    os.environ.pop("REDIS_URL", None)

    import django

    django.setup()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=1000)
    parser.add_argument("--large", type=int, default=10_000, help="second size (0: none)")
    parser.add_argument("--no-large", action="store_true")
    parser.add_argument("--run", metavar="SLUG", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.run:  # the child process: time one run of an existing project
        _setup(os.environ.get("WARRANT_DATA_DIR", tempfile.gettempdir()))
        print(json.dumps(run_once(args.run)))
        return

    with tempfile.TemporaryDirectory(prefix="warrant-bench-") as tmp:
        _setup(tmp)
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        print(f"database: {os.environ['DATABASE_URL'].split('@')[-1]}")
        sizes = [args.documents] + ([] if args.no_large or not args.large else [args.large])
        for size in sizes:
            _print(bench(size))


if __name__ == "__main__":
    main()
