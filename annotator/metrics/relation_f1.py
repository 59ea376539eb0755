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

from annotator.metrics.span_f1 import f1_from_counts
from annotator.metrics.types import AnnotatorWork

__all__ = ["RelationKey", "relation_f1", "relation_keys", "relation_match_counts"]

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
