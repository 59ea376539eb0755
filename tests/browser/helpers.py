"""What a user does on the annotation page, as Playwright steps."""

from __future__ import annotations

from django.urls import reverse
from playwright.sync_api import Page, expect

# A JS function: the viewport rectangles of the first and the last character
# of the first occurrence of ``phrase`` in the brief's text (label chips, which
# hold no text of the brief, left out).
_PHRASE_RECTS = """
(phrase) => {
  const root = document.getElementById('doc-text');
  const textNodes = () => document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {
    acceptNode: (n) => n.parentElement.closest('.tag') ? NodeFilter.FILTER_REJECT
                                                       : NodeFilter.FILTER_ACCEPT});
  let text = '';
  for (let w = textNodes(), n = w.nextNode(); n; n = w.nextNode()) text += n.data;
  const at = text.indexOf(phrase);
  if (at < 0) throw new Error('phrase not in text: ' + phrase);
  const point = (units) => {
    const walker = textNodes();
    let seen = 0;
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (seen + node.data.length > units) return [node, units - seen];
      seen += node.data.length;
    }
    throw new Error('offset beyond the text');
  };
  const rect = (units, length) => {
    const [node, offset] = point(units);
    const range = document.createRange();
    range.setStart(node, offset);
    range.setEnd(node, offset + length);
    const r = range.getClientRects()[0];
    return {x: r.left, y: r.top, w: r.width, h: r.height};
  };
  const lastLength = /[\\uDC00-\\uDFFF]/.test(phrase[phrase.length - 1]) ? 2 : 1;
  // On screen first, clear of the sticky bar: the mouse can only press what it shows.
  const top = rect(at, 1).y;
  if (top < window.innerHeight * 0.3 || top > window.innerHeight * 0.7) {
    window.scrollBy(0, top - window.innerHeight / 2);
  }
  return [rect(at, 1), rect(at + phrase.length - lastLength, lastLength)];
}
"""


def annotate_url(document, set_id=None) -> str:
    url = reverse(
        "annotate", kwargs={"slug": document.project.slug, "document_id": document.pk}
    )
    return f"{url}?set={set_id}" if set_id else url


def open_page(page: Page, document, set_id=None) -> None:
    page.goto(annotate_url(document, set_id))
    expect(page.locator("#annotate-root")).to_have_attribute("data-ready", "true")


def drag_select(page: Page, phrase: str) -> None:
    """Select ``phrase`` with the mouse: press on its first character, release on its last."""
    first, last = page.evaluate(_PHRASE_RECTS, phrase)
    page.mouse.move(first["x"] + 1, first["y"] + first["h"] / 2)
    page.mouse.down()
    page.mouse.move(last["x"] + last["w"] / 2, last["y"] + last["h"] / 2, steps=5)
    page.mouse.move(last["x"] + last["w"] - 1, last["y"] + last["h"] / 2, steps=2)
    page.mouse.up()


def click_phrase(page: Page, phrase: str) -> None:
    """Click the middle of the first character of ``phrase``."""
    first, _ = page.evaluate(_PHRASE_RECTS, phrase)
    page.mouse.click(first["x"] + first["w"] / 2, first["y"] + first["h"] / 2)


def wait_saved(page: Page, text: str = "Saved") -> None:
    expect(page.locator("#status-line")).to_contain_text(text)


def make_span(aset, label: str, phrase: str, occurrence: int = 0):
    """A span of ``aset`` labelled ``label`` over the n-th occurrence of ``phrase``."""
    from tests.factories import SpanFactory

    text = aset.document.text
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(phrase, start + 1)
    return SpanFactory(annotation_set=aset, start=start, end=start + len(phrase),
                       label=aset.document.project.span_labels.get(name=label))


def spans_of(aset) -> list[tuple[str, str]]:
    """(label, covered text) of every span of the set, in text order."""
    text = aset.document.text
    return [
        (span.label.name, text[span.start : span.end])
        for span in aset.spans.select_related("label").order_by("start", "-end")
    ]
