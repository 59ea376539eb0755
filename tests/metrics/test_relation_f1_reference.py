"""Relation F1 against a naive, independent count on generated data.

The reference walks A's relations one by one and takes an unused relation of
B whose endpoint spans have the same start, end and label and whose type is
the same (DESIGN.md's definition); with identical keys, taking any unused one
is a maximum one-to-one matching. F1 = 2M / (|A| + |B|), None when both are empty.
"""

import random

import pytest

from annotator.metrics.relation_f1 import relation_f1
from annotator.metrics.types import AnnotatorWork, Relation, Span

LABELS = ["Claim", "Reason", "Evidence"]
TYPES = ["supports", "attacks", "evidence_for"]


def _reference_f1(a: AnnotatorWork, b: AnnotatorWork):
    spans_a = {s.id: (s.start, s.end, s.label) for s in a.spans}
    spans_b = {s.id: (s.start, s.end, s.label) for s in b.spans}
    used = [False] * len(b.relations)
    matched = 0
    for ra in a.relations:
        for j, rb in enumerate(b.relations):
            if (
                not used[j]
                and spans_a[ra.source] == spans_b[rb.source]
                and spans_a[ra.target] == spans_b[rb.target]
                and ra.type == rb.type
            ):
                used[j] = True
                matched += 1
                break
    total = len(a.relations) + len(b.relations)
    return None if total == 0 else 2 * matched / total


def _work(rng: random.Random, prefix: str, shared: list[tuple[int, int, str]]) -> AnnotatorWork:
    # Spans drawn from a small shared pool, so both sides often hold the same span
    # (sometimes twice, under different ids), plus a few of their own.
    picks = rng.sample(shared, k=rng.randint(0, len(shared)))
    picks += [(s, s + rng.randint(1, 5), rng.choice(LABELS)) for s in
              rng.sample(range(0, 60), k=rng.randint(0, 3))]
    picks += rng.sample(picks, k=min(len(picks), rng.randint(0, 2)))  # duplicates
    spans = [Span(f"{prefix}{i}", s, e, lab) for i, (s, e, lab) in enumerate(picks)]
    relations = []
    for _ in range(rng.randint(0, 8)):
        if len(spans) < 2:
            break
        source, target = rng.sample(spans, 2)
        relations.append(Relation(source.id, target.id, rng.choice(TYPES)))
    return AnnotatorWork(spans, relations)


def _copy_with_changes(rng: random.Random, work: AnnotatorWork) -> AnnotatorWork:
    """A second annotator: the first one's spans under new ids, some relations kept,
    some retyped or reversed, some dropped, some added."""
    ids = {span.id: f"B{i}" for i, span in enumerate(work.spans)}
    spans = [Span(ids[s.id], s.start, s.end, s.label) for s in work.spans]
    if rng.random() < 0.3 and spans:  # a span moved: its relations stop matching
        moved = rng.randrange(len(spans))
        s0 = spans[moved]
        spans[moved] = Span(s0.id, s0.start, s0.end + 1, s0.label)
    relations = []
    for rel in work.relations:
        roll = rng.random()
        if roll < 0.55:
            relations.append(Relation(ids[rel.source], ids[rel.target], rel.type))
        elif roll < 0.7:
            relations.append(Relation(ids[rel.source], ids[rel.target], rng.choice(TYPES)))
        elif roll < 0.8:
            relations.append(Relation(ids[rel.target], ids[rel.source], rel.type))
    for _ in range(rng.randint(0, 3)):
        if len(spans) >= 2:
            source, target = rng.sample(spans, 2)
            relations.append(Relation(source.id, target.id, rng.choice(TYPES)))
    return AnnotatorWork(spans, relations)


@pytest.mark.parametrize("seed", range(200))
def test_relation_f1_equals_a_naive_one_to_one_count(seed):
    rng = random.Random(seed)
    shared = [(s, s + rng.randint(1, 6), rng.choice(LABELS))
              for s in rng.sample(range(0, 40), k=5)]
    a = _work(rng, "A", shared)
    b = _copy_with_changes(rng, a) if seed % 4 else _work(rng, "B", shared)
    expected = _reference_f1(a, b)
    got = relation_f1(a, b)
    if expected is None:
        assert got is None
    else:
        assert got == pytest.approx(expected)
        assert relation_f1(b, a) == pytest.approx(expected)  # symmetric
