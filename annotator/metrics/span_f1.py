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

Design note: the candidate pairs are found by a sweep over the spans sorted by
(label, start), never by comparing every span with every other. Two spans
share a character exactly when one starts inside the other (``b.start`` in
``[a.start, a.end)``, or ``a.start`` in ``(b.start, b.end)``; the two cases are
disjoint), and the spans starting in a range are a contiguous run of the
sorted order: two binary searches per span give every candidate pair, in
``O((n + K) log n)`` for ``K`` pairs, instead of the ``n_a x n_b`` matrices a
5,000-span brief turned into 8-30 s of grading. Most candidate graphs of
real annotations are a set of disjoint edges (each span meets one span of the
same label), so those are counted directly; only when some span has several
candidates does the maximum matching run, through Hopcroft-Karp (Hopcroft & Karp 1973,
``scipy.sparse.csgraph.maximum_bipartite_matching``) on the candidate edges,
``O(K sqrt(n))``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.sparse import csr_array
from scipy.sparse.csgraph import maximum_bipartite_matching

from annotator.metrics.types import Span
from annotator.metrics.units import stable_order

__all__ = [
    "CRITERIA",
    "f1_from_counts",
    "maximum_matching",
    "overlapping_pairs",
    "span_arrays",
    "span_f1",
    "span_match_counts",
    "span_match_counts_grouped",
]

#: The matching criteria, in report order.
CRITERIA = ("exact", "overlap", "jaccard50")

# A sort key holds the label above the start: offsets stay below 2**42 code
# points (4 T, far beyond any text a database row holds).
_LABEL_SHIFT = 42

SpanArrays = tuple[np.ndarray, np.ndarray, np.ndarray]


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


def span_arrays(spans: Sequence[Span], labels: dict[str, int]) -> SpanArrays:
    """``(starts, ends, label indices)`` of some spans, each shape (n,), int64.

    Raises
    ------
    ValueError
        When a span is empty (``start >= end``).
    """
    for s in spans:
        if s.start >= s.end:
            raise ValueError(f"span {s.id!r} is empty: [{s.start}, {s.end})")
    return (
        np.array([s.start for s in spans], dtype=np.int64),
        np.array([s.end for s in spans], dtype=np.int64),
        np.array([labels[s.label] for s in spans], dtype=np.int64),
    )


def _ranges(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each ``k``, the pairs ``(k, p)`` with ``lo[k] <= p < hi[k]``, as two arrays."""
    sizes = hi - lo
    owners = np.repeat(np.arange(len(lo)), sizes)
    firsts = np.repeat(np.cumsum(sizes) - sizes - lo, sizes)
    return owners, np.arange(len(owners)) - firsts


def overlapping_pairs(a: SpanArrays, b: SpanArrays) -> tuple[np.ndarray, np.ndarray]:
    """Every pair of spans with the same label and at least one shared character.

    Parameters
    ----------
    a, b : (starts, ends, labels), each numpy.ndarray of int64, shape (n_a,) / (n_b,)
        Offsets are non-negative, ``start < end``; labels are indices >= 0.

    Returns
    -------
    rows, cols : numpy.ndarray of int, shape (n_pairs,)
        ``a``'s span ``rows[k]`` and ``b``'s span ``cols[k]`` overlap; each
        pair once, in no particular order.

    Examples
    --------
    >>> a = (np.array([0, 10]), np.array([5, 20]), np.array([0, 0]))
    >>> b = (np.array([4, 5, 12]), np.array([12, 9, 14]), np.array([0, 0, 1]))
    >>> sorted(zip(*(p.tolist() for p in overlapping_pairs(a, b))))
    [(0, 0), (1, 0)]
    """
    sa, ea, la = (np.asarray(x, dtype=np.int64) for x in a)
    sb, eb, lb = (np.asarray(x, dtype=np.int64) for x in b)
    n_a, n_b = len(sa), len(sb)
    if not n_a or not n_b:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    if min(sa.min(), sb.min(), la.min(), lb.min()) < 0 or max(ea.max(), eb.max()) >> _LABEL_SHIFT:
        raise ValueError("offsets and labels must be non-negative, offsets below 2**42")
    high_a, high_b = la << _LABEL_SHIFT, lb << _LABEL_SHIFT
    key_a, key_b = high_a | sa, high_b | sb
    order_a, order_b = stable_order(la, key_a), stable_order(lb, key_b)
    order = np.concatenate([order_b, order_a])
    sorted_b, sorted_a = key_b[order_b], key_a[order_a]
    # For each span of a, the spans of b starting in [a.start, a.end); then for
    # each span of b, the spans of a starting in (b.start, b.end): the two cases
    # are disjoint. Positions index ``order`` (b's sorted spans, then a's); the
    # spans look for their partners in sorted order (each search starts where
    # the one before ended), so owners are a's sorted spans, then b's.
    lo = np.concatenate([np.searchsorted(sorted_b, sorted_a, "left"),
                         np.searchsorted(sorted_a, sorted_b, "right") + n_b])
    hi = np.concatenate([np.searchsorted(sorted_b, (high_a | ea)[order_a], "left"),
                         np.searchsorted(sorted_a, (high_b | eb)[order_b], "left") + n_b])
    owners, at = _ranges(lo, hi)
    partners = order[at]
    from_a = owners < n_a
    owners = np.concatenate([order_a, order_b])[owners]
    return (np.where(from_a, owners, partners), np.where(from_a, partners, owners))


def maximum_matching(
    rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """A maximum one-to-one matching of a bipartite graph given by its edges.

    Parameters
    ----------
    rows, cols : array_like of int, shape (n_edges,)
        Edge ``k`` joins span ``rows[k]`` of A and span ``cols[k]`` of B; no
        edge twice.
    shape : (n_a, n_b)

    Returns
    -------
    rows, cols : numpy.ndarray of int, shape (n_matches,)
        The matched pairs, by row.

    Examples
    --------
    Span 0 of A could match B's 0 or 1, span 1 of A only B's 0: pairing A0
    with B0 first would leave A1 alone.

    >>> rows, cols = maximum_matching([0, 0, 1], [0, 1, 0], (2, 2))
    >>> sorted(zip(rows.tolist(), cols.tolist()))
    [(0, 1), (1, 0)]
    """
    rows, cols = np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)
    if rows.shape != cols.shape or rows.ndim != 1:
        raise ValueError(f"rows and cols must be 1-D of one length, got {rows.shape}, "
                         f"{cols.shape}")
    if _disjoint(rows, cols):
        order = np.argsort(rows, kind="stable")  # every edge is a match
        return rows[order], cols[order]
    order = np.argsort(rows, kind="stable")  # CSR by hand: scipy's COO route costs more
    indptr = np.searchsorted(rows[order], np.arange(shape[0] + 1)).astype(np.int32)
    graph = csr_array(
        (np.ones(len(rows), dtype=np.int8), cols[order].astype(np.int32), indptr), shape=shape
    )
    col_of = maximum_bipartite_matching(graph, perm_type="column")
    matched = np.flatnonzero(col_of >= 0)
    return matched, col_of[matched].astype(np.int64)


def _disjoint(rows: np.ndarray, cols: np.ndarray) -> bool:
    """No span has two edges: the edges are the maximum matching."""
    return not len(rows) or (np.bincount(rows).max() <= 1 and np.bincount(cols).max() <= 1)


def _criterion_masks(a: SpanArrays, b: SpanArrays, rows: np.ndarray, cols: np.ndarray):
    """Which overlapping pairs are candidates under each criterion, in CRITERIA order."""
    sa, ea, sb, eb = a[0][rows], a[1][rows], b[0][cols], b[1][cols]
    shared = np.minimum(ea, eb) - np.maximum(sa, sb)
    union = (ea - sa) + (eb - sb) - shared
    return ((sa == sb) & (ea == eb), np.ones(len(rows), dtype=bool), 2 * shared >= union)


def span_match_counts(a: SpanArrays, b: SpanArrays, n_labels: int) -> np.ndarray:
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
    group = np.zeros(len(a[0]), dtype=np.int64)
    return span_match_counts_grouped(a, b, group, 1, n_labels)[0]


def span_match_counts_grouped(
    a: SpanArrays, b: SpanArrays, group: np.ndarray, n_groups: int, n_labels: int
) -> np.ndarray:
    """:func:`span_match_counts` of many pairs of annotators at once.

    Parameters
    ----------
    a, b : (starts, ends, labels)
        The spans of every pair's first and second annotator, each pair's
        offsets shifted past the previous pair's so that spans of different
        pairs never overlap.
    group : numpy.ndarray of int, shape (n_a,)
        The pair (``0 <= group < n_groups``) of each span of ``a``.
    n_groups, n_labels : int

    Returns
    -------
    numpy.ndarray of int64, shape (n_groups, 3, n_labels)

    Notes
    -----
    The candidate graph of all pairs is the disjoint union of each pair's
    graph (and, within a pair, of each label's), so one maximum matching of
    the whole is a maximum matching of every pair and label: the counts are
    those of one call per pair, in one sweep and one matching.
    """
    counts = np.zeros((n_groups, len(CRITERIA), n_labels), dtype=np.int64)
    rows, cols = overlapping_pairs(a, b)
    if not len(rows):
        return counts
    shape = (len(a[0]), len(b[0]))
    key = np.asarray(group, dtype=np.int64) * n_labels + np.asarray(a[2], dtype=np.int64)
    # Where no span has two overlapping partners, neither has it under the
    # stricter criteria: every candidate pair is a match.
    disjoint = _disjoint(rows, cols)
    for k, mask in enumerate(_criterion_masks(a, b, rows, cols)):
        matched = rows[mask] if disjoint else maximum_matching(rows[mask], cols[mask], shape)[0]
        counts[:, k] = np.bincount(key[matched], minlength=n_groups * n_labels).reshape(
            n_groups, n_labels
        )
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
    counts = span_match_counts(
        span_arrays(spans_a, labels), span_arrays(spans_b, labels), len(labels)
    )
    return f1_from_counts(counts[CRITERIA.index(criterion)].sum(), len(spans_a), len(spans_b))
