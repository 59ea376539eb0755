"""The curation pages: who marked what, merged and side by side; writes with and without htmx."""

from __future__ import annotations

import pytest
from django.urls import reverse

from annotator.models import AnnotationSet
from tests.agreement_helpers import TEXT, annotate
from tests.factories import DocumentFactory

CLAIM = (61, 80, "MajorClaim")
REASON = (0, 14, "Reason")


@pytest.fixture
def brief(project, members):
    document = DocumentFactory(project=project, text=TEXT, title="Keep sanctions")
    annotate(project, document, "alice", [CLAIM, REASON], [(1, 0, "supports")])
    annotate(project, document, "bob", [CLAIM, (16, 36, "Evidence")])
    annotate(project, document, "carol", [CLAIM], status="in_progress")
    return document


def u(project, name, document, **kw):
    return reverse(name, kwargs={"slug": project.slug, "document_id": document.pk, **kw})


def test_the_list_shows_submissions_and_gold_state(client_for, project, brief):
    body = client_for("curator").get(reverse("curation", kwargs={"slug": project.slug}))
    body = body.content.decode()
    assert "Keep sanctions" in body and "2 of 3" in body and ">none<" in body


def test_merged_view_lists_candidates_with_who_marked_them(client_for, project, brief):
    body = client_for("curator").get(u(project, "curation-document", brief)).content.decode()
    claim = body[body.index('data-start="61" data-end="80" data-label="MajorClaim"'):]
    claim = claim[: claim.index("</tr>")]
    assert '<span class="who">alice</span>' in claim and '<span class="who">bob</span>' in claim
    assert "2/2" in claim
    assert "carol" in body and "no vote" in body  # in progress: listed, does not vote
    assert '<option value="2" selected>' in body  # the default majority of two voters
    # The relation candidate names both of its spans by their text (issue 14).
    relations = body[body.index('id="relation-candidates"'):]
    relations = relations[: relations.index("</table>")]
    assert '“<bdi class="quote">Sanctions work</bdi>”' in relations
    assert '“<bdi class="quote">We should keep them</bdi>”' in relations


def test_side_by_side_renders_each_annotators_text(client_for, project, brief):
    body = client_for("curator").get(u(project, "curation-document", brief) + "?view=side")
    body = body.content.decode()
    assert 'id="col-1">alice<' in body and 'id="col-2">bob<' in body and 'id="col-gold"' in body
    assert body.count('class="doc-text compact-text"') == 3
    assert 'data-t="Evidence"' in body  # bob's evidence, drawn with its label


def test_premerge_accept_reject_finalize_without_javascript(client_for, project, brief):
    client = client_for("curator")
    response = client.post(u(project, "curation-premerge", brief),
                           {"min_votes": "2", "expected_version": "0"})
    assert response.status_code == 302
    gold = AnnotationSet.objects.get(document=brief, is_gold=True)
    assert list(gold.spans.values_list("start", "end")) == [(61, 80)]
    labels = {lab.name: lab.pk for lab in project.span_labels.all()}
    client.post(u(project, "curation-span-accept", brief), {
        "label": labels["Reason"], "start": "0", "end": "14", "expected_version": "1"})
    gold.refresh_from_db()
    reason, claim = gold.spans.order_by("start")
    types = {t.name: t.pk for t in project.relation_types.all()}
    client.post(u(project, "curation-relation-accept", brief), {
        "source": reason.pk, "target": claim.pk, "type": types["supports"],
        "expected_version": "2"})
    assert gold.relations.count() == 1
    client.post(u(project, "curation-span-reject", brief, span_id=reason.pk),
                {"expected_version": "3"})
    assert gold.spans.count() == 1 and gold.relations.count() == 0
    response = client.post(u(project, "curation-finalize", brief), {"expected_version": "4"},
                           follow=True)
    assert "The gold standard is final" in response.content.decode()
    gold.refresh_from_db()
    assert gold.gold_final


def test_htmx_write_answers_the_body_with_the_view_kept(client_for, project, brief):
    page = u(project, "curation-document", brief) + "?view=side"
    response = client_for("manager").post(
        u(project, "curation-premerge", brief),
        {"min_votes": "1", "expected_version": "0", "next": page}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="curation-body"')
    assert 'id="col-gold"' in body  # still side by side
    assert "3 span(s), 1 relation(s) added" in body


def test_a_stale_page_gets_the_newest_state_and_an_error(client_for, project, brief):
    client = client_for("curator")
    client.post(u(project, "curation-premerge", brief), {"min_votes": "2",
                                                         "expected_version": "0"})
    response = client.post(u(project, "curation-premerge", brief),
                           {"min_votes": "1", "expected_version": "0"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert 'id="curation-error"' in body and "changed elsewhere" in body
    assert 'data-gold-version="1"' in body


def test_a_next_outside_the_page_is_ignored(client_for, project, brief):
    response = client_for("curator").post(
        u(project, "curation-premerge", brief),
        {"min_votes": "2", "expected_version": "0", "next": "https://evil.example/"})
    assert response["Location"] == u(project, "curation-document", brief)


def test_a_final_gold_shows_no_decisions_and_can_be_reopened(client_for, project, brief):
    client = client_for("curator")
    client.post(u(project, "curation-premerge", brief), {"min_votes": "2",
                                                         "expected_version": "0"})
    client.post(u(project, "curation-finalize", brief), {"expected_version": "1"})
    body = client.get(u(project, "curation-document", brief)).content.decode()
    assert 'id="premerge-button"' not in body and 'id="reopen-button"' in body
    client.post(u(project, "curation-reopen", brief), {"expected_version": "2"})
    assert not AnnotationSet.objects.get(document=brief, is_gold=True).gold_final


def test_an_annotators_span_cannot_be_rejected_through_the_page(client_for, project, brief):
    alice = AnnotationSet.objects.get(document=brief, annotator__username="alice")
    alice_span = alice.spans.first()
    response = client_for("curator").post(
        u(project, "curation-span-reject", brief, span_id=alice_span.pk), {"expected_version": "1"})
    assert response.status_code == 404
    assert AnnotationSet.objects.get(document=brief, annotator__username="alice").spans.count() == 2


def test_overlapping_variants_are_listed_and_must_be_confirmed(client_for, project, brief):
    """Three overlapping MajorClaim variants do not go into a final gold unseen (issue 14)."""
    client = client_for("curator")
    labels = {lab.name: lab.pk for lab in project.span_labels.all()}
    for version, (start, end) in enumerate([(61, 80), (64, 80), (61, 72)]):
        client.post(u(project, "curation-span-accept", brief), {
            "label": labels["MajorClaim"], "start": start, "end": end,
            "expected_version": str(version)})
    gold = AnnotationSet.objects.get(document=brief, is_gold=True)
    assert gold.spans.count() == 3
    # With htmx: the body comes back with the list and a button to confirm.
    response = client.post(u(project, "curation-finalize", brief),
                           {"expected_version": "3"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200 and 'id="gold-conflicts"' in body
    assert "3 conflicts" in body and body.count('class="conflict-overlap"') == 3
    assert ("MajorClaim “We should keep them” (61-80) and MajorClaim “should keep them” (64-80) "
            "overlap: one label twice") in body
    assert 'id="confirm-finalize-button"' in body
    # Without htmx: 409 and the same list; nothing changed.
    response = client.post(u(project, "curation-finalize", brief), {"expected_version": "3"})
    assert response.status_code == 409 and body.count("overlap: one label twice") == 3
    gold.refresh_from_db()
    assert not gold.gold_final and gold.version == 3
    response = client.post(u(project, "curation-finalize", brief),
                           {"expected_version": "3", "confirm": "yes"}, follow=True)
    assert "The gold standard is final" in response.content.decode()
    gold.refresh_from_db()
    assert gold.gold_final
