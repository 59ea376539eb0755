"""Span F1 between two annotators, with one-to-one matching.

Two spans are candidates for a match under a criterion:

* ``exact``: same start, end and label;
* ``overlap``: same label and at least one shared character;
* ``jaccard50``: same label and shared characters / characters of the union >= 0.5.

A span matches at most one span of the other annotator: the number of matches
``M`` is the size of a maximum matching of the bipartite candidate graph
(a greedy left-to-right pairing can miss matches, see the tests).
``F1 = 2 M / (|A| + |B|)``, which is symmetric in the two annotators; it is
undefined (None) when neither annotator has a span.

Design note: most candidate graphs of real annotations are a set of disjoint
edges (each span meets one span of the same label), so those are counted
directly; only when some span has several candidates does the maximum
matching run, through ``scipy.optimize.linear_sum_assignment`` (Crouse 2016)
on the rows and columns that have a candidate.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.optimize import linear_sum_assignment

from annotator.metrics.types import Span

__all__ = ["CRITERIA", "f1_from_counts", "maximum_matching", "span_f1", "span_match_counts"]

#: The matching criteria, in report order.
CRITERIA = ("exact", "overlap", "jaccard50")


def f1_from_counts(matched: float, size_a: float, size_b: float) -> float | None:
    """``2 M / (|A| + |B|)``, None when both annotators have nothing.

    >>> f1_from_counts(3, 4, 5)
    0.6666666666666666
    >>> f1_from_counts(0, 0, 0) is None
    True
    """
    total = size_a + size_b
    if total <= 0:
        return None
    return float(2.0 * matched / total)


def maximum_matching(candidates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A maximum one-to-one matching of a bipartite graph.

    Parameters
    ----------
    candidates : array_like of bool, shape (n_a, n_b)
        ``candidates[i, j]``: span ``i`` of A may match span ``j`` of B.

    Returns
    -------
    rows, cols : numpy.ndarray of int, shape (n_matches,)
        The matched pairs.

    Examples
    --------
    Span 0 of A could match B's 0 or 1, span 1 of A only B's 0: pairing A0
    with B0 first would leave A1 alone.

    >>> rows, cols = maximum_matching([[True, True], [True, False]])
    >>> sorted(zip(rows.tolist(), cols.tolist()))
    [(0, 1), (1, 0)]
    """
    cand = np.asarray(candidates, dtype=bool)
    if cand.ndim != 2:
        raise ValueError(f"candidates must be 2-D, got shape {cand.shape}")
    row_degree, col_degree = cand.sum(axis=1), cand.sum(axis=0)
    if row_degree.max(initial=0) <= 1 and col_degree.max(initial=0) <= 1:
        return np.nonzero(cand)
    rows = np.flatnonzero(row_degree)
    cols = np.flatnonzero(col_degree)
    sub = cand[np.ix_(rows, cols)]
    r, c = linear_sum_assignment(sub, maximize=True)
    hit = sub[r, c]
    return rows[r[hit]], cols[c[hit]]


def span_match_counts(
    a: tuple[np.ndarray, np.ndarray, np.ndarray],
    b: tuple[np.ndarray, np.ndarray, np.ndarray],
    n_labels: int,
) -> np.ndarray:
    """Matches per criterion and label between two annotators' spans.

    Parameters
    ----------
    a, b : (starts, ends, labels), each numpy.ndarray of int, shape (n_a,) / (n_b,)
        The two annotators' spans on one document; labels are indices in
        ``[0, n_labels)``.
    n_labels : int

    Returns
    -------
    numpy.ndarray of int64, shape (3, n_labels)
        ``M`` per criterion (in :data:`CRITERIA` order) and label.
    """
    sa, ea, la = a
    sb, eb, lb = b
    counts = np.zeros((len(CRITERIA), n_labels), dtype=np.int64)
    if not len(sa) or not len(sb):
        return counts
    same_label = la[:, None] == lb[None, :]
    shared = np.minimum(ea[:, None], eb[None, :]) - np.maximum(sa[:, None], sb[None, :])
    union = (ea - sa)[:, None] + (eb - sb)[None, :] - shared
    overlap = same_label & (shared > 0)
    candidates = np.stack([
        overlap & (sa[:, None] == sb[None, :]) & (ea[:, None] == eb[None, :]),
        overlap,
        overlap & (2 * shared >= union),
    ])
    # Fast path: where no span has two candidates, every candidate edge is a match.
    simple = (candidates.sum(axis=2).max(axis=1) <= 1) & (candidates.sum(axis=1).max(axis=1) <= 1)
    hit = candidates.any(axis=2)  # (3, n_a)
    counts[:] = hit.astype(np.int64) @ (la[:, None] == np.arange(n_labels)).astype(np.int64)
    for k in np.flatnonzero(~simple):
        rows, _ = maximum_matching(candidates[k])
        counts[k] = np.bincount(la[rows], minlength=n_labels)
    return counts


def span_f1(
    spans_a: Sequence[Span], spans_b: Sequence[Span], *, criterion: str = "exact"
) -> float | None:
    """Span F1 of two annotators on one document.

    Parameters
    ----------
    spans_a, spans_b : sequence of Span
    criterion : {"exact", "overlap", "jaccard50"}

    Returns
    -------
    float or None
        ``2 M / (|A| + |B|)``; None when both are empty.

    Examples
    --------
    >>> a = [Span("T1", 0, 10, "Claim"), Span("T2", 12, 20, "Reason")]
    >>> b = [Span("T1", 0, 10, "Claim"), Span("T2", 14, 20, "Reason")]
    >>> span_f1(a, b), span_f1(a, b, criterion="overlap")
    (0.5, 1.0)
    """
    if criterion not in CRITERIA:
        raise ValueError(f"criterion must be one of {CRITERIA}, got {criterion!r}")
    labels = {label: k for k, label in enumerate(sorted({s.label for s in [*spans_a, *spans_b]}))}

    def arrays(spans: Sequence[Span]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        for s in spans:
            if s.start >= s.end:
                raise ValueError(f"span {s.id!r} is empty: [{s.start}, {s.end})")
        return (
            np.array([s.start for s in spans], dtype=np.int64),
            np.array([s.end for s in spans], dtype=np.int64),
            np.array([labels[s.label] for s in spans], dtype=np.int64),
        )

    counts = span_match_counts(arrays(spans_a), arrays(spans_b), len(labels))
    return f1_from_counts(counts[CRITERIA.index(criterion)].sum(), len(spans_a), len(spans_b))
