"""Benchmark: suggestion speed (issue 16, point 5).

    .venv/bin/python benchmarks/suggestions.py [--briefs 1000] [--rounds 20]

Targets: suggestions for a 2,000-word brief in under 200 ms; training on 1,000
briefs in under 60 s on one worker (one process, as a Celery worker's pool child
trains). Both are measured on the recommenders themselves (annotator/suggest, no
Django, no database): what a request adds around them is a fixed number of small
queries (tests/services/test_suggestions.py counts them).

What is measured, on made-up briefs with their annotation (tests/suggestion_briefs.py):

* suggestions for one 2,000-word brief (36 numbered reasons, 108 pieces of
  evidence): the structure cues alone, the trained model alone (CRF spans, then
  the pair classifier over them), and both with ``combine`` as a set's page asks
  for them; the median and the slowest of ``--rounds`` rounds;
* training on ``--briefs`` briefs of about 200 words (4 reasons, 8 pieces of
  evidence, 13 spans, 12 relations each): reading them, the CRF's 60 L-BFGS
  iterations, and the relation classifier; the wall time of one ``train_model``
  call, as the training job runs it (it trains twice when it holds documents out
  for its figures: both times are given);
* the model's size, which the job row stores.

The machine is shared and noisy: each figure is also given as a share of its target.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from annotator.formats.schema import load_schema  # noqa: E402
from annotator.suggest.combine import combine  # noqa: E402
from annotator.suggest.cues import CueRecommender  # noqa: E402
from annotator.suggest.learned import train_model  # noqa: E402
from annotator.suggest.types import AnnotatedDocument, Endpoint  # noqa: E402
from tests.suggestion_briefs import brief_of_words, make_brief  # noqa: E402

SUGGEST_TARGET_MS = 200
TRAIN_TARGET_S = 60


def _doc(brief, group):
    return AnnotatedDocument(brief.text, tuple(Endpoint(*s) for s in brief.spans),
                             tuple(brief.relations), group)


def _timed(call, rounds: int) -> tuple[float, float]:
    times = []
    for _ in range(rounds):
        began = time.perf_counter()
        call()
        times.append(1000 * (time.perf_counter() - began))
    return statistics.median(times), max(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--briefs", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    schema = load_schema("argument")

    print(f"Training on {args.briefs} briefs ...", flush=True)
    docs = [_doc(make_brief(seed), f"b{seed}") for seed in range(args.briefs)]
    words = sum(len(d.text.split()) for d in docs)
    began = time.perf_counter()
    model, report = train_model(docs, schema)
    train_s = time.perf_counter() - began
    held = max(1, round(0.2 * args.briefs))
    began = time.perf_counter()
    train_model(docs[held:], schema)
    train_80_s = time.perf_counter() - began
    size = len(model.to_bytes())

    brief = brief_of_words(12345, 2000)
    text = brief.text
    cues = CueRecommender()
    model.suggest(text, schema)  # the first call opens the tagger
    cue_ms = _timed(lambda: cues.suggest(text, schema), args.rounds)
    model_ms = _timed(lambda: model.suggest(text, schema), args.rounds)
    both_ms = _timed(lambda: combine([cues.suggest(text, schema), model.suggest(text, schema)]),
                     args.rounds)
    found = combine([cues.suggest(text, schema), model.suggest(text, schema)])

    print()
    print(f"{'measure':<58} {'value':>12} {'of target':>10}")
    rows = [
        (f"suggest, 2,000-word brief ({len(text.split())} words), cues: median / max",
         cue_ms, SUGGEST_TARGET_MS, "ms"),
        ("suggest, same brief, model: median / max", model_ms, SUGGEST_TARGET_MS, "ms"),
        ("suggest, same brief, cues + model combined: median / max", both_ms,
         SUGGEST_TARGET_MS, "ms"),
    ]
    for name, (median, worst), target, unit in rows:
        print(f"{name:<58} {median:>7.1f}/{worst:<5.0f}{unit} {median / target:>9.0%}")
    print(f"{'train, ' + str(args.briefs) + ' briefs (' + format(words, ',') + ' words)':<58} "
          f"{train_s:>10.1f} s {train_s / TRAIN_TARGET_S:>9.0%}")
    print(f"{'train, 80% of them (the held-out model of a job)':<58} {train_80_s:>10.1f} s "
          f"{train_80_s / TRAIN_TARGET_S:>9.0%}")
    print(f"{'a job that holds 20% out trains both: total':<58} "
          f"{train_s + train_80_s:>10.1f} s {(train_s + train_80_s) / TRAIN_TARGET_S:>9.0%}")
    print(f"{'model size':<58} {size / 1024:>9.0f} KiB")
    print(f"  {report.sequences:,} sequences, {report.tokens:,} tokens, {report.spans:,} spans, "
          f"{report.relation_pairs:,} span pairs; on the 2,000-word brief "
          f"{len(found.spans)} span and {len(found.relations)} relation suggestions "
          f"(its annotation: {len(brief.spans)} spans, {len(brief.relations)} relations)")


if __name__ == "__main__":
    main()
