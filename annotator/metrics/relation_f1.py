"""Relation F1 between two annotators.

A relation of A matches a relation of B when both endpoint spans match
exactly (same start, end and label), the type is equal and the direction is
the same (A's source matches B's source). Matching is one-to-one: with
``key = (source span, target span, type)`` the number of matches is
``M = sum_key min(count_A(key), count_B(key))``, the size of a maximum
matching, since "matches" is an equivalence. ``F1 = 2 M / (|A| + |B|)``,
None when neither annotator has a relation.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from annotator.metrics.span_f1 import f1_from_counts
from annotator.metrics.types import AnnotatorWork

__all__ = [
    "RelationKey",
    "relation_f1",
    "relation_keys",
    "relation_match_counts",
    "relation_match_counts_grouped",
]

#: ((source start, end, label), (target start, end, label), type)
RelationKey = tuple[tuple[int, int, str], tuple[int, int, str], str]


def relation_keys(work: AnnotatorWork) -> Counter[RelationKey]:
    """The multiset of one annotator's relations, by endpoint spans and type.

    Raises
    ------
    ValueError
        When a relation names a span id that the annotator does not have.
    """
    spans = {span.id: (span.start, span.end, span.label) for span in work.spans}
    keys: Counter[RelationKey] = Counter()
    for relation in work.relations:
        for end in (relation.source, relation.target):
            if end not in spans:
                raise ValueError(
                    f"relation {relation.source!r} -> {relation.target!r} ({relation.type}) "
                    f"names span {end!r}, which this annotator does not have"
                )
        keys[(spans[relation.source], spans[relation.target], relation.type)] += 1
    return keys


def relation_match_counts(
    keys_a: Counter[RelationKey], keys_b: Counter[RelationKey]
) -> dict[str, tuple[int, int, int]]:
    """Per relation type: (M, |A|, |B|) for two annotators on one document."""
    out: dict[str, list[int]] = {}
    for key, count in keys_a.items():
        out.setdefault(key[2], [0, 0, 0])[1] += count
    for key, count in keys_b.items():
        row = out.setdefault(key[2], [0, 0, 0])
        row[2] += count
        row[0] += min(count, keys_a.get(key, 0))
    return {t: (m, a, b) for t, (m, a, b) in out.items()}


def relation_match_counts_grouped(
    keys_a: np.ndarray, group_a: np.ndarray, keys_b: np.ndarray, group_b: np.ndarray,
    n_groups: int, n_types: int,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`relation_match_counts` of many pairs of annotators at once.

    Parameters
    ----------
    keys_a, keys_b : numpy.ndarray of int, shape (n_a, k) / (n_b, k)
        One row per relation of the pairs' first / second annotator: its key
        as integers (source start, end, label; target start, end, label),
        then its type index in ``[0, n_types)`` as the last column.
    group_a, group_b : numpy.ndarray of int, shape (n_a,) / (n_b,)
        The pair of each relation, in ``[0, n_groups)``.

    Returns
    -------
    matched, size : numpy.ndarray of int64, shape (n_groups, n_types)
        ``M`` and ``|A| + |B|`` per pair and type.
    """
    size = (np.bincount(group_a * n_types + keys_a[:, -1], minlength=n_groups * n_types)
            + np.bincount(group_b * n_types + keys_b[:, -1], minlength=n_groups * n_types))
    matched = np.zeros(n_groups * n_types, dtype=np.int64)
    if len(keys_a) and len(keys_b):
        rows = np.vstack([np.column_stack([group_a, keys_a]), np.column_stack([group_b, keys_b])])
        # Equal rows numbered alike (np.unique(axis=0) is several times slower): the
        # columns packed into as few words as their values fit, sorted by those.
        words = _packed_words(rows)
        order = np.lexsort(words[::-1])
        ordered = words[:, order]
        first = np.ones(len(rows), dtype=bool)
        first[1:] = (ordered[:, 1:] != ordered[:, :-1]).any(axis=0)
        unique = rows[order[first]]
        key = np.empty(len(rows), dtype=np.int64)
        key[order] = np.cumsum(first) - 1
        count_a = np.bincount(key[:len(keys_a)], minlength=len(unique))
        count_b = np.bincount(key[len(keys_a):], minlength=len(unique))
        matched = np.bincount(unique[:, 0] * n_types + unique[:, -1],
                              np.minimum(count_a, count_b), minlength=n_groups * n_types)
    return (matched.astype(np.int64).reshape(n_groups, n_types),
            size.astype(np.int64).reshape(n_groups, n_types))


def _packed_words(rows: np.ndarray) -> np.ndarray:
    """The columns of ``rows`` (non-negative integers) packed side by side into
    63-bit words, shape (n_words, n_rows): two rows are equal when their words are."""
    if not len(rows) or rows.min() < 0:
        return rows.T.copy()
    widths = [max(int(v).bit_length(), 1) for v in rows.max(axis=0)]
    words, word, used = [], None, 0
    for column, width in enumerate(widths):
        if word is not None and used + width > 63:
            words.append(word)
            word = None
        if word is None:
            word, used = rows[:, column].astype(np.int64), width
        else:
            word = (word << width) | rows[:, column]
            used += width
    if word is not None:
        words.append(word)
    return np.array(words)


def relation_f1(work_a: AnnotatorWork, work_b: AnnotatorWork) -> float | None:
    """Relation F1 of two annotators on one document.

    Examples
    --------
    >>> from annotator.metrics.types import Relation, Span
    >>> spans = [Span("T1", 0, 5, "Claim"), Span("T2", 6, 9, "Reason")]
    >>> a = AnnotatorWork(spans, [Relation("T2", "T1", "supports")])
    >>> b = AnnotatorWork(spans, [Relation("T1", "T2", "supports")])
    >>> relation_f1(a, a), relation_f1(a, b)
    (1.0, 0.0)
    """
    counts = relation_match_counts(relation_keys(work_a), relation_keys(work_b))
    matched = sum(m for m, _, _ in counts.values())
    return f1_from_counts(
        matched, sum(a for _, a, _ in counts.values()), sum(b for _, _, b in counts.values())
    )
