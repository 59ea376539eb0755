"""Span and relation matches of many annotator pairs counted at once (issue 12, point 4)
equal the counts of one call per pair."""

from __future__ import annotations

import random

import numpy as np
import pytest

from annotator.metrics.relation_f1 import relation_match_counts, relation_match_counts_grouped
from annotator.metrics.span_f1 import span_match_counts, span_match_counts_grouped

N_LABELS = 3
N_TYPES = 2


def random_spans(rng: random.Random, length: int, n: int):
    """Spans that overlap and repeat, so that the matching has choices to make."""
    starts = [rng.randrange(0, length - 1) for _ in range(n)]
    ends = [rng.randint(s + 1, min(length, s + 12)) for s in starts]
    labels = [rng.randrange(N_LABELS) for _ in range(n)]
    return tuple(np.array(x, dtype=np.int64) for x in (starts, ends, labels))


@pytest.mark.parametrize("seed", range(20))
def test_span_matches_of_many_pairs_at_once_equal_one_pair_at_a_time(seed):
    rng = random.Random(seed)
    pairs = [(rng.randint(5, 60), rng.randint(0, 15), rng.randint(0, 15)) for _ in range(12)]
    sides, group, shift, expected = ([[], [], []], [[], [], []]), [], 0, []
    for g, (length, n_a, n_b) in enumerate(pairs):
        a, b = random_spans(rng, length, n_a), random_spans(rng, length, n_b)
        expected.append(span_match_counts(a, b, N_LABELS))
        for side, spans in zip(sides, (a, b), strict=True):
            side[0].append(spans[0] + shift)
            side[1].append(spans[1] + shift)
            side[2].append(spans[2])
        group.append(np.full(n_a, g))
        shift += length + 1
    a, b = (tuple(np.concatenate(c) for c in side) for side in sides)
    counts = span_match_counts_grouped(a, b, np.concatenate(group), len(pairs), N_LABELS)
    assert np.array_equal(counts, np.stack(expected))
    assert counts.sum() > 0


def random_relations(rng: random.Random, ends: list, n: int):
    """Relation keys between a few endpoints, so that keys repeat and match."""
    return [(rng.choice(ends), rng.choice(ends), rng.randrange(N_TYPES)) for _ in range(n)]


def as_rows(keys) -> np.ndarray:
    return np.array([[*s, *t, kind] for s, t, kind in keys], dtype=np.int64).reshape(-1, 7)


@pytest.mark.parametrize("seed", range(20))
def test_relation_matches_of_many_pairs_at_once_equal_one_pair_at_a_time(seed):
    from collections import Counter

    rng = random.Random(seed)
    n_groups = 10
    rows_a, rows_b, group_a, group_b = [], [], [], []
    matched = np.zeros((n_groups, N_TYPES), dtype=np.int64)
    size = np.zeros((n_groups, N_TYPES), dtype=np.int64)
    for g in range(n_groups):
        ends = [(rng.randrange(3), rng.randrange(3), rng.randrange(N_LABELS)) for _ in range(3)]
        a = random_relations(rng, ends, rng.randint(0, 8))
        b = random_relations(rng, ends, rng.randint(0, 8))
        for kind, (m, n_a, n_b) in relation_match_counts(Counter(a), Counter(b)).items():
            matched[g, kind], size[g, kind] = m, n_a + n_b
        rows_a.append(as_rows(a))
        rows_b.append(as_rows(b))
        group_a += [g] * len(a)
        group_b += [g] * len(b)
    got_matched, got_size = relation_match_counts_grouped(
        np.concatenate(rows_a), np.array(group_a, dtype=np.int64),
        np.concatenate(rows_b), np.array(group_b, dtype=np.int64), n_groups, N_TYPES,
    )
    assert np.array_equal(got_matched, matched) and np.array_equal(got_size, size)
    assert matched.sum() > 0
