"""Right-to-left and mixed briefs in real Chromium: Urdu text (issue 14, point 3).

The Urdu is real sentences about a policy (ending the electricity subsidy),
with Urdu's own letters (U+06D2 yeh barree, U+06BA noon ghunna, U+06C1 heh goal,
U+0679 tteh, U+0688 ddal, U+0691 rreh), its full stop U+06D4, and a word written
in two pieces with a zero-width non-joiner (TAXPAYERS).
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from annotator.models import AnnotationSet, Relation
from tests.agreement_helpers import annotate
from tests.factories import AnnotationSetFactory, DocumentFactory

from .helpers import _PHRASE_RECTS, make_span, open_page, spans_of, wait_saved
from .test_annotate_relations import assert_arcs_readable

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TAXPAYERS = "ٹیکس\u200cدہندگان"
# "The government should end the subsidy given on electricity. Billions of rupees are
# spent on this subsidy every year. Schools and hospitals can be built with this money.
# The tax on big companies should be raised so that the taxpayers' burden falls.
# / Poor households should be given direct cash aid."
URDU = (
    "حکومت کو بجلی پر دی جانے والی سبسڈی ختم کر دینی چاہیے۔ "
    "اس سبسڈی پر ہر سال اربوں روپے خرچ ہوتے ہیں۔ "
    "ان پیسوں سے اسکول اور ہسپتال بنائے جا سکتے ہیں۔ "
    f"بڑی کمپنیوں پر ٹیکس بڑھایا جائے تاکہ {TAXPAYERS} کا بوجھ کم ہو۔\n"
    "غریب گھرانوں کو براہِ راست نقد امداد دی جائے۔"
)
# English and Urdu in one paragraph and in two; an emoji (two UTF-16 units) before the
# Urdu, so that code points and the browser's units differ.
MIXED = (
    "The government should end the electricity subsidy. 👍 "
    "اس سبسڈی پر ہر سال اربوں روپے خرچ ہوتے ہیں۔ "
    "Schools could be built with that money.\n"
    "غریب گھرانوں کو نقد امداد دی جائے، says the Planning Commission."
)


@pytest.fixture
def urdu(project):
    return DocumentFactory(project=project, text=URDU, title="بجلی کی سبسڈی")


@pytest.fixture
def mixed(project):
    return DocumentFactory(project=project, text=MIXED, title="Subsidy, two languages")


def select_rtl(page, phrase: str) -> None:
    """Select ``phrase`` of a right-to-left run with the mouse: press on the right edge of
    its first character, release on the left edge of its last."""
    first, last = page.evaluate(_PHRASE_RECTS, phrase)
    page.mouse.move(first["x"] + first["w"] - 1, first["y"] + first["h"] / 2)
    page.mouse.down()
    page.mouse.move(last["x"] + last["w"] / 2, last["y"] + last["h"] / 2, steps=5)
    page.mouse.move(last["x"] + 1, last["y"] + last["h"] / 2, steps=2)
    page.mouse.up()


def stored(aset):
    """(start, end, text) of each span of the set, in text order."""
    text = aset.document.text
    return [(s.start, s.end, text[s.start : s.end]) for s in aset.spans.order_by("start")]


def at(text, phrase, occurrence=0):
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(phrase, start + 1)
    return start, start + len(phrase), phrase


# A JS function: the viewport box of `phrase` in the brief (a Range over its text
# nodes, chips left out) and the union of the boxes of span `id`'s segments.
_BOXES = """
([phrase, id]) => {
  const root = document.getElementById('doc-text');
  const nodes = [];
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {
    acceptNode: (n) => n.parentElement.closest('.tag') ? NodeFilter.FILTER_REJECT
                                                       : NodeFilter.FILTER_ACCEPT});
  let text = '';
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    nodes.push([n, text.length]);
    text += n.data;
  }
  const at = text.indexOf(phrase);
  // The start in the node the phrase begins in (after a chip), the end in the one it ends in.
  const point = (u, end) => {
    for (const [n, s] of nodes) {
      const last = s + n.data.length;
      if (end ? u <= last : u < last) return [n, u - s];
    }
  };
  const range = document.createRange();
  range.setStart(...point(at, false));
  range.setEnd(...point(at + phrase.length, true));
  const box = (r) => ({l: r.left, r: r.right, t: r.top, b: r.bottom});
  const union = (rects) => rects.reduce((u, r) => ({
      l: Math.min(u.l, r.left), r: Math.max(u.r, r.right),
      t: Math.min(u.t, r.top), b: Math.max(u.b, r.bottom)}), {l: 1e9, r: -1e9, t: 1e9, b: -1e9});
  const segs = [...root.querySelectorAll(`.g[data-k~="${id}"]`)];
  return {word: box(range.getBoundingClientRect()),
          segs: union(segs.flatMap((s) => [...s.getClientRects()])),
          text: segs.map((s) => s.textContent).join(''),
          tint: getComputedStyle(segs[0]).backgroundColor,
          box: box(root.getBoundingClientRect()),
          padding: parseFloat(getComputedStyle(root).paddingRight)};
}
"""


def assert_covers(boxes):
    """The span's segments lie over the words: the same left, right and top; below, the
    room for the underline rows."""
    word, segs = boxes["word"], boxes["segs"]
    for side in "lrt":
        assert abs(word[side] - segs[side]) < 1, (side, boxes)
    assert 0 <= segs["b"] - word["b"] < 8, boxes


def test_each_paragraph_takes_its_direction_from_its_text(page_for, members, mixed):
    AnnotationSetFactory(document=mixed, annotator=members["annotator"])
    page = page_for(members["annotator"])
    open_page(page, mixed)
    expect(page.locator("#doc-text")).to_have_attribute("dir", "auto")
    english = page.evaluate(_PHRASE_RECTS, "The government")[0]
    urdu = page.evaluate(_PHRASE_RECTS, "غریب")[0]
    box = page.locator("#doc-text").bounding_box()
    # The English paragraph starts at the left edge, the Urdu one at the right.
    assert english["x"] - box["x"] < 40
    assert box["x"] + box["width"] - (urdu["x"] + urdu["w"]) < 40
    # Inside the English paragraph the Urdu sentence reads right to left: its first
    # word is right of its second.
    first = page.evaluate(_PHRASE_RECTS, "اس سبسڈی")[0]
    second = page.evaluate(_PHRASE_RECTS, "سبسڈی پر")[0]
    assert first["x"] > second["x"]


def test_an_urdu_word_selected_by_mouse_is_stored_in_code_points(page_for, members, urdu):
    aset = AnnotationSetFactory(document=urdu, annotator=members["annotator"])
    page = page_for(members["annotator"])
    open_page(page, urdu)
    select_rtl(page, "اربوں روپے")
    page.keyboard.press("e")
    wait_saved(page, "Evidence")
    assert stored(aset) == [at(URDU, "اربوں روپے")]
    # The highlight lies over the words, and only over them.
    span = aset.spans.get()
    boxes = page.evaluate(_BOXES, ["اربوں روپے", span.pk])
    assert boxes["text"] == "اربوں روپے"
    assert_covers(boxes)
    assert boxes["tint"] != "rgba(0, 0, 0, 0)"
    # The chip is on the words' right: where an Urdu reader starts them.
    chip = page.locator(f'.tag[data-span="{span.pk}"]').bounding_box()
    assert chip["x"] >= boxes["word"]["r"] - 1
    expect(page.locator(f'.tag[data-span="{span.pk}"]')).to_have_attribute("data-dir", "rtl")


def test_snapping_completes_urdu_words_and_keeps_the_non_joiner_word_whole(
    page_for, members, urdu
):
    aset = AnnotationSetFactory(document=urdu, annotator=members["annotator"])
    page = page_for(members["annotator"])
    open_page(page, urdu)
    select_rtl(page, "بسڈی ختم")  # cuts "سبسڈی" after its first letter
    page.keyboard.press("c")
    wait_saved(page, "Claim")
    select_rtl(page, "دہند")  # inside the second piece of the taxpayers
    page.keyboard.press("r")
    wait_saved(page, "Reason")
    assert stored(aset) == [at(URDU, "سبسڈی ختم"), at(URDU, TAXPAYERS)]


def test_an_urdu_word_in_an_english_paragraph_after_an_emoji(page_for, members, mixed):
    aset = AnnotationSetFactory(document=mixed, annotator=members["annotator"])
    page = page_for(members["annotator"])
    open_page(page, mixed)
    select_rtl(page, "اربوں")
    page.keyboard.press("e")
    wait_saved(page, "Evidence")
    start = MIXED.index("اربوں")
    assert len(MIXED[:start].encode("utf-16-le")) // 2 == start + 1  # the emoji: 2 units
    assert stored(aset) == [(start, start + 5, "اربوں")]
    boxes = page.evaluate(_BOXES, ["اربوں", aset.spans.get().pk])
    assert_covers(boxes)


def test_keyboard_selection_reads_onwards_with_the_left_arrow(page_for, members, urdu):
    aset = AnnotationSetFactory(document=urdu, annotator=members["annotator"])
    page = page_for(members["annotator"])
    open_page(page, urdu)
    page.locator("#doc-text").focus()
    status = page.locator("#status-line")
    page.keyboard.press("ArrowLeft")  # onwards in Urdu: the first word
    expect(status).to_contain_text("Selected “حکومت”")
    page.keyboard.press("ArrowLeft")
    expect(status).to_contain_text("Selected “کو”")
    page.keyboard.press("Shift+ArrowLeft")
    page.keyboard.press("Shift+ArrowLeft")
    expect(status).to_contain_text("Selected “کو بجلی پر”")
    page.keyboard.press("Shift+ArrowRight")  # back: one word less
    expect(status).to_contain_text("Selected “کو بجلی”")
    page.keyboard.press("c")
    wait_saved(page, "Claim")
    assert stored(aset) == [at(URDU, "کو بجلی")]
    # The selected span's end moves onwards (leftwards) by Shift+←.
    page.keyboard.press("Shift+ArrowLeft")
    expect(status).to_contain_text("Moved: Claim “کو بجلی پر”")
    assert stored(aset) == [at(URDU, "کو بجلی پر")]
    # The handles sit on the span's edges: its start on the right, its end on the left.
    first, last = page.evaluate(_PHRASE_RECTS, "کو بجلی پر")
    start = page.locator(".handle-start").bounding_box()
    end = page.locator(".handle-end").bounding_box()
    assert abs(start["x"] + start["width"] / 2 - (first["x"] + first["w"])) < 2
    assert abs(end["x"] + end["width"] / 2 - last["x"]) < 2
    assert spans_of(aset) == [("Claim", "کو بجلی پر")]


def test_arcs_between_urdu_spans_are_readable_and_run_right_to_left(
    page_for, members, urdu
):
    aset = AnnotationSetFactory(document=urdu, annotator=members["annotator"])
    claim = make_span(aset, "MajorClaim", "حکومت کو بجلی پر دی جانے والی سبسڈی ختم کر دینی چاہیے۔")
    cost = make_span(aset, "Reason", "اس سبسڈی پر ہر سال اربوں روپے خرچ ہوتے ہیں۔")
    schools = make_span(aset, "Evidence", "ان پیسوں سے اسکول اور ہسپتال بنائے جا سکتے ہیں۔")
    aid = make_span(aset, "Claim", "غریب گھرانوں کو براہِ راست نقد امداد دی جائے۔")
    types = {t.name: t for t in aset.document.project.relation_types.all()}
    for source, target, name in [(cost, claim, "supports"), (schools, cost, "evidence_for"),
                                 (aid, claim, "supports")]:
        Relation.objects.create(annotation_set=aset, source=source, target=target,
                                type=types[name])
    relations = list(aset.relations.select_related("type"))
    page = page_for(members["annotator"])
    open_page(page, urdu)
    expect(page.locator("#links .arc-label").first).to_be_visible()
    assert_arcs_readable(page, relations)
    # The aid (a paragraph below) supports the claim: its half on the aid's line leaves
    # the chip for the margin the line came from (the text runs backwards to the claim):
    # the right one in Urdu; the claim's half comes in from the left.
    rel = next(r for r in relations if r.source_id == aid.pk)
    wrap = page.locator("#text-wrap").bounding_box()
    halves = page.evaluate(
        "(id) => [...document.querySelectorAll(`#links path.arc[data-relation='${id}']`)]"
        ".map((p) => [p.dataset.half, p.getAttribute('d').match(/-?[0-9.]+/g).map(Number)])",
        rel.pk,
    )
    halves = {half: numbers for half, numbers in halves}
    assert set(halves) == {"source", "target"}
    source, target = halves["source"], halves["target"]
    assert source[4] > source[0]  # from the aid's chip to the right margin
    assert target[0] < target[4]  # from the left margin onto the claim's chip
    assert target[0] < wrap["width"] / 4 and source[4] > wrap["width"] * 3 / 4
    page.screenshot(path="/tmp/annotate-urdu-arcs.png", full_page=True)


def test_curating_an_urdu_brief_in_the_text(page_for, members, project, urdu):
    """Candidates of an Urdu brief are drawn right to left, with their arcs; the left
    arrow moves a candidate's end onwards, and it is accepted with those offsets."""
    cost = at(URDU, "اس سبسڈی پر ہر سال اربوں روپے خرچ ہوتے ہیں۔")
    claim = at(URDU, "حکومت کو بجلی پر دی جانے والی سبسڈی ختم کر دینی چاہیے۔")
    billions = at(URDU, "اربوں")
    annotate(project, urdu, "alice", [(*claim[:2], "MajorClaim"), (*cost[:2], "Reason")],
             [(1, 0, "supports")])
    annotate(project, urdu, "bob", [(*claim[:2], "MajorClaim"), (*billions[:2], "Evidence")])
    page = page_for(members["curator"])
    page.goto(reverse("curation-document", kwargs={"slug": project.slug, "document_id": urdu.pk}))
    expect(page.locator("#in-text")).to_have_attribute("data-ready", "true")
    chips = page.locator("#candidate-text .tag")
    expect(chips).to_have_count(3)
    for i in range(3):
        expect(chips.nth(i)).to_have_attribute("data-dir", "rtl")
    expect(page.locator("#in-text-links .arc-label")).to_have_text(["supports 1/2"])
    # The major claim's chip is at the right, where the brief starts.
    box = page.locator("#candidate-text").bounding_box()
    first = page.locator("#candidate-text .tag", has_text="MajorClaim").bounding_box()
    assert box["x"] + box["width"] - (first["x"] + first["width"]) < 40
    page.locator("#candidate-text").focus()
    for _ in range(3):  # claim, reason, then bob's "billions"
        page.keyboard.press("j")
    expect(page.locator("#in-text-now")).to_contain_text("Evidence “اربوں”")
    page.keyboard.press("Shift+ArrowLeft")  # onwards: "billions of rupees"
    expect(page.locator("#in-text-now")).to_contain_text("“اربوں روپے”")
    page.keyboard.press("a")
    expect(page.locator("#curation-success")).to_contain_text("Added to the gold: Evidence")
    gold = AnnotationSet.objects.get(document=urdu, is_gold=True)
    assert stored(gold) == [at(URDU, "اربوں روپے")]


def test_the_curation_edit_passage_of_an_urdu_candidate(page_for, members, project, urdu):
    """The Edit form's passage runs right to left: Shift+← and the "← end" button move the
    end onwards, the handles sit on the candidate's right (start) and left (end) edges."""
    billions = at(URDU, "اربوں")
    annotate(project, urdu, "alice", [(*billions[:2], "Evidence")])
    page = page_for(members["curator"])
    page.goto(reverse("curation-document", kwargs={"slug": project.slug, "document_id": urdu.pk}))
    row = page.locator(f'tr[data-start="{billions[0]}"]')
    row.locator("summary", has_text="Edit").click()
    editor = row.locator(".boundary-edit")
    expect(editor.locator(".g[data-k]")).to_have_text("اربوں")
    word = editor.locator(".g[data-k]").bounding_box()
    start = editor.locator(".handle-start").bounding_box()
    end = editor.locator(".handle-end").bounding_box()
    assert abs(start["x"] + start["width"] / 2 - (word["x"] + word["width"])) < 2
    assert abs(end["x"] + end["width"] / 2 - word["x"]) < 2
    editor.focus()
    page.keyboard.press("Shift+ArrowLeft")
    expect(editor.locator(".boundary-now")).to_contain_text("“اربوں روپے”")
    row.get_by_role("button", name="← end").click()
    expect(editor.locator(".boundary-now")).to_contain_text("“اربوں روپے خرچ”")
    expect(row.get_by_role("spinbutton", name="End")).to_have_value(
        str(at(URDU, "اربوں روپے خرچ")[1]))


def test_a_suggested_urdu_span_has_its_ghost_chip_on_its_right(
    page_for, members, project, urdu, settings
):
    """A ghost's chip sits over the first character of its span: the right end in Urdu."""
    from annotator.services.suggestions import suggestion_settings_update
    from tests.suggestion_server import SuggestServer

    AnnotationSetFactory(document=urdu, annotator=members["annotator"])
    start, end, _ = at(URDU, "اربوں روپے")
    with SuggestServer() as server:
        server.answer = (200, {"spans": [{"label": "Evidence", "start": start, "end": end,
                                          "confidence": 0.9, "cue": "test"}]})
        settings.WARRANT_SUGGEST_EXTERNAL_URLS = [server.url]
        suggestion_settings_update(project=project, enabled=True, recommenders=["external"],
                                   external_url=server.url)
        page = page_for(members["annotator"])
        open_page(page, urdu)
        expect(page.locator("#annotate-root")).to_have_attribute("data-suggestions", "ready")
        chip = page.locator(f'.ghost-chip[data-key^="span:Evidence:{start}:"]')
        expect(chip).to_have_count(1)
        chip_box = chip.bounding_box()
        first, last = page.evaluate(_PHRASE_RECTS, "اربوں روپے")
        right = first["x"] + first["w"]
        assert abs(chip_box["x"] + chip_box["width"] - right) < 2
        assert chip_box["x"] > last["x"]


def _fonts_used(page, selector) -> dict[str, int]:
    """Font family -> glyphs that Chromium drew with it for the element's text (DevTools'
    CSS.getPlatformFontsForNode: the fonts actually used, after fallback)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    cdp.detach()
    return {f["familyName"]: f["glyphCount"] for f in fonts}


def _open_recording_requests(page_for, annotator, document):
    """Open ``document``'s annotation page; (page, every URL it requested, its font faces'
    status once the fonts have settled)."""
    AnnotationSetFactory(document=document, annotator=annotator)
    page = page_for(annotator)
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    open_page(page, document)
    faces = page.evaluate(
        """async () => { await document.fonts.ready;
          return Object.fromEntries([...document.fonts].map(f => [f.family + ' ' + f.weight,
                                                                  f.status])); }""")
    return page, requests, faces


def test_urdu_is_drawn_in_the_font_warrant_serves_and_nothing_leaves_the_server(
        page_for, members, live_server, urdu):
    page, requests, faces = _open_recording_requests(page_for, members["annotator"], urdu)
    # Regular for the brief, bold for its Urdu title.
    assert faces == {"Noto Naskh Arabic 400": "loaded", "Noto Naskh Arabic 700": "loaded"}
    # The brief's Urdu letters are drawn with it, not with a fallback (or as boxes).
    used = _fonts_used(page, "#doc-text .blk")
    assert used.get("Noto Naskh Arabic", 0) > 100, used
    assert page.evaluate("document.fonts.check('17px \"Noto Naskh Arabic\"', 'ٹیکس')")
    fonts = [url for url in requests if url.endswith(".woff2")]
    assert sorted(fonts) == [f"{live_server.url}/static/annotator/fonts/noto-naskh-arabic-{w}.woff2"
                             for w in (400, 700)]
    assert [url for url in requests if not url.startswith(live_server.url)] == []


def test_an_english_page_does_not_download_the_arabic_font(page_for, members, project):
    english = DocumentFactory(project=project, text="Cleaner air would save lives.",
                              title="Clean air")
    _, requests, faces = _open_recording_requests(page_for, members["annotator"], english)
    assert set(faces.values()) == {"unloaded"}, faces
    assert [url for url in requests if ".woff" in url] == []
