"""Curation in the text, in real Chromium: candidates marked with their votes, decided by
mouse and by keys, edges moved by handles and keys, relations as arcs (issue 14)."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from PIL import Image
from playwright.sync_api import expect

from annotator.models import AnnotationSet

from . import test_curation
from .colours import underline_colour

# The same brief as the table's tests: alice, bob and carol's candidates, one relation.
brief = test_curation.brief

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# A JS function: the viewport box of the characters [start, end) of the candidate text
# (chips, which hold no text of the brief, left out).
_RECT = """
([start, end]) => {
  const root = document.getElementById('candidate-text');
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {
    acceptNode: (n) => n.parentElement.closest('.tag') ? NodeFilter.FILTER_REJECT
                                                       : NodeFilter.FILTER_ACCEPT});
  const nodes = [];
  let seen = 0;
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    nodes.push([n, seen]);
    seen += n.data.length;
  }
  const point = (u, isEnd) => {
    for (const [n, s] of nodes) {
      const last = s + n.data.length;
      if (isEnd ? u <= last : u < last) return [n, u - s];
    }
  };
  const range = document.createRange();
  range.setStart(...point(start, false));
  range.setEnd(...point(end, true));
  const r = range.getBoundingClientRect();
  return {x: r.left, y: r.top, w: r.width, h: r.height};
}
"""


def open_curation(page, document):
    page.goto(reverse("curation-document", kwargs={"slug": document.project.slug,
                                                   "document_id": document.pk}))
    expect(page.locator("#in-text")).to_have_attribute("data-ready", "true")


def chip(page, text):
    return page.locator("#candidate-text .tag", has_text=text)


def gold(document):
    aset = AnnotationSet.objects.filter(document=document, is_gold=True).first()
    if aset is None:
        return []
    return sorted(aset.spans.values_list("start", "end", "label__name"))


def test_candidates_are_marked_in_the_text_with_votes_and_arcs(page_for, members, brief):
    page = page_for(members["curator"])
    open_curation(page, brief)
    expect(page.locator("#candidate-text .tag")).to_have_text(
        ["Reason 2/3", "Evidence 1/3", "Evidence 1/3", "MajorClaim 3/3"])
    expect(chip(page, "MajorClaim")).to_have_attribute(
        "title", "Marked by alice, bob, carol (3 of 3); not in the gold")
    # The relation candidate is an arc between its two spans' chips, with its votes.
    expect(page.locator("#in-text-links .arc-label")).to_have_text(["supports 2/3"])
    # The marks lie over the words of the text.
    claim = page.evaluate(_RECT, [61, 80])
    segs = page.locator("#candidate-text .g[data-k]").filter(has_text="keep them").first
    box = segs.bounding_box()
    assert claim["x"] - 1 <= box["x"] and box["x"] + box["width"] <= claim["x"] + claim["w"] + 1
    page.click("#premerge-button")
    expect(page.locator("#curation-success")).to_contain_text("2 span(s), 1 relation(s)")
    expect(chip(page, "MajorClaim")).to_have_text("✓ MajorClaim 3/3")
    expect(page.locator("#in-text-links .arc-label")).to_have_text(["✓ supports 2/3"])


def test_decide_and_move_edges_with_the_mouse(page_for, members, brief):
    page = page_for(members["curator"])
    open_curation(page, brief)
    # Carol's short evidence, "Exports fell": drag its end to the end of "sharply".
    chip(page, "Evidence 1/3").nth(1).click()
    expect(page.locator("#in-text-now")).to_contain_text("Evidence “Exports fell” 16–28")
    handle = page.locator("#in-text-handles .handle-end").bounding_box()
    target = page.evaluate(_RECT, [35, 36])  # the "y" of sharply
    page.mouse.move(handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2)
    page.mouse.down()
    page.mouse.move(target["x"] + target["w"] / 2, target["y"] + target["h"] / 2, steps=6)
    page.mouse.move(target["x"] + target["w"] - 1, target["y"] + target["h"] / 2, steps=2)
    page.mouse.up()
    expect(page.locator("#in-text-now")).to_contain_text("“Exports fell sharply” 16–36")
    expect(page.locator("#in-text-now")).to_contain_text("edited")
    page.click("#in-text-accept")
    expect(page.locator("#curation-success")).to_contain_text("Added to the gold: Evidence 16-36")
    assert gold(brief) == [(16, 36, "Evidence")]
    # Accept the major claim, then reject it, by the buttons.
    chip(page, "MajorClaim").click()
    page.click("#in-text-accept")
    expect(page.locator("#curation-success")).to_contain_text("Added to the gold: MajorClaim")
    expect(chip(page, "MajorClaim")).to_have_text("✓ MajorClaim 3/3")
    expect(page.locator("#in-text-reject")).to_be_enabled()  # still chosen after the swap
    page.click("#in-text-reject")
    expect(page.locator("#curation-success")).to_contain_text("Taken out of the gold")
    assert gold(brief) == [(16, 36, "Evidence")]


def _on_the_first_candidate(page_for, members, brief):
    """The curator's page with the keys in the text and the first candidate (the reason)
    chosen by ``j``; and the line that says which candidate is chosen."""
    page = page_for(members["curator"])
    open_curation(page, brief)
    page.locator("#candidate-text").focus()
    now = page.locator("#in-text-now")
    page.keyboard.press("j")
    expect(now).to_contain_text("Reason “Sanctions work” 0–14 (2 of 3, not in the gold)")
    return page, now


def test_keys_pressed_while_a_decision_is_saved_are_kept_in_order(page_for, members, brief):
    page, now = _on_the_first_candidate(page_for, members, brief)
    # "a" sends the decision and its answer replaces the page; between that swap and its
    # settling (widened here to 600 ms so that the keys surely fall in it) the two "j"
    # are held, then step on from the accepted reason.
    page.evaluate("() => { htmx.config.defaultSettleDelay = 600; }")
    page.keyboard.press("a")
    expect(page.locator("#curation-success")).to_contain_text("Added to the gold: Reason 0-14")
    page.keyboard.press("j")
    page.keyboard.press("j")
    expect(now).to_contain_text("Evidence “Exports fell” 16–28")
    page.keyboard.press("k")
    page.keyboard.press("k")
    expect(now).to_contain_text("Reason “Sanctions work” 0–14 (2 of 3, in the gold)")


def test_decide_and_move_edges_with_the_keys(page_for, members, brief):
    page, now = _on_the_first_candidate(page_for, members, brief)
    page.keyboard.press("a")
    expect(page.locator("#curation-success")).to_contain_text("Added to the gold: Reason 0-14")
    expect(now).to_contain_text("Reason “Sanctions work” 0–14 (2 of 3, in the gold)")
    page.keyboard.press("j")
    page.keyboard.press("j")  # carol's "Exports fell"
    expect(now).to_contain_text("Evidence “Exports fell” 16–28")
    page.keyboard.press("Alt+Shift+ArrowRight")  # its start a word on: "fell"
    expect(now).to_contain_text("Evidence “fell” 24–28")
    page.keyboard.press("Shift+ArrowRight")  # its end a word on: "fell sharply"
    expect(now).to_contain_text("Evidence “fell sharply” 24–36")
    page.keyboard.press("a")
    expect(page.locator("#curation-success")).to_contain_text("Added to the gold: Evidence 24-36")
    # Back to the reason (in the gold) and reject it with x.
    page.keyboard.press("k")
    page.keyboard.press("k")
    expect(now).to_contain_text("Reason “Sanctions work”")
    page.keyboard.press("x")
    expect(page.locator("#curation-success")).to_contain_text("Taken out of the gold: Reason")
    assert gold(brief) == [(24, 36, "Evidence")]


def _underline_rows(page, segment_key) -> int:
    """How many pixel rows of the segment's innermost underline Chromium painted: rows at
    the segment's bottom edge whose middle pixel is the underline's colour."""
    colour = underline_colour(page, f'#candidate-text .g[data-k="{segment_key}"]')[:3]
    segment = page.locator(f'#candidate-text .g[data-k="{segment_key}"]').last
    box = segment.bounding_box()
    shot = Image.open(io.BytesIO(page.screenshot(clip=box))).convert("RGB")
    x = shot.width // 2
    rows = 0
    for y in range(shot.height - 1, -1, -1):
        pixel = shot.getpixel((x, y))
        if max(abs(a - b) for a, b in zip(pixel, colour, strict=True)) > 24:
            break
        rows += 1
    return rows


def test_an_underline_is_thicker_the_more_annotators_agree(page_for, members, brief):
    page = page_for(members["curator"])
    open_curation(page, brief)
    thickness = {}
    for text, votes in (("Evidence 1/3", 1), ("Reason 2/3", 2), ("MajorClaim 3/3", 3)):
        span = chip(page, text).first.get_attribute("data-span")
        # A stretch that only this candidate covers (its own lane 0, nothing above it).
        page.locator(f'#candidate-text .g[data-k="{span}"]').last.scroll_into_view_if_needed()
        thickness[votes] = _underline_rows(page, span)
    # 2 px for one of three, 4 for two, 6 for all three (curation.js), as painted.
    assert thickness == {1: 2, 2: 4, 3: 6}
