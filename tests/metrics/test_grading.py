"""Span feedback against the gold, checked against a brute-force count."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from annotator.metrics.grading import OUTCOMES, span_feedback
from annotator.metrics.types import Span


def brute_force_counts(student: list[Span], gold: list[Span]) -> dict[str, int]:
    """Try every one-to-one pairing; keep the best (most exact, then most boundary-off).

    Independent of the module: no matching algorithm, no arrays, only the
    definitions (exact: same start, end, label; boundary-off: same label and a
    shared character, not exact).
    """

    def kind(s: Span, g: Span) -> str | None:
        if s.label != g.label:
            return None
        if (s.start, s.end) == (g.start, g.end):
            return "exact"
        if min(s.end, g.end) > max(s.start, g.start):
            return "boundary_off"
        return None

    best = (0, 0)
    n, m = len(student), len(gold)
    # Each student span picks a distinct gold span or nothing (None).
    for choice in itertools.product([None, *range(m)], repeat=n):
        used = [c for c in choice if c is not None]
        if len(used) != len(set(used)):
            continue
        kinds = [kind(student[i], gold[c]) for i, c in enumerate(choice) if c is not None]
        if None in kinds:
            continue
        score = (kinds.count("exact"), kinds.count("boundary_off"))
        best = max(best, score)
    exact, off = best
    return {"exact": exact, "boundary_off": off, "extra": n - exact - off,
            "missed": m - exact - off}


def random_spans(rng, prefix: str, n: int, length: int = 30) -> list[Span]:
    spans = []
    for k in range(n):
        start = int(rng.integers(0, length - 1))
        end = int(rng.integers(start + 1, min(length, start + 8) + 1))
        spans.append(Span(f"{prefix}{k}", start, end, str(rng.choice(["Claim", "Reason"]))))
    return spans


@pytest.mark.parametrize("seed", range(150))
def test_counts_equal_the_brute_force_best_pairing(seed):
    rng = np.random.default_rng(seed)
    gold = random_spans(rng, "g", int(rng.integers(0, 6)))
    # Students copy some gold spans, shift some, and add their own.
    student = []
    for k, g in enumerate(gold):
        roll = rng.random()
        if roll < 0.35:
            student.append(Span(f"s{k}", g.start, g.end, g.label))
        elif roll < 0.6:
            student.append(Span(f"s{k}", g.start, g.end + 1, g.label))
    student += random_spans(rng, "x", int(rng.integers(0, 3)))
    student = student[:5]
    feedback = span_feedback(student, gold)
    assert feedback.counts() == brute_force_counts(student, gold)


def test_every_span_gets_one_class_and_the_totals_add_up():
    rng = np.random.default_rng(7)
    gold = random_spans(rng, "g", 6)
    student = random_spans(rng, "s", 6)
    fb = span_feedback(student, gold)
    assert set(fb.student) == {s.id for s in student}
    assert set(fb.gold) == {g.id for g in gold}
    counts = fb.counts()
    assert counts["exact"] + counts["boundary_off"] + counts["extra"] == len(student)
    assert counts["exact"] + counts["boundary_off"] + counts["missed"] == len(gold)
    assert set(counts) == set(OUTCOMES)


def test_exact_matches_are_taken_before_boundary_off_ones():
    # s1 is exactly g1, and also overlaps g2; s2 overlaps g1 only.
    gold = [Span("g1", 0, 10, "Claim"), Span("g2", 5, 15, "Claim")]
    student = [Span("s1", 0, 10, "Claim"), Span("s2", 1, 4, "Claim")]
    fb = span_feedback(student, gold)
    assert fb.student == {"s1": "exact", "s2": "extra"}
    assert fb.gold == {"g1": "exact", "g2": "missed"}
    assert fb.pairs == {"s1": "g1"}


def test_a_right_span_with_the_wrong_label_is_extra_and_missed():
    fb = span_feedback([Span("s", 0, 5, "Reason")], [Span("g", 0, 5, "Claim")])
    assert fb.counts() == {"exact": 0, "boundary_off": 0, "extra": 1, "missed": 1}


def test_boundary_off_pairs_are_one_to_one_through_a_maximum_matching():
    # Greedy left to right would pair s1-g1 and leave s2 alone.
    gold = [Span("g1", 0, 10, "Claim"), Span("g2", 8, 20, "Claim")]
    student = [Span("s1", 5, 12, "Claim"), Span("s2", 1, 4, "Claim")]
    fb = span_feedback(student, gold)
    assert fb.counts()["boundary_off"] == 2


@pytest.mark.parametrize(
    ("student", "gold", "expected"),
    [
        ([], [], {"exact": 0, "boundary_off": 0, "extra": 0, "missed": 0}),
        ([Span("s", 0, 3, "Claim")], [], {"exact": 0, "boundary_off": 0, "extra": 1, "missed": 0}),
        ([], [Span("g", 0, 3, "Claim")], {"exact": 0, "boundary_off": 0, "extra": 0, "missed": 1}),
    ],
)
def test_empty_sides(student, gold, expected):
    assert span_feedback(student, gold).counts() == expected


def test_duplicate_ids_and_empty_spans_are_refused():
    with pytest.raises(ValueError, match="unique"):
        span_feedback([Span("s", 0, 3, "Claim"), Span("s", 4, 6, "Claim")], [])
    with pytest.raises(ValueError, match="empty"):
        span_feedback([Span("s", 3, 3, "Claim")], [])
