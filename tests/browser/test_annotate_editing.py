"""Editing on the annotation page (issue 13, points 4-7): snapping, boundaries, keyboard
selection at reading speed, and search, each for a mouse user and for a keyboard user."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.factories import AnnotationSetFactory, DocumentFactory

from .helpers import click_phrase, drag_select, open_page, spans_of, wait_saved
from .helpers import make_span as _span

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXT = (
    "Pakistan and Russia are building a new strategic partnership. It costs 96 million "
    "euros a year, officials say. Sanctions don't work.\n\n"
    "Prices rose sharply in 2024. Exports fell by 40% (Reuters). The sanctions failed.\n\n"
    "A third paragraph ends here."
)


@pytest.fixture
def brief(project):
    return DocumentFactory(project=project, text=TEXT, title="Partnership brief")


@pytest.fixture
def own_set(brief, members):
    return AnnotationSetFactory(document=brief, annotator=members["annotator"])


def _focus_text(page):
    page.locator("#doc-text").focus()


# ---------------------------------------------------------------- point 4: snapping


def test_a_mouse_selection_keeps_exactly_its_punctuation(page_for, members, brief, own_set):
    page = page_for(members["annotator"])
    open_page(page, brief)
    drag_select(page, "Pakistan and Russia are building a new strategic partnership")
    page.keyboard.press("c")
    wait_saved(page, "Claim")
    drag_select(page, "96 million euros a year")
    page.keyboard.press("e")
    wait_saved(page, "Evidence")
    drag_select(page, "ices rose sharply in 2024.")  # a cut word is completed, the stop kept
    page.keyboard.press("r")
    wait_saved(page, "Reason")
    assert spans_of(own_set) == [
        ("Claim", "Pakistan and Russia are building a new strategic partnership"),
        ("Evidence", "96 million euros a year"),
        ("Reason", "Prices rose sharply in 2024."),
    ]


def test_a_keyboard_selection_takes_punctuation_one_key_at_a_time(page_for, members, brief,
                                                                   own_set):
    page = page_for(members["annotator"])
    open_page(page, brief)
    _focus_text(page)
    page.keyboard.press("ArrowRight")  # "Pakistan"
    for _ in range(8):
        page.keyboard.press("Shift+ArrowRight")
    expect(page.locator("#status-line")).to_contain_text(
        "“Pakistan and Russia are building a new strategic partnership”")
    page.keyboard.press("Shift+ArrowRight")  # the full stop, a unit of its own
    expect(page.locator("#status-line")).to_contain_text("partnership.”")
    page.keyboard.press("Shift+ArrowLeft")  # and back
    page.keyboard.press("c")
    wait_saved(page, "Claim")
    assert spans_of(own_set) == [
        ("Claim", "Pakistan and Russia are building a new strategic partnership")]


# ---------------------------------------------------------------- point 5: boundaries


def test_keys_move_the_selected_spans_end_and_start_by_a_word(page_for, members, brief, own_set):
    span = _span(own_set, "Evidence", "Exports fell by 40%")
    page = page_for(members["annotator"])
    open_page(page, brief)
    _focus_text(page)
    page.keyboard.press("j")
    expect(page.locator("#status-line")).to_contain_text("Evidence")
    page.keyboard.press("Shift+ArrowRight")  # the end takes " (" — punctuation is a word
    wait_saved(page, "Moved")
    page.keyboard.press("Shift+ArrowRight")
    wait_saved(page, "Moved: Evidence “Exports fell by 40% (Reuters”")
    page.keyboard.press("Shift+ArrowLeft")
    wait_saved(page, "Moved: Evidence “Exports fell by 40% (”")
    page.keyboard.press("Shift+ArrowLeft")
    wait_saved(page, "Moved: Evidence “Exports fell by 40%”")
    page.keyboard.press("Alt+Shift+ArrowRight")  # the start, a word on
    wait_saved(page, "Moved: Evidence “fell by 40%”")
    for _ in range(3):  # "Exports", the full stop, "2024", pressed quickly
        page.keyboard.press("Alt+Shift+ArrowLeft")
    wait_saved(page, "Moved: Evidence “2024. Exports fell by 40%”")
    span.refresh_from_db()
    assert TEXT[span.start : span.end] == "2024. Exports fell by 40%"
    # Each move is one edit: undo walks them back.
    page.keyboard.press("u")
    wait_saved(page, "Undone")
    span.refresh_from_db()
    assert TEXT[span.start : span.end] == ". Exports fell by 40%"


_HANDLE = """
(which) => { const r = document.querySelector(`.handle-${which}`).getBoundingClientRect();
             return {x: r.left + r.width / 2, y: r.top + r.height / 2}; }
"""
_CHAR = """
([phrase, last]) => {
  for (const seg of document.querySelectorAll('#doc-text .g')) {
    const at = seg.textContent.indexOf(phrase);
    if (at < 0) continue;
    const i = last ? at + phrase.length - 1 : at;
    const range = document.createRange();
    range.setStart(seg.firstChild, i);
    range.setEnd(seg.firstChild, i + 1);
    const r = range.getBoundingClientRect();
    return {x: last ? r.right - 1 : r.left + 1, y: r.top + r.height / 2};
  }
  throw new Error('not found ' + phrase);
}
"""


def _drag_handle(page, which, phrase, last):
    start = page.evaluate(_HANDLE, which)
    end = page.evaluate(_CHAR, [phrase, last])
    page.mouse.move(start["x"], start["y"])
    page.mouse.down()
    page.mouse.move(end["x"], end["y"], steps=6)
    page.mouse.up()


def test_the_handles_drag_a_spans_ends(page_for, members, brief, own_set):
    span = _span(own_set, "Evidence", "Exports fell by 40%")
    page = page_for(members["annotator"])
    open_page(page, brief)
    click_phrase(page, "Exports fell")
    expect(page.locator(".handle-end")).to_be_visible()
    _drag_handle(page, "end", "Reuters", last=True)
    wait_saved(page, "Moved")
    span.refresh_from_db()
    assert TEXT[span.start : span.end] == "Exports fell by 40% (Reuters"
    _drag_handle(page, "start", "rose sharply", last=False)
    wait_saved(page, "Moved: Evidence “rose sharply")
    span.refresh_from_db()
    assert TEXT[span.start : span.end] == "rose sharply in 2024. Exports fell by 40% (Reuters"
    page.screenshot(path="/tmp/annotate-handles.png")


# ---------------------------------------------------------------- point 6: reading speed


def test_the_first_tab_skips_to_the_text(page_for, members, brief, own_set):
    page = page_for(members["annotator"])
    open_page(page, brief)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to the text"
    page.keyboard.press("Enter")
    expect(page.locator("#doc-text")).to_be_focused()


def test_sentences_paragraphs_home_and_end_by_keyboard(page_for, members, brief, own_set):
    page = page_for(members["annotator"])
    open_page(page, brief)
    _focus_text(page)
    status = page.locator("#status-line")
    page.keyboard.press("ArrowDown")
    expect(status).to_contain_text(
        "“Pakistan and Russia are building a new strategic partnership.”")
    page.keyboard.press("Shift+ArrowDown")
    expect(status).to_contain_text(re.compile(r"“Pakistan and Russia .* … .* officials say\.”"))
    page.keyboard.press("Control+ArrowDown")  # the next paragraph, whole
    expect(status).to_contain_text(re.compile(r"“Prices rose .* … .*The sanctions failed\.”"))
    page.keyboard.press("Control+ArrowUp")
    expect(status).to_contain_text("“Pakistan and Russia")
    page.keyboard.press("Control+ArrowDown")
    page.keyboard.press("Home")  # the paragraph's first word
    expect(status).to_contain_text("Selected “Prices”")
    page.keyboard.press("Shift+End")  # to the end of the paragraph
    expect(status).to_contain_text(re.compile(r"“Prices rose .* … .*The sanctions failed\.”"))
    page.keyboard.press("r")
    wait_saved(page, "Reason")
    page.keyboard.press("Control+End")  # the last word of the brief
    expect(status).to_contain_text("Selected “.”")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("Shift+ArrowUp")  # back to the sentence's start
    expect(status).to_contain_text("“A third paragraph ends”")
    page.keyboard.press("c")
    wait_saved(page, "Claim")
    page.keyboard.press("Control+Home")
    expect(status).to_contain_text("Selected “Pakistan”")
    assert spans_of(own_set) == [
        ("Reason", "Prices rose sharply in 2024. Exports fell by 40% (Reuters). The sanctions "
                   "failed."),
        ("Claim", "A third paragraph ends"),
    ]


def test_the_keys_overlay_lists_every_way(page_for, members, brief, own_set):
    page = page_for(members["annotator"])
    open_page(page, brief)
    _focus_text(page)
    page.keyboard.press("?")
    dialog = page.locator("#help-dialog")
    expect(dialog).to_be_visible()
    for row in ["Skip to the text", "By word", "By sentence", "By paragraph", "Home / End",
                "Find", "Mark all matches", "Move its end", "Move its start", "drag the handle",
                "Link by keys", "Link by mouse", "Change a relation's type", "Arcs", "Undo",
                "Redo", "Ctrl", "Alt"]:
        expect(dialog).to_contain_text(row)
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()


# ---------------------------------------------------------------- point 7: search


def test_find_by_keyboard_steps_through_matches_and_marks_them(page_for, members, brief,
                                                               own_set):
    page = page_for(members["annotator"])
    open_page(page, brief)
    _focus_text(page)
    page.keyboard.press("/")
    find = page.locator("#find-input")
    expect(find).to_be_focused()
    page.keyboard.type("sanctions")
    count = page.locator("#find-count")
    expect(count).to_have_text("1 of 2")  # "Sanctions" and "sanctions": case is ignored
    assert page.evaluate("CSS.highlights.get('find').size") == 2
    page.keyboard.press("Enter")
    expect(count).to_have_text("2 of 2")
    page.keyboard.press("Escape")  # closes, the current match selected in the text
    expect(page.locator("#find-bar")).to_be_hidden()
    expect(page.locator("#doc-text")).to_be_focused()
    page.keyboard.press("c")
    wait_saved(page, "Claim")
    assert spans_of(own_set) == [("Claim", "sanctions")]
    # Mark every match of "The sanctions" as Reason, in one action, by keys alone.
    page.keyboard.press("/")
    expect(find).to_be_focused()
    page.keyboard.press("Control+a")
    page.keyboard.type("The sanctions")
    expect(count).to_have_text("1 of 1")
    page.keyboard.press("Tab")  # previous
    page.keyboard.press("Tab")  # next
    page.keyboard.press("Tab")  # the label menu
    expect(page.locator("#find-label")).to_be_focused()
    page.locator("#find-label").select_option("Reason")
    page.keyboard.press("Tab")
    expect(page.locator("#find-mark")).to_be_focused()
    page.keyboard.press("Enter")
    wait_saved(page, "Marked 1 match as Reason")
    assert ("Reason", "The sanctions") in spans_of(own_set)


def test_find_and_mark_all_by_mouse_is_one_undoable_action(page_for, members, brief, own_set):
    page = page_for(members["annotator"])
    open_page(page, brief)
    page.get_by_role("button", name="Find").click()
    page.locator("#find-input").fill("a")
    count = page.locator("#find-count")
    expect(count).not_to_have_text("")
    page.locator("#find-input").fill("euros")
    expect(count).to_have_text("1 of 1")
    page.locator("#find-input").fill("sanctions")
    expect(count).to_have_text("1 of 2")
    page.locator("#find-label").select_option("Claim")
    page.get_by_role("button", name="Mark all matches").click()
    wait_saved(page, "Marked 2 matches as Claim")
    assert spans_of(own_set) == [("Claim", "Sanctions"), ("Claim", "sanctions")]
    page.get_by_role("button", name="Undo").click()
    wait_saved(page, "Undone: 2 new spans removed")
    assert spans_of(own_set) == []
    page.get_by_role("button", name="Redo").click()
    wait_saved(page, "Redone")
    assert len(spans_of(own_set)) == 2
    expect(page.locator(".tag")).to_have_count(2)


# ---------------------------------------------------------------- point 8: typed attributes


@pytest.fixture
def reason_attributes(project):
    """Reason gains a yes/no and a short text attribute, each with a hotkey."""
    project.span_labels.filter(name="Reason").update(attributes=[
        {"name": "strong", "type": "boolean", "hotkey": "g", "description": "A strong reason?"},
        {"name": "source", "type": "text", "hotkey": "o", "description": "Who gives it."},
    ])


def test_attribute_fields_follow_the_labels_schema_by_mouse(page_for, members, brief, own_set,
                                                             reason_attributes):
    claim = _span(own_set, "Claim", "Sanctions don't work.")
    reason = _span(own_set, "Reason", "Prices rose sharply in 2024.")
    page = page_for(members["annotator"])
    open_page(page, brief)
    editor = page.locator("#span-editor")
    click_phrase(page, "Sanctions don't")
    expect(editor.get_by_label("stance")).to_be_visible()
    expect(editor.locator("#attr-stance option")).to_have_text(["—", "for", "against"])
    editor.get_by_label("stance").select_option("against")
    editor.get_by_role("button", name="Save changes").click()
    expect(page.locator("#set-version")).to_have_text("version 1")
    claim.refresh_from_db()
    assert claim.attributes == {"stance": "against"}

    click_phrase(page, "Prices rose")
    expect(editor.get_by_label("strong")).to_be_visible()
    expect(editor.get_by_label("stance")).to_have_count(0)
    editor.get_by_label("strong").select_option("yes")
    editor.get_by_label("source").fill("the finance ministry")
    editor.get_by_role("button", name="Save changes").click()
    expect(page.locator("#set-version")).to_have_text("version 2")
    reason.refresh_from_db()
    assert reason.attributes == {"strong": True, "source": "the finance ministry"}
    # Relabelled, a span keeps only what its new label holds.
    editor.get_by_label("Label").select_option("Evidence")
    editor.get_by_role("button", name="Save changes").click()
    wait_saved(page, "Saved: Evidence")
    expect(editor.get_by_label("kind")).to_be_visible()
    reason.refresh_from_db()
    assert reason.attributes == {}
    page.get_by_role("button", name="Undo").click()
    wait_saved(page, "Undone")
    reason.refresh_from_db()
    assert (reason.label.name, reason.attributes) == (
        "Reason", {"strong": True, "source": "the finance ministry"})


def test_attribute_hotkeys_by_keyboard(page_for, members, brief, own_set, reason_attributes):
    claim = _span(own_set, "Claim", "Sanctions don't work.")
    reason = _span(own_set, "Reason", "Prices rose sharply in 2024.")
    page = page_for(members["annotator"])
    open_page(page, brief)
    _focus_text(page)
    page.keyboard.press("j")
    expect(page.locator("#status-line")).to_contain_text("Claim")
    for version, expected in enumerate(["for", "against", None], start=1):
        # At a person's pace: the previous save's answer has been swapped in and settled.
        expect(page.locator(".htmx-request, .htmx-swapping, .htmx-settling")).to_have_count(0)
        page.keyboard.press("f")  # f steps through the values, then back to unset
        expect(page.locator("#set-version")).to_have_text(f"version {version}")
        expect(page.locator("#attr-stance")).to_have_value(expected or "")
        claim.refresh_from_db()
        assert claim.attributes == ({"stance": expected} if expected else {})
    page.keyboard.press("j")
    expect(page.locator("#status-line")).to_contain_text("Reason")
    page.keyboard.press("g")  # yes/no
    expect(page.locator("#set-version")).to_have_text("version 4")
    reason.refresh_from_db()
    assert reason.attributes == {"strong": True}
    page.keyboard.press("o")  # a text: its field, to type in
    expect(page.locator("#attr-source")).to_be_focused()
    page.keyboard.type("the IMF")
    page.keyboard.press("Enter")
    expect(page.locator("#set-version")).to_have_text("version 5")
    reason.refresh_from_db()
    assert reason.attributes == {"strong": True, "source": "the IMF"}
    page.keyboard.press("Escape")  # back out of the field, to the keys
    page.locator("#doc-text").focus()
    page.keyboard.press("?")
    expect(page.locator("#help-dialog")).to_contain_text("Reason: source")
    expect(page.locator("#help-dialog")).to_contain_text("for, against, not set in turn")
