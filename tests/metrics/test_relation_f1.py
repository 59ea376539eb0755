import pytest

from annotator.metrics.relation_f1 import relation_f1, relation_keys, relation_match_counts
from annotator.metrics.types import AnnotatorWork, Relation, Span

CLAIM, REASON, EVIDENCE = Span("T1", 0, 10, "Claim"), Span("T2", 11, 20, "Reason"), Span(
    "T3", 21, 30, "Evidence")


def work(relations, spans=(CLAIM, REASON, EVIDENCE)):
    return AnnotatorWork(list(spans), [Relation(*r) for r in relations])


def test_identical_relations_match_whatever_the_span_ids():
    renamed = [Span("X" + s.id, s.start, s.end, s.label) for s in (CLAIM, REASON, EVIDENCE)]
    a = work([("T2", "T1", "supports")])
    b = work([("XT2", "XT1", "supports")], renamed)
    assert relation_f1(a, b) == 1.0


def test_direction_type_and_exact_endpoints_are_required():
    a = work([("T2", "T1", "supports")])
    assert relation_f1(a, work([("T1", "T2", "supports")])) == 0.0
    assert relation_f1(a, work([("T2", "T1", "attacks")])) == 0.0
    moved = [CLAIM, Span("T2", 11, 19, "Reason"), EVIDENCE]
    assert relation_f1(a, work([("T2", "T1", "supports")], moved)) == 0.0


def test_relation_f1_counts_one_to_one_and_per_type():
    a = work([("T2", "T1", "supports"), ("T3", "T1", "supports"), ("T3", "T2", "attacks")])
    b = work([("T2", "T1", "supports"), ("T3", "T2", "attacks"), ("T3", "T2", "attacks")])
    counts = relation_match_counts(relation_keys(a), relation_keys(b))
    assert counts == {"supports": (1, 2, 1), "attacks": (1, 1, 2)}
    assert relation_f1(a, b) == pytest.approx(2 * 2 / 6)


def test_relation_f1_is_undefined_without_relations():
    assert relation_f1(work([]), work([])) is None
    assert relation_f1(work([("T2", "T1", "supports")]), work([])) == 0.0


def test_relation_to_an_unknown_span_is_rejected():
    with pytest.raises(ValueError, match="'T9'"):
        relation_keys(work([("T9", "T1", "supports")]))
