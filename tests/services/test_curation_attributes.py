"""Curation shows each annotator's attribute values on a candidate, and a pre-merge keeps
the values enough voters agree on."""

from __future__ import annotations

from django.urls import reverse

from annotator.models import AnnotationSet, Span
from annotator.selectors.curation import curation_data
from annotator.services import curation as svc
from tests.agreement_helpers import TEXT, annotate
from tests.factories import DocumentFactory

EVIDENCE = (16, 36, "Evidence")  # Exports fell sharply


def _with_kinds(project, kinds, text=TEXT):
    document = DocumentFactory(project=project, text=text)
    for name, kind in kinds.items():
        aset = annotate(project, document, name, [EVIDENCE])
        if kind:
            Span.objects.filter(annotation_set=aset).update(attributes={"kind": kind})
    return document


def test_candidates_carry_each_voters_values(project):
    document = _with_kinds(project, {"alice": "statistic", "bob": "statistic", "carol": "study"})
    [cand] = curation_data(project=project, document=document).spans
    assert cand.attribute_votes == [("kind", [("statistic", ["alice", "bob"]),
                                              ("study", ["carol"])])]
    assert cand.agreed_attributes(2) == {"kind": "statistic"}
    assert cand.agreed_attributes(3) == {}


def test_a_premerge_keeps_the_values_the_majority_gave_and_not_a_tie(project):
    document = _with_kinds(project, {"alice": "statistic", "bob": "statistic", "carol": "study"})
    svc.gold_premerge(document=document, min_votes=2, expected_version=0)
    gold = AnnotationSet.objects.get(document=document, is_gold=True)
    assert list(gold.spans.values_list("attributes", flat=True)) == [{"kind": "statistic"}]

    tie = _with_kinds(project, {"dan": "statistic", "eve": "study"}, text=TEXT + " Again.")
    svc.gold_premerge(document=tie, min_votes=1, expected_version=0)
    gold = AnnotationSet.objects.get(document=tie, is_gold=True)
    assert list(gold.spans.values_list("attributes", flat=True)) == [{}]


def test_the_curation_page_shows_the_values_and_who_gave_them(client_for, project, members):
    document = _with_kinds(project, {"alice": "statistic", "bob": "study", "carol": None})
    url = reverse("curation-document", kwargs={"slug": project.slug, "document_id": document.pk})
    body = client_for("curator").get(url).content.decode()
    assert "kind: statistic (alice) · study (bob)" in body
