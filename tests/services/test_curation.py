"""Curation: pre-merge by a configurable majority, accept / edit / reject, final gold,
and annotators' own sets never touched."""

from __future__ import annotations

import pytest

from annotator.models import AnnotationSet, AnnotationStatus, Relation, Span
from annotator.selectors.curation import curation_data, majority
from annotator.services import curation as svc
from annotator.services.errors import ConflictError, WarrantError
from tests.agreement_helpers import TEXT, annotate
from tests.factories import DocumentFactory

CLAIM = (61, 80, "MajorClaim")  # We should keep them
REASON = (0, 14, "Reason")  # Sanctions work
EVIDENCE = (16, 36, "Evidence")  # Exports fell sharply
SHORT_EVIDENCE = (16, 28, "Evidence")  # Exports fell


@pytest.fixture
def brief(project):
    """alice, bob, carol submitted; dave is still working (he does not vote).

    Everyone agrees on the major claim; alice and bob on the reason and its
    supports relation; only carol marks the shorter evidence.
    """
    document = DocumentFactory(project=project, text=TEXT)
    annotate(project, document, "alice", [CLAIM, REASON, EVIDENCE], [(1, 0, "supports")])
    annotate(project, document, "bob", [CLAIM, REASON], [(1, 0, "supports")])
    annotate(project, document, "carol", [CLAIM, SHORT_EVIDENCE])
    annotate(project, document, "dave", [CLAIM, (48, 59, "Claim")], status="in_progress")
    return document


def snapshot(document):
    """Everything of the annotators' own sets that curation must never change."""
    sets = AnnotationSet.objects.filter(document=document, is_gold=False).order_by("pk")
    return [
        (
            s.pk, s.status, s.version, s.annotator_id,
            sorted(Span.objects.filter(annotation_set=s).values_list("pk", "start", "end",
                                                                     "label_id")),
            sorted(Relation.objects.filter(annotation_set=s).values_list("pk", "source_id",
                                                                         "target_id", "type_id")),
        )
        for s in sets
    ]


def gold_keys(document):
    gold = AnnotationSet.objects.get(document=document, is_gold=True)
    return sorted(gold.spans.values_list("start", "end", "label__name"))


def gold_relations(document):
    gold = AnnotationSet.objects.get(document=document, is_gold=True)
    return sorted(
        (r.source.start, r.target.start, r.type.name)
        for r in gold.relations.select_related("source", "target", "type")
    )


@pytest.mark.parametrize(("voters", "expected"), [(1, 1), (2, 2), (3, 2), (4, 3), (5, 3)])
def test_majority_is_more_than_half(voters, expected):
    assert majority(voters) == expected


def test_candidates_carry_who_marked_them_and_only_submitted_sets_vote(project, brief):
    data = curation_data(project=project, document=brief)
    assert [s.annotator.username for s in data.voters] == ["alice", "bob", "carol"]
    assert [s.annotator.username for s in data.waiting] == ["dave"]
    by_key = {(c.start, c.end, c.label.name): c.annotators for c in data.spans}
    assert by_key == {
        CLAIM: ["alice", "bob", "carol"],
        REASON: ["alice", "bob"],
        EVIDENCE: ["alice"],
        SHORT_EVIDENCE: ["carol"],
    }
    assert [(r.type.name, r.annotators) for r in data.relations] == [("supports", ["alice", "bob"])]
    assert data.default_min_votes == 2


def test_premerge_by_majority_adds_what_two_of_three_agree_on(project, brief):
    report = svc.gold_premerge(document=brief, min_votes=2, expected_version=0)
    assert (report.spans_added, report.relations_added) == (2, 1)
    assert gold_keys(brief) == [(0, 14, "Reason"), (61, 80, "MajorClaim")]
    assert gold_relations(brief) == [(0, 61, "supports")]
    gold = AnnotationSet.objects.get(document=brief, is_gold=True)
    assert gold.status == AnnotationStatus.IN_PROGRESS
    assert not gold.gold_final


@pytest.mark.parametrize(
    ("min_votes", "spans"),
    [(1, 4), (2, 2), (3, 1)],
)
def test_the_majority_is_configurable(project, brief, min_votes, spans):
    report = svc.gold_premerge(document=brief, min_votes=min_votes, expected_version=0)
    assert report.spans_added == spans


@pytest.mark.parametrize("min_votes", [0, 4, -1])
def test_a_majority_outside_the_voters_is_refused(project, brief, min_votes):
    with pytest.raises(WarrantError, match="from 1 to 3"):
        svc.gold_premerge(document=brief, min_votes=min_votes, expected_version=0)
    assert not AnnotationSet.objects.filter(document=brief, is_gold=True).exists()


def test_premerge_twice_adds_nothing_new_and_keeps_the_curators_work(project, brief):
    svc.gold_premerge(document=brief, min_votes=2, expected_version=0)
    gold = AnnotationSet.objects.get(document=brief, is_gold=True)
    labels = {lab.name: lab for lab in project.span_labels.all()}
    svc.gold_span_accept(document=brief, label=labels["Evidence"], start=16, end=36,
                         expected_version=gold.version)
    gold.refresh_from_db()
    report = svc.gold_premerge(document=brief, min_votes=2, expected_version=gold.version)
    assert (report.spans_added, report.relations_added) == (0, 0)
    assert (16, 36, "Evidence") in gold_keys(brief)


def test_curation_never_changes_an_annotators_set(project, brief):
    before = snapshot(brief)
    labels = {lab.name: lab for lab in project.span_labels.all()}
    svc.gold_premerge(document=brief, min_votes=1, expected_version=0)
    gold = AnnotationSet.objects.get(document=brief, is_gold=True)
    span = gold.spans.get(start=16, end=28)
    svc.gold_span_relabel(span=span, label=labels["Reason"], expected_version=gold.version)
    gold.refresh_from_db()
    svc.gold_span_reject(span=gold.spans.get(start=16, end=36), expected_version=gold.version)
    gold.refresh_from_db()
    relation = gold.relations.first()
    svc.gold_relation_reject(relation=relation, expected_version=gold.version)
    gold.refresh_from_db()
    svc.gold_finalize(document=brief, expected_version=gold.version)
    assert snapshot(brief) == before


def test_services_refuse_to_write_an_annotators_span(project, brief):
    alice_span = Span.objects.filter(annotation_set__annotator__username="alice").first()
    labels = {lab.name: lab for lab in project.span_labels.all()}
    before = snapshot(brief)
    with pytest.raises(WarrantError, match="only the gold"):
        svc.gold_span_reject(span=alice_span, expected_version=1)
    with pytest.raises(WarrantError, match="only the gold"):
        svc.gold_span_relabel(span=alice_span, label=labels["Claim"], expected_version=1)
    alice_relation = Relation.objects.filter(annotation_set__annotator__username="alice").first()
    with pytest.raises(WarrantError, match="only the gold"):
        svc.gold_relation_reject(relation=alice_relation, expected_version=1)
    assert snapshot(brief) == before


def test_accept_edit_reject_a_span_and_accept_a_relation(project, brief):
    labels = {lab.name: lab for lab in project.span_labels.all()}
    types = {t.name: t for t in project.relation_types.all()}
    # Accept carol's short evidence, edited to the longer boundary.
    evidence = svc.gold_span_accept(document=brief, label=labels["Evidence"], start=16, end=36,
                                    expected_version=0)
    claim = svc.gold_span_accept(document=brief, label=labels["MajorClaim"], start=61, end=80,
                                 expected_version=1)
    relation = svc.gold_relation_accept(document=brief, source=evidence, target=claim,
                                        type=types["supports"], expected_version=2)
    assert relation.annotation_set.is_gold
    assert gold_relations(brief) == [(16, 61, "supports")]
    svc.gold_span_reject(span=evidence, expected_version=3)
    assert gold_keys(brief) == [(61, 80, "MajorClaim")]
    assert gold_relations(brief) == []  # the relation went with its span


def test_the_schema_still_holds_in_the_gold(project, brief):
    labels = {lab.name: lab for lab in project.span_labels.all()}
    types = {t.name: t for t in project.relation_types.all()}
    claim = svc.gold_span_accept(document=brief, label=labels["MajorClaim"], start=61, end=80,
                                 expected_version=0)
    reason = svc.gold_span_accept(document=brief, label=labels["Reason"], start=0, end=14,
                                  expected_version=1)
    with pytest.raises(WarrantError, match="evidence_for"):
        svc.gold_relation_accept(document=brief, source=reason, target=claim,
                                 type=types["evidence_for"], expected_version=2)


def test_a_relation_needs_both_spans_in_the_gold(project, brief):
    alice = AnnotationSet.objects.get(document=brief, annotator__username="alice")
    source, target = alice.spans.order_by("start")[0], alice.spans.order_by("start")[2]
    types = {t.name: t for t in project.relation_types.all()}
    with pytest.raises(WarrantError, match="both spans"):
        svc.gold_relation_accept(document=brief, source=source, target=target,
                                 type=types["supports"], expected_version=0)


def test_a_stale_version_is_a_conflict_and_writes_nothing(project, brief):
    svc.gold_premerge(document=brief, min_votes=3, expected_version=0)
    labels = {lab.name: lab for lab in project.span_labels.all()}
    with pytest.raises(ConflictError):
        svc.gold_span_accept(document=brief, label=labels["Reason"], start=0, end=14,
                             expected_version=0)
    with pytest.raises(ConflictError):
        svc.gold_premerge(document=brief, min_votes=2, expected_version=0)
    with pytest.raises(ConflictError):
        svc.gold_finalize(document=brief, expected_version=0)
    assert gold_keys(brief) == [CLAIM]


def test_a_final_gold_takes_no_edits_until_reopened(project, brief):
    svc.gold_premerge(document=brief, min_votes=2, expected_version=0)
    gold = AnnotationSet.objects.get(document=brief, is_gold=True)
    gold = svc.gold_finalize(document=brief, expected_version=gold.version)
    assert gold.gold_final and gold.status == AnnotationStatus.SUBMITTED
    labels = {lab.name: lab for lab in project.span_labels.all()}
    with pytest.raises(WarrantError, match="final"):
        svc.gold_span_accept(document=brief, label=labels["Claim"], start=48, end=59,
                             expected_version=gold.version)
    with pytest.raises(WarrantError, match="final"):
        svc.gold_premerge(document=brief, min_votes=1, expected_version=gold.version)
    with pytest.raises(WarrantError, match="already final"):
        svc.gold_finalize(document=brief, expected_version=gold.version)
    gold = svc.gold_reopen(document=brief, expected_version=gold.version)
    assert not gold.gold_final and gold.status == AnnotationStatus.IN_PROGRESS
    svc.gold_span_accept(document=brief, label=labels["Claim"], start=48, end=59,
                         expected_version=gold.version)


def test_finalize_without_a_gold_and_reopen_of_a_draft_are_refused(project, brief):
    with pytest.raises(WarrantError, match="no gold"):
        svc.gold_finalize(document=brief, expected_version=0)
    svc.gold_premerge(document=brief, min_votes=3, expected_version=0)
    with pytest.raises(WarrantError, match="only a final"):
        svc.gold_reopen(document=brief, expected_version=1)


def test_an_imported_gold_becomes_a_draft_on_the_first_curation_write(project, brief):
    gold = AnnotationSet.objects.create(document=brief, is_gold=True, annotator=None,
                                        status=AnnotationStatus.SUBMITTED)
    labels = {lab.name: lab for lab in project.span_labels.all()}
    svc.gold_span_accept(document=brief, label=labels["Reason"], start=0, end=14,
                         expected_version=0)
    gold.refresh_from_db()
    assert gold.status == AnnotationStatus.IN_PROGRESS and gold.version == 1


def test_premerge_without_any_submission_is_refused(project):
    document = DocumentFactory(project=project, text=TEXT)
    annotate(project, document, "erin", [CLAIM], status="in_progress")
    with pytest.raises(WarrantError, match="nothing to merge"):
        svc.gold_premerge(document=document, min_votes=1, expected_version=0)


# --- Conflicts before the gold is final (issue 14) -----------------------------------------


def _accept(project, brief, *spans):
    labels = {lab.name: lab for lab in project.span_labels.all()}
    for start, end, label in spans:
        gold = AnnotationSet.objects.filter(document=brief, is_gold=True).first()
        svc.gold_span_accept(document=brief, label=labels[label], start=start, end=end,
                             expected_version=gold.version if gold else 0)
    return AnnotationSet.objects.get(document=brief, is_gold=True)


def test_conflicts_name_overlaps_of_one_label_crossings_and_lost_relations(project, brief):
    # Three MajorClaim variants (overlapping), an Evidence crossing a Claim, and the
    # reason that alice and bob linked to the major claim left out of the gold.
    gold = _accept(project, brief, CLAIM, (64, 80, "MajorClaim"), (61, 72, "MajorClaim"),
                   EVIDENCE, (29, 47, "Claim"))
    conflicts, total = svc.gold_conflicts(document=brief)
    messages = [c.message for c in conflicts]
    assert [c.kind for c in conflicts] == [
        "crossing", "overlap", "overlap", "overlap", "lost_relation"]
    assert total == 5
    assert messages[0] == ("Evidence “Exports fell sharply” (16-36) and "
                           "Claim “sharply (Reuters).” (29-47) cross")
    assert messages[1] == ("MajorClaim “We should keep them” (61-80) and "
                           "MajorClaim “We should k” (61-72) overlap: one label twice")
    assert messages[4] == ("Reason “Sanctions work” (0-14) —supports→ MajorClaim “We should "
                           "keep them” (61-80) (2 of 3 annotators) is lost: its source is not "
                           "in the gold")
    # Refused with the list, nothing written; confirmed, final.
    with pytest.raises(svc.GoldConflictsError) as refused:
        svc.gold_finalize(document=brief, expected_version=gold.version)
    assert refused.value.total == 5 and refused.value.conflicts == conflicts
    assert isinstance(refused.value, ConflictError)  # a 409
    gold.refresh_from_db()
    assert not gold.gold_final
    gold = svc.gold_finalize(document=brief, expected_version=gold.version, confirm=True)
    assert gold.gold_final


def test_a_clean_gold_is_final_without_confirming(project, brief):
    svc.gold_premerge(document=brief, min_votes=2, expected_version=0)
    assert svc.gold_conflicts(document=brief) == ([], 0)
    gold = AnnotationSet.objects.get(document=brief, is_gold=True)
    assert svc.gold_finalize(document=brief, expected_version=gold.version).gold_final


def test_a_relation_few_annotators_drew_is_not_a_conflict(project, brief):
    # carol alone would link the evidence: one of three is not a majority.
    _accept(project, brief, CLAIM, REASON)
    gold = AnnotationSet.objects.get(document=brief, is_gold=True)
    rel = Relation.objects.get(annotation_set__annotator__username="alice")
    svc.gold_relation_accept(document=brief, source=gold.spans.get(start=0),
                             target=gold.spans.get(start=61), type=rel.type,
                             expected_version=gold.version)
    annotate(project, brief, "erin", [SHORT_EVIDENCE, CLAIM], [(0, 1, "supports")],
             status="in_progress")  # not submitted: no vote
    assert svc.gold_conflicts(document=brief) == ([], 0)


def test_the_conflict_list_is_bounded(project, brief):
    spans = [(s, s + 10, "Claim") for s in range(0, 70)]
    gold = _accept(project, brief, *spans[:1])
    labels = {lab.name: lab for lab in project.span_labels.all()}
    from annotator.models import Span as SpanModel

    SpanModel.objects.bulk_create(
        SpanModel(annotation_set=gold, label=labels["Claim"], start=a, end=b)
        for a, b, _ in spans[1:]
    )
    conflicts, total = svc.gold_conflicts(document=brief)
    assert len(conflicts) == svc.CONFLICTS_SHOWN
    assert total == sum(1 for i in range(70) for j in range(i + 1, 70) if j < i + 10)
