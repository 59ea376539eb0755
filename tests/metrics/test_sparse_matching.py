"""The sweep that finds candidate span pairs, checked against the dense matrices it replaced.

``tests/metrics/dense_matching.py`` is the matching as it was (every span of A
against every span of B, ``linear_sum_assignment``). On random inputs with
nested, overlapping, duplicated and touching spans the sweep must give the same
candidate pairs, the same match counts per criterion and label, and grading
the same counts; where a span has several equally good partners the two may
pick different ones, so there the pairs are checked for what they must be.
"""

from __future__ import annotations

import numpy as np
import pytest

from annotator.metrics.grading import span_feedback
from annotator.metrics.span_f1 import (
    maximum_matching,
    overlapping_pairs,
    span_arrays,
    span_match_counts,
)
from annotator.metrics.types import Span
from tests.metrics.dense_matching import (
    dense_maximum_matching,
    dense_span_feedback,
    dense_span_match_counts,
)

LABELS = ("Claim", "Evidence", "Reason")


def random_spans(rng, prefix: str, n: int, length: int, n_labels: int) -> list[Span]:
    """Spans of every shape: short and long, nested, copies of each other."""
    spans: list[Span] = []
    for k in range(n):
        if spans and rng.random() < 0.15:  # a copy of an earlier span (duplicates)
            twin = spans[int(rng.integers(len(spans)))]
            spans.append(Span(f"{prefix}{k}", twin.start, twin.end, twin.label))
            continue
        start = int(rng.integers(0, length - 1))
        longest = length if rng.random() < 0.1 else min(length, start + 12)
        end = int(rng.integers(start + 1, longest + 1))
        spans.append(Span(f"{prefix}{k}", start, end, LABELS[int(rng.integers(n_labels))]))
    return spans


def jittered(rng, spans: list[Span], prefix: str) -> list[Span]:
    """Another annotator: most spans kept, moved by a character or relabelled."""
    out = []
    for k, s in enumerate(spans):
        roll = rng.random()
        if roll < 0.15:
            continue
        start, end, label = s.start, s.end, s.label
        if roll < 0.45:
            start = max(0, start + int(rng.integers(-2, 3)))
            end = max(start + 1, end + int(rng.integers(-2, 3)))
        elif roll < 0.55:
            label = LABELS[(LABELS.index(label) + 1) % len(LABELS)]
        out.append(Span(f"{prefix}{k}", start, end, label))
    return out


def two_annotators(seed: int, max_spans: int = 40):
    rng = np.random.default_rng(seed)
    length = int(rng.integers(2, 120))
    n_labels = int(rng.integers(1, 4))
    a = random_spans(rng, "a", int(rng.integers(0, max_spans)), length, n_labels)
    b = jittered(rng, a, "b") if rng.random() < 0.6 else []
    b += random_spans(rng, "x", int(rng.integers(0, max_spans // 2 + 1)), length, n_labels)
    rng.shuffle(b)
    return a, b


def arrays(a, b):
    labels = {label: k for k, label in enumerate(LABELS)}
    return span_arrays(a, labels), span_arrays(b, labels)


@pytest.mark.parametrize("seed", range(300))
def test_candidate_pairs_and_match_counts_equal_the_dense_matrices(seed):
    a, b = two_annotators(seed)
    xa, xb = arrays(a, b)
    rows, cols = overlapping_pairs(xa, xb)
    dense = {(i, j) for i, x in enumerate(a) for j, y in enumerate(b)
             if x.label == y.label and min(x.end, y.end) > max(x.start, y.start)}
    assert sorted(zip(rows.tolist(), cols.tolist(), strict=True)) == sorted(dense)
    assert np.array_equal(span_match_counts(xa, xb, len(LABELS)),
                          dense_span_match_counts(xa, xb, len(LABELS)))


@pytest.mark.parametrize("seed", range(300))
def test_feedback_counts_equal_the_dense_matching_and_its_pairs_are_sound(seed):
    student, gold = two_annotators(seed)
    fb = span_feedback(student, gold)
    old_student, old_gold, _ = dense_span_feedback(student, gold)
    old = {k: 0 for k in ("exact", "boundary_off", "extra", "missed")}
    for outcome in old_student.values():
        old[outcome] += 1
    old["missed"] = list(old_gold.values()).count("missed")
    assert fb.counts() == old
    # One to one, and each pair is what its class says.
    assert len(set(fb.pairs.values())) == len(fb.pairs)
    by_id = {s.id: s for s in [*student, *gold]}
    for sid, gid in fb.pairs.items():
        s, g = by_id[sid], by_id[gid]
        assert fb.student[sid] == fb.gold[gid]
        assert s.label == g.label and min(s.end, g.end) > max(s.start, g.start)
        assert ((s.start, s.end) == (g.start, g.end)) == (fb.student[sid] == "exact")
    unpaired = {sid for sid in fb.student if sid not in fb.pairs}
    assert all(fb.student[sid] == "extra" for sid in unpaired)
    assert list(fb.gold.values()).count("missed") == len(gold) - len(fb.pairs)


@pytest.mark.parametrize("seed", range(200))
def test_feedback_is_the_dense_result_where_no_span_has_a_choice(seed):
    """Where each span overlaps at most one span of the other side, nothing is
    left to the matching algorithm: every class and pair must be the old ones."""
    rng = np.random.default_rng(seed)
    gold, student, at = [], [], 0
    for k in range(int(rng.integers(0, 30))):
        at += int(rng.integers(1, 5))
        start, end = at, at + int(rng.integers(1, 6))
        at = end + 1  # gold spans do not overlap; each student span copies one
        label = LABELS[int(rng.integers(3))]
        gold.append(Span(f"g{k}", start, end, label))
        roll = rng.random()
        if roll < 0.4:
            student.append(Span(f"s{k}", start, end, label))
        elif roll < 0.7:
            student.append(Span(f"s{k}", start, end + 1, label))
        elif roll < 0.8:
            student.append(Span(f"s{k}", start, end, LABELS[(LABELS.index(label) + 1) % 3]))
    rng.shuffle(student)
    fb = span_feedback(student, gold)
    assert (fb.student, fb.gold, fb.pairs) == dense_span_feedback(student, gold)


def test_a_big_brief_gives_the_dense_counts():
    """Two sets of 2,000 spans over 60,000 characters, many nested: the sweep's
    counts are the dense matrices' (which take seconds at this size)."""
    rng = np.random.default_rng(12)
    a = []
    for k in range(2000):
        start = int(rng.integers(0, 60_000))
        end = start + int(rng.integers(1, 400 if k % 10 else 3000))
        a.append(Span(f"a{k}", start, end, LABELS[k % 3]))
    b = jittered(rng, a, "b") + random_spans(rng, "x", 300, 60_000, 3)
    xa, xb = arrays(a, b)
    assert np.array_equal(span_match_counts(xa, xb, 3), dense_span_match_counts(xa, xb, 3))
    fb = span_feedback(a, b)
    old_student, _, _ = dense_span_feedback(a, b)
    assert fb.counts()["exact"] == list(old_student.values()).count("exact")
    assert fb.counts()["boundary_off"] == list(old_student.values()).count("boundary_off")


@pytest.mark.parametrize("seed", range(100))
def test_hopcroft_karp_matches_as_many_pairs_as_the_assignment(seed):
    rng = np.random.default_rng(seed)
    n_a, n_b = int(rng.integers(1, 15)), int(rng.integers(1, 15))
    cand = rng.random((n_a, n_b)) < rng.uniform(0.05, 0.6)
    rows, cols = maximum_matching(*np.nonzero(cand), cand.shape)
    assert cand[rows, cols].all()
    assert len(set(rows.tolist())) == len(set(cols.tolist())) == len(rows)
    assert len(rows) == len(dense_maximum_matching(cand)[0])


def test_bad_offsets_are_refused():
    ok = (np.array([0]), np.array([3]), np.array([0]))
    with pytest.raises(ValueError, match="non-negative"):
        overlapping_pairs((np.array([-1]), np.array([3]), np.array([0])), ok)
    with pytest.raises(ValueError, match="non-negative"):
        overlapping_pairs(ok, (np.array([0]), np.array([1 << 42]), np.array([0])))
    with pytest.raises(ValueError, match="1-D"):
        maximum_matching([[0]], [[0]], (1, 1))


def test_int32_offsets_and_lists_give_the_same_pairs():
    """The label is shifted above the offsets: narrow arrays must not overflow."""
    a = (np.array([0, 10], np.int32), np.array([5, 20], np.int32), np.array([1, 1], np.int32))
    b = ([4, 12], [12, 14], [1, 1])
    assert sorted(zip(*(p.tolist() for p in overlapping_pairs(a, b)), strict=True)) == [
        (0, 0), (1, 0), (1, 1)]
