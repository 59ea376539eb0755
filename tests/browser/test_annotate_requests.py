"""One request per save (issue 12, point 5), counted in real Chromium: each edit the page
makes — a span by keyboard, a relabel, a relation, a deletion, undo and redo — sends one
request; the page redraws its outline, warnings and relation panels from the change the
answer carries (no second request for the panels)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from annotator.models import Relation
from tests.factories import AnnotationSetFactory, DocumentFactory

from .helpers import click_phrase, drag_select, open_page, spans_of, wait_saved

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXT = ("Sanctions on Ruritania should be lifted. Exports fell by 40% (Reuters). "
        "Prices rose sharply.")


class Requests:
    """The requests the page sends (and the answers it gets) while a test step runs."""

    def __init__(self, page):
        self.page = page
        self.seen: list = []
        page.on("request", lambda request: self.seen.append(request))

    def settle(self) -> None:
        """Let the reads a selection starts (the span editor, after a short delay) go by,
        and forget them: what follows is the save alone."""
        self.page.wait_for_timeout(500)
        self.seen.clear()

    def during(self, action, done_text: str) -> list:
        self.seen.clear()
        action()
        wait_saved(self.page, done_text)
        self.page.wait_for_timeout(400)  # a second request, if any, would have gone by now
        return list(self.seen)


def _writes(requests) -> list:
    return [r for r in requests if r.method != "GET"]


@pytest.fixture
def brief(project, members):
    document = DocumentFactory(project=project, text=TEXT)
    return document, AnnotationSetFactory(document=document, annotator=members["annotator"])


def test_every_edit_is_one_request_and_the_page_redraws_its_panels(page_for, members, brief):
    document, aset = brief
    page = page_for(members["annotator"])
    open_page(page, document)
    log = Requests(page)

    def one(action, done_text):
        sent = log.during(action, done_text)
        assert len(sent) == 1, [f"{r.method} {r.url}" for r in sent]
        assert len(_writes(sent)) == 1
        body = sent[0].response().text()
        # The answer has the header, not the panels: the page draws them from the change
        # (tests/browser/test_annotate_panels.py holds them equal to the server's).
        assert 'id="set-meta" hx-swap-oob="true"' in body and 'id="panels"' not in body
        aset.refresh_from_db()
        spans, relations = aset.spans.count(), aset.relations.count()
        expect(page.locator("#outline-title .count")).to_have_text(
            f"{spans} span{'' if spans == 1 else 's'}")
        expect(page.locator("#relations-title .count")).to_have_text(str(relations))
        return sent[0]

    def claim_by_keyboard():
        drag_select(page, "Sanctions on Ruritania should be lifted.")
        log.settle()  # the selection's own reads are not a save
        page.keyboard.press("c")

    one(claim_by_keyboard, "Claim")

    def evidence_by_keyboard():
        drag_select(page, "Exports fell by 40%")
        log.settle()
        page.keyboard.press("e")

    one(evidence_by_keyboard, "Evidence")
    assert spans_of(aset) == [("Claim", "Sanctions on Ruritania should be lifted."),
                              ("Evidence", "Exports fell by 40%")]

    # Link the selected evidence to the claim by keyboard: t, k (the previous span), Enter,
    # then the type's number.
    def link():
        page.keyboard.press("t")
        page.keyboard.press("k")
        page.keyboard.press("Enter")
        log.settle()
        page.keyboard.press("3")

    one(link, "Linked")
    assert Relation.objects.filter(annotation_set=aset).count() == 1
    one(lambda: page.keyboard.press("u"), "Undone")
    one(lambda: page.keyboard.press("Control+Shift+Z"), "Redone")
    assert Relation.objects.filter(annotation_set=aset).count() == 1

    def delete_evidence():
        click_phrase(page, "Exports")
        expect(page.locator("#status-line")).to_contain_text("Evidence")
        log.settle()
        page.keyboard.press("x")

    one(delete_evidence, "Deleted")
    assert spans_of(aset) == [("Claim", "Sanctions on Ruritania should be lifted.")]
    one(lambda: page.keyboard.press("u"), "Undone")
    assert Relation.objects.filter(annotation_set=aset).count() == 1
