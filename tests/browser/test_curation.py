"""The curation page in real Chromium: pre-merge, decide, finalise (issue 5)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from annotator.models import AnnotationSet, Span
from tests.agreement_helpers import TEXT, annotate
from tests.factories import DocumentFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CLAIM = (61, 80, "MajorClaim")  # We should keep them
REASON = (0, 14, "Reason")  # Sanctions work
EVIDENCE = (16, 36, "Evidence")  # Exports fell sharply


@pytest.fixture
def brief(project, members):
    document = DocumentFactory(project=project, text=TEXT, title="Keep sanctions")
    annotate(project, document, "alice", [CLAIM, REASON, EVIDENCE], [(1, 0, "supports")])
    annotate(project, document, "bob", [CLAIM, REASON], [(1, 0, "supports")])
    annotate(project, document, "carol", [CLAIM, (16, 28, "Evidence")])
    return document


def own_sets(document):
    return sorted(
        Span.objects.filter(annotation_set__document=document, annotation_set__is_gold=False)
        .values_list("annotation_set__annotator__username", "start", "end", "label__name")
    )


def test_curator_premerges_accepts_rejects_and_finalises(page_for, live_server, members,
                                                          brief):
    before = own_sets(brief)
    page = page_for(members["curator"])
    page.goto(reverse("curation-document", kwargs={"slug": brief.project.slug,
                                                   "document_id": brief.pk}))
    candidates = page.locator("#span-candidates tbody tr")
    expect(candidates).to_have_count(4)
    claim_row = page.locator('tr[data-label="MajorClaim"]')
    expect(claim_row).to_contain_text("alice, bob, carol")
    expect(claim_row).to_contain_text("3/3")

    # Pre-merge what two of three agree on (the default), through htmx.
    page.click("#premerge-button")
    expect(page.locator("#curation-success")).to_contain_text("2 span(s), 1 relation(s)")
    expect(page.locator('#gold-text .g[data-t="MajorClaim"]')).to_have_text("We should keep them")
    expect(page.locator('#gold-text .g[data-t="Reason"]')).to_have_text("Sanctions work")
    expect(page.locator("#span-candidates tr.in-gold")).to_have_count(2)

    # Accept alice's evidence as it is.
    page.locator('tr[data-start="16"][data-end="36"] button.accept').click()
    expect(page.locator("#curation-success")).to_contain_text("Added to the gold: Evidence 16-36")
    expect(page.locator('#gold-text .g[data-t="Evidence"]')).to_have_text("Exports fell sharply")

    # Change our mind about the reason: reject it (its relation goes with it).
    page.locator('tr[data-start="0"][data-end="14"] button.reject').click()
    expect(page.locator("#curation-success")).to_contain_text("Taken out of the gold")
    expect(page.locator('#gold-text .g[data-t="Reason"]')).to_have_count(0)
    expect(page.locator("#relation-candidates")).to_contain_text("accept both spans first")

    # Edit a candidate: carol's evidence, accepted with other edges and another label.
    row = page.locator('tr[data-start="16"][data-end="28"]')
    row.locator("summary").click()
    row.locator('details select[name="label"]').select_option(label="Reason")
    row.locator('details input[name="end"]').fill("36")
    row.locator("text=Accept edited").click()
    expect(page.locator("#curation-success")).to_contain_text("Reason 16-36")

    # The side-by-side view shows every annotator and the gold.
    page.click("text=Side by side")
    expect(page.locator(".side-column h2")).to_have_text(["alice", "bob", "carol", "Gold"])

    # The reason is out, so the relation alice and bob drew is lost; Evidence and Reason
    # cover the same words (not a conflict: two labels). Listed, then confirmed.
    page.click("#finalize-button")
    expect(page.locator("#conflict-list li")).to_have_text([
        "Reason “Sanctions work” (0-14) —supports→ MajorClaim “We should keep them” (61-80)"
        " (2 of 3 annotators) is lost: its source is not in the gold"])
    assert not AnnotationSet.objects.get(document=brief, is_gold=True).gold_final
    page.click("#confirm-finalize-button")
    expect(page.locator("#gold-state")).to_contain_text("final")
    expect(page.locator("#premerge-button")).to_have_count(0)
    gold = AnnotationSet.objects.get(document=brief, is_gold=True)
    assert gold.gold_final
    assert sorted(gold.spans.values_list("start", "end", "label__name")) == [
        (16, 36, "Evidence"), (16, 36, "Reason"), (61, 80, "MajorClaim")]
    assert own_sets(brief) == before  # nobody's own set changed


def test_the_page_works_without_javascript(page_for, members, brief):
    page = page_for(members["curator"], java_script_enabled=False)
    page.goto(reverse("curation-document", kwargs={"slug": brief.project.slug,
                                                   "document_id": brief.pk}))
    page.click("#premerge-button")
    expect(page.locator(".messages")).to_contain_text("2 span(s), 1 relation(s)")
    expect(page.locator("#span-candidates tr.in-gold")).to_have_count(2)
