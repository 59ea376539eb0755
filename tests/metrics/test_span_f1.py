from itertools import permutations

import numpy as np
import pytest

from annotator.metrics.span_f1 import CRITERIA, maximum_matching, span_f1, span_match_counts
from annotator.metrics.types import Span


def S(start, end, label="Claim", id_="T"):
    return Span(id_, start, end, label)


def test_exact_needs_same_start_end_and_label():
    a = [S(0, 10), S(20, 30, "Reason")]
    assert span_f1(a, [S(0, 10), S(20, 30, "Claim")]) == 0.5
    assert span_f1(a, [S(0, 11), S(20, 30, "Reason")]) == 0.5


def test_overlap_needs_one_shared_character_and_same_label():
    assert span_f1([S(0, 10)], [S(9, 12)], criterion="overlap") == 1.0
    assert span_f1([S(0, 10)], [S(10, 12)], criterion="overlap") == 0.0  # only touching
    assert span_f1([S(0, 10)], [S(5, 12, "Reason")], criterion="overlap") == 0.0


def test_jaccard50_threshold_is_inclusive():
    assert span_f1([S(0, 10)], [S(0, 5)], criterion="jaccard50") == 1.0  # 5 / 10
    assert span_f1([S(0, 10)], [S(0, 4)], criterion="jaccard50") == 0.0  # 4 / 10
    assert span_f1([S(0, 10)], [S(5, 15)], criterion="jaccard50") == 0.0  # 5 / 15


def test_nested_spans_match_one_to_one():
    # A has an outer claim and a nested claim; B has only the outer one.
    a = [S(0, 30), S(5, 10)]
    b = [S(0, 30)]
    assert span_f1(a, b, criterion="overlap") == pytest.approx(2 * 1 / 3)
    assert span_f1(a, b, criterion="exact") == pytest.approx(2 * 1 / 3)


def test_matching_finds_the_maximum_where_greedy_fails():
    # Greedy in order would pair A[0]=[0,10) with B[0]=[5,12) and leave A[1]
    # without partner; the maximum matching pairs A[0]-B[1] and A[1]-B[0].
    a = [S(0, 10), S(11, 14)]
    b = [S(5, 12), S(0, 3)]
    assert span_f1(a, b, criterion="overlap") == 1.0


def test_f1_is_symmetric_and_undefined_when_both_are_empty():
    a, b = [S(0, 10), S(3, 8)], [S(2, 9), S(20, 25)]
    for criterion in CRITERIA:
        assert span_f1(a, b, criterion=criterion) == span_f1(b, a, criterion=criterion)
    assert span_f1([], []) is None
    assert span_f1([S(0, 2)], []) == 0.0


def _brute_force(a, b, criterion):
    def candidate(x, y):
        if x[2] != y[2]:
            return False
        shared = min(x[1], y[1]) - max(x[0], y[0])
        union = (x[1] - x[0]) + (y[1] - y[0]) - shared
        return {"exact": x[:2] == y[:2], "overlap": shared > 0,
                "jaccard50": shared > 0 and shared / union >= 0.5}[criterion]

    small, large, flip = (a, b, False) if len(a) <= len(b) else (b, a, True)
    best = 0
    for chosen in permutations(range(len(large)), len(small)):
        best = max(best, sum(
            candidate(*((large[j], small[i]) if flip else (small[i], large[j])))
            for i, j in enumerate(chosen)
        ))
    return best


@pytest.mark.parametrize("seed", range(40))
def test_matching_equals_a_brute_force_over_all_one_to_one_assignments(seed):
    rng = np.random.default_rng(seed)

    def spans(n):
        out = []
        for _ in range(n):
            s = int(rng.integers(0, 12))
            out.append((s, s + int(rng.integers(1, 6)), int(rng.integers(0, 2))))
        return out

    a, b = spans(int(rng.integers(0, 6))), spans(int(rng.integers(0, 6)))
    arrays = [tuple(np.array(col, dtype=np.int64).reshape(-1) for col in zip(*x, strict=True))
              if x else (np.zeros(0, np.int64),) * 3 for x in (a, b)]
    counts = span_match_counts(arrays[0], arrays[1], 2)
    for k, criterion in enumerate(CRITERIA):
        assert counts[k].sum() == _brute_force(a, b, criterion), criterion


def test_maximum_matching_returns_pairs_of_candidates():
    cand = np.array([[1, 1, 0], [1, 0, 0], [0, 1, 1]], dtype=bool)
    rows, cols = maximum_matching(*np.nonzero(cand), cand.shape)
    assert len(rows) == 3
    assert cand[rows, cols].all()
    assert len(set(rows.tolist())) == len(set(cols.tolist())) == 3


def test_unknown_criterion_is_rejected():
    with pytest.raises(ValueError, match="criterion"):
        span_f1([], [], criterion="fuzzy")
