"""The span matching as it was before the sweep (commit 8e19e0d), kept as a reference.

It compares every span of A with every span of B in dense ``n_a x n_b``
matrices and matches through ``scipy.optimize.linear_sum_assignment``: too
slow for a 5,000-span brief, but simple enough to trust. The property tests
(``test_sparse_matching.py``) check the sweep against it on random inputs.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.optimize import linear_sum_assignment

from annotator.metrics.types import Span

CRITERIA = ("exact", "overlap", "jaccard50")


def dense_maximum_matching(candidates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    cand = np.asarray(candidates, dtype=bool)
    row_degree, col_degree = cand.sum(axis=1), cand.sum(axis=0)
    if row_degree.max(initial=0) <= 1 and col_degree.max(initial=0) <= 1:
        return np.nonzero(cand)
    rows = np.flatnonzero(row_degree)
    cols = np.flatnonzero(col_degree)
    sub = cand[np.ix_(rows, cols)]
    r, c = linear_sum_assignment(sub, maximize=True)
    hit = sub[r, c]
    return rows[r[hit]], cols[c[hit]]


def dense_span_match_counts(a, b, n_labels: int) -> np.ndarray:
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
    for k in range(len(CRITERIA)):
        rows, _ = dense_maximum_matching(candidates[k])
        counts[k] = np.bincount(la[rows], minlength=n_labels)
    return counts


def dense_span_feedback(student: Sequence[Span], gold: Sequence[Span]):
    """``(student classes, gold classes, pairs)`` as ``span_feedback`` gave them."""
    labels = {label: k for k, label in enumerate(sorted({s.label for s in [*student, *gold]}))}

    def arrays(spans):
        return tuple(np.array(col, dtype=np.int64).reshape(-1) for col in (
            [s.start for s in spans], [s.end for s in spans], [labels[s.label] for s in spans]))

    ss, se, sl = arrays(student)
    gs, ge, gl = arrays(gold)
    mine = {s.id: "extra" for s in student}
    theirs = {g.id: "missed" for g in gold}
    pairs: dict[str, str] = {}
    if not len(student) or not len(gold):
        return mine, theirs, pairs
    same_label = sl[:, None] == gl[None, :]
    overlap = same_label & (
        np.minimum(se[:, None], ge[None, :]) > np.maximum(ss[:, None], gs[None, :])
    )
    exact = same_label & (ss[:, None] == gs[None, :]) & (se[:, None] == ge[None, :])
    rows, cols = dense_maximum_matching(exact)
    for i, j in zip(rows.tolist(), cols.tolist(), strict=True):
        mine[student[i].id] = theirs[gold[j].id] = "exact"
        pairs[student[i].id] = gold[j].id
    left_rows = np.setdiff1d(np.arange(len(student)), rows)
    left_cols = np.setdiff1d(np.arange(len(gold)), cols)
    if len(left_rows) and len(left_cols):
        sub = overlap[np.ix_(left_rows, left_cols)]
        r, c = dense_maximum_matching(sub)
        for i, j in zip(left_rows[r].tolist(), left_cols[c].tolist(), strict=True):
            mine[student[i].id] = theirs[gold[j].id] = "boundary_off"
            pairs[student[i].id] = gold[j].id
    return mine, theirs, pairs
