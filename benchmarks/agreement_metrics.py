"""Benchmark of the agreement engine (annotator.metrics) on generated projects.

Generates a project deterministically (seeded): documents of 1,000-2,000 words,
three annotators, about 40 spans and 20 relations each. The annotators agree
partially: they start from shared "true" spans, then each one jitters
boundaries, drops, relabels and adds spans, and keeps most relations.

Measures wall time, CPU time and peak memory allocated (tracemalloc) of
``agreement_figures`` (the report and its bootstrap intervals in one pass, as
an agreement run computes them), the time of each of its steps, and the share
of each metric in reading the documents (the metric's own function run over the
same documents); prints a table. With several ``--documents`` sizes it ends
with the ratio of each size's figures to the first's (cost linear in documents:
the ratio of times equals the ratio of sizes).

Usage::

    .venv/bin/python benchmarks/agreement_metrics.py --documents 1000
    .venv/bin/python benchmarks/agreement_metrics.py --documents 1000 10000 --repeat 1
    .venv/bin/python benchmarks/agreement_metrics.py --documents 10000 --no-bootstrap
"""

from __future__ import annotations

import argparse
import gc
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable
from itertools import combinations
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from annotator.metrics.relation_f1 import relation_keys, relation_match_counts
from annotator.metrics.report import _Corpus, _Resampling, agreement_figures, build_report
from annotator.metrics.span_f1 import span_match_counts
from annotator.metrics.types import (
    AnnotatorWork,
    DocumentAnnotations,
    Relation,
    Span,
)
from annotator.metrics.unitizing import section_sums
from annotator.metrics.units import label_masks, unit_bounds

LABELS = ("MajorClaim", "Claim", "Reason", "Evidence")
TYPES = ("supports", "attacks", "evidence_for")
ANNOTATORS = ("alice", "bob", "carol")
VOCABULARY = (
    "the", "policy", "brief", "argues", "that", "funding", "should", "increase", "because",
    "evidence", "from", "several", "regions", "shows", "measurable", "gains", "in", "outcomes",
    "however", "critics", "note", "costs", "and", "risks", "remain", "uncertain", "therefore",
    "we", "recommend", "a", "phased", "pilot", "with", "review",
)


def generate(n_documents: int, seed: int = 0) -> list[DocumentAnnotations]:
    """A deterministic project of ``n_documents`` documents."""
    rng = np.random.default_rng(seed)
    documents = []
    for d in range(n_documents):
        n_words = int(rng.integers(1000, 2001))
        words = rng.choice(VOCABULARY, size=n_words)
        breaks = rng.random(n_words) < 0.02
        seps = np.where(breaks, "\n\n", " ")
        lengths = np.char.str_len(words)
        starts = np.concatenate([[0], np.cumsum(lengths[:-1] + np.char.str_len(seps[:-1]))])
        ends = starts + lengths
        text = "".join(w + s for w, s in zip(words, seps, strict=True))[: int(ends[-1])]
        # 40 true spans of 3-30 words, non-overlapping, sorted.
        cut = np.sort(rng.choice(np.arange(1, n_words - 1), size=80, replace=False))
        true_spans = []
        for k in range(0, 80, 2):
            first, last = int(cut[k]), min(int(cut[k + 1]), int(cut[k]) + 30)
            true_spans.append((first, last, LABELS[int(rng.integers(len(LABELS)))]))
        true_relations = [
            (int(s), int(t), TYPES[int(rng.integers(len(TYPES)))])
            for s, t in rng.choice(40, size=(20, 2))
            if s != t
        ]
        work = {}
        for name in ANNOTATORS:
            spans, id_of = [], {}
            for k, (first, last, label) in enumerate(true_spans):
                if rng.random() < 0.1:  # dropped
                    continue
                if rng.random() < 0.3:  # boundary jitter by a word
                    first = int(np.clip(first + rng.integers(-1, 2), 0, n_words - 1))
                    last = int(np.clip(last + rng.integers(-1, 2), first, n_words - 1))
                if rng.random() < 0.1:  # relabelled
                    label = LABELS[int(rng.integers(len(LABELS)))]
                id_of[k] = f"T{len(spans) + 1}"
                spans.append(Span(id_of[k], int(starts[first]), int(ends[last]), label))
            for _ in range(int(rng.integers(0, 4))):  # extra spans
                first = int(rng.integers(0, n_words - 10))
                last = first + int(rng.integers(0, 10))
                label = LABELS[int(rng.integers(len(LABELS)))]
                spans.append(Span(f"T{len(spans) + 1}", int(starts[first]), int(ends[last]), label))
            relations = [
                Relation(id_of[s], id_of[t], typ)
                for s, t, typ in true_relations
                if s in id_of and t in id_of and rng.random() < 0.85
            ]
            work[name] = AnnotatorWork(spans, relations)
        documents.append(DocumentAnnotations(f"doc-{d}", text, work))
    return documents


def measure(fn: Callable[[], object]) -> tuple[float, float, float]:
    """(seconds, CPU seconds, peak MiB allocated during the call) of ``fn``.

    Timed on plain runs (the best of REPEAT; CPU time is the process's, BLAS
    threads included, and does not grow when the machine is shared); the peak
    comes from one more run under tracemalloc (which slows Python down, so it
    is not timed). NumPy reports its buffers to tracemalloc, so the peak
    includes the arrays.
    """
    seconds, cpu = timed(fn)
    gc.collect()
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return seconds, cpu, peak / 2**20


#: Timings take the best of this many runs: the machine may be shared.
REPEAT = 3


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    """(best wall seconds, CPU seconds of that run) over REPEAT runs of ``fn``."""
    best = (float("inf"), float("inf"))
    for _ in range(REPEAT):
        gc.collect()
        began, cpu = time.perf_counter(), time.process_time()
        fn()
        best = min(best, (time.perf_counter() - began, time.process_time() - cpu))
    return best


def _units_only(documents):
    labels = {label: k for k, label in enumerate(LABELS)}
    for doc in documents:
        starts, ends = unit_bounds(doc.text)
        for work in doc.work.values():
            label_masks(starts, ends, np.array([s.start for s in work.spans]),
                        np.array([s.end for s in work.spans]),
                        np.array([labels[s.label] for s in work.spans]))


def _span_f1_only(documents):
    labels = {label: k for k, label in enumerate(LABELS)}
    for doc in documents:
        arrays = [
            (np.array([s.start for s in w.spans]), np.array([s.end for s in w.spans]),
             np.array([labels[s.label] for s in w.spans]))
            for w in doc.work.values()
        ]
        for a, b in combinations(arrays, 2):
            span_match_counts(a, b, len(LABELS))


def _relation_f1_only(documents):
    for doc in documents:
        keys = [relation_keys(w) for w in doc.work.values()]
        for a, b in combinations(keys, 2):
            relation_match_counts(a, b)


def _unitizing_only(documents):
    labels = {label: k for k, label in enumerate(LABELS)}
    sec, rat, beg, fin = [], [], [], []
    for d, doc in enumerate(documents):
        for r, work in enumerate(doc.work.values()):
            for s in work.spans:
                sec.append(d * len(LABELS) + labels[s.label])
                rat.append(r)
                beg.append(s.start)
                fin.append(s.end)
    lengths = np.repeat([len(doc.text) for doc in documents], len(LABELS))
    section_sums(np.array(sec), np.array(rat), np.array(beg), np.array(fin),
                 section_length=lengths, section_raters=np.full(len(lengths), len(ANNOTATORS)))


def run(n_documents: int, args: argparse.Namespace) -> dict[str, float]:
    """Benchmark one project size; print its table; return its totals."""
    began = time.perf_counter()
    documents = generate(n_documents)
    n_spans = sum(len(w.spans) for d in documents for w in d.work.values())
    n_rel = sum(len(w.relations) for d in documents for w in d.work.values())
    n_chars = sum(len(d.text) for d in documents)
    print(f"\ngenerated {n_documents} documents, {n_chars / 1e6:.1f}M characters, "
          f"{n_spans} spans, {n_rel} relations in {time.perf_counter() - began:.1f} s")
    rss_documents = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    if args.no_bootstrap:
        title = "build_report (total)"
        seconds, cpu, peak = measure(lambda: build_report("bench", documents, unit=args.unit))
    else:
        title = f"agreement_figures ({args.resamples} resamples)"
        seconds, cpu, peak = measure(lambda: agreement_figures(
            "bench", documents, unit=args.unit, n_resamples=args.resamples))
    rows = [(title, seconds, cpu, peak)]
    corpus = _Corpus.read(documents, unit=args.unit, annotators=None)
    parts = [
        ("  read documents into sums", lambda: _Corpus.read(documents, unit=args.unit,
                                                            annotators=None)),
        ("  figures (overall + by_document)", lambda: corpus.report("bench", args.unit)),
    ]
    if not args.no_bootstrap:
        resampling = _Resampling(corpus)
        parts += [
            ("  bootstrap: per-document stats", lambda: _Resampling(corpus)),
            ("  bootstrap: resamples", lambda: resampling.intervals(
                args.resamples, seed=0, confidence=0.95)),
        ]
    parts += [
        ("  reading, measured alone:", lambda: None),
        ("    units + categories", lambda: _units_only(documents)),
        ("    span F1 matching", lambda: _span_f1_only(documents)),
        ("    relation F1", lambda: _relation_f1_only(documents)),
        ("    unitizing sums", lambda: _unitizing_only(documents)),
    ]
    for name, fn in parts:
        rows.append((name, *timed(fn), None))
    print(f"\n{'step':<36}{'seconds':>9}{'CPU s':>8}{'share':>8}{'peak MiB':>10}")
    for name, secs, cpu_secs, mib in rows:
        if name.endswith(":"):
            print(name)
            continue
        share = f"{100 * secs / seconds:6.0f}%" if name.startswith("  ") else ""
        mem = f"{mib:10.0f}" if mib is not None else ""
        print(f"{name:<36}{secs:9.2f}{cpu_secs:8.2f}{share:>8}{mem}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nprocess max RSS: {rss:.0f} MiB (after generating the documents: "
          f"{rss_documents:.0f} MiB)")
    return {"documents": n_documents, "seconds": seconds, "cpu": cpu, "peak": peak}


def main(argv: list[str] | None = None) -> None:
    global REPEAT
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, nargs="+", default=[1000])
    parser.add_argument("--unit", choices=("token", "char"), default="token")
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--no-bootstrap", action="store_true",
                        help="time build_report alone, without intervals")
    parser.add_argument("--repeat", type=int, default=3, help="best of N timed runs")
    args = parser.parse_args(argv)
    REPEAT = args.repeat

    totals = [run(n, args) for n in args.documents]
    if len(totals) > 1:
        first = totals[0]
        print(f"\n{'documents':>10}{'seconds':>9}{'CPU s':>8}{'peak MiB':>10}"
              f"{'x docs':>8}{'x time':>8}{'x CPU':>7}{'x peak':>8}")
        for t in totals:
            print(f"{t['documents']:>10}{t['seconds']:9.2f}{t['cpu']:8.2f}{t['peak']:10.0f}"
                  f"{t['documents'] / first['documents']:8.1f}"
                  f"{t['seconds'] / first['seconds']:8.1f}{t['cpu'] / first['cpu']:7.1f}"
                  f"{t['peak'] / first['peak']:8.1f}")


if __name__ == "__main__":
    main()
