"""Curation: a candidate's edges moved with handles or keys, not typed offsets (issue 13, 5)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from annotator.models import Span
from tests.agreement_helpers import TEXT, annotate
from tests.factories import DocumentFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def brief(project, members):
    document = DocumentFactory(project=project, text=TEXT, title="Keep sanctions")
    annotate(project, document, "alice", [(16, 28, "Evidence")], [])
    annotate(project, document, "bob", [(0, 14, "Reason")], [])
    return document


def _open(page, brief):
    page.goto(reverse("curation-document", kwargs={"slug": brief.project.slug,
                                                   "document_id": brief.pk}))
    row = page.locator('tr[data-start="16"][data-end="28"]')
    row.locator("summary", has_text="Edit").click()
    editor = row.locator(".boundary-edit")
    expect(editor).to_be_visible()
    return row, editor


def _gold(brief):
    return [(s.label.name, TEXT[s.start : s.end]) for s in Span.objects.filter(
        annotation_set__document=brief, annotation_set__is_gold=True).select_related("label")]


def test_a_curator_moves_a_candidates_end_with_the_keys(page_for, members, brief):
    assert TEXT[16:28] == "Exports fell"
    page = page_for(members["curator"])
    row, editor = _open(page, brief)
    expect(editor.locator(".g[data-k]")).to_have_text("Exports fell")
    editor.focus()
    page.keyboard.press("Shift+ArrowRight")  # the end takes the next word
    expect(row.get_by_role("spinbutton", name="End")).to_have_value(str(TEXT.index("sharply") + 7))
    expect(editor.locator(".boundary-now")).to_contain_text("“Exports fell sharply”")
    page.keyboard.press("Alt+Shift+ArrowRight")  # the start gives up a word
    expect(row.get_by_role("spinbutton", name="Start")).to_have_value(str(TEXT.index("fell")))
    row.get_by_role("button", name="Accept edited").click()
    expect(page.locator("#curation-success")).to_contain_text("Added to the gold")
    assert _gold(brief) == [("Evidence", "fell sharply")]


def test_a_curator_drags_a_candidates_edges(page_for, members, brief):
    page = page_for(members["curator"])
    row, editor = _open(page, brief)
    handle = editor.locator(".handle-end")
    expect(handle).to_be_visible()
    box = handle.bounding_box()
    # Drop the end on the last letter of "sharply".
    target = page.evaluate(
        """(el) => {
          const seg = [...el.querySelectorAll('.g')].find(s => s.textContent.includes('sharply'));
          const at = seg.textContent.indexOf('sharply') + 6;
          const r = document.createRange();
          r.setStart(seg.firstChild, at); r.setEnd(seg.firstChild, at + 1);
          const b = r.getBoundingClientRect();
          return {x: b.right - 1, y: b.top + b.height / 2};
        }""",
        editor.element_handle(),
    )
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(target["x"], target["y"], steps=6)
    page.mouse.up()
    expect(row.get_by_role("spinbutton", name="End")).to_have_value(str(TEXT.index("sharply") + 7))
    row.get_by_role("button", name="← start").click()  # buttons for the mouse, too
    row.get_by_role("button", name="start →").click()
    row.get_by_role("button", name="start →").click()
    expect(row.get_by_role("spinbutton", name="Start")).to_have_value(str(TEXT.index("fell")))
    row.get_by_role("button", name="Accept edited").click()
    expect(page.locator("#curation-success")).to_contain_text("Added to the gold")
    assert _gold(brief) == [("Evidence", "fell sharply")]
