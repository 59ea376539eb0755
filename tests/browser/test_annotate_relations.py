"""Relations on the annotation page: arcs above the text, and links by drag (issue 13, 1-2)."""

from __future__ import annotations

import random
import re

import pytest
from playwright.sync_api import expect

from annotator.models import Relation
from annotator.services.demo import _alice, demo_brief_text
from tests.factories import AnnotationSetFactory, DocumentFactory, SpanFactory
from tests.live import wait_until

from .helpers import click_phrase, open_page, wait_saved

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# A JS function: the label boxes of the arcs, the text's line boxes, the arcs' level
# segments, and the chips' boxes, all in viewport coordinates.
_GEOMETRY = """
() => {
  const box = (r) => ({x: r.left, y: r.top, w: r.width, h: r.height});
  const wrap = document.getElementById('text-wrap').getBoundingClientRect();
  const labels = [...document.querySelectorAll('#links .arc-label')].map((g) => ({
    ...box(g.querySelector('rect').getBoundingClientRect()),
    text: g.textContent, id: Number(g.dataset.relation), half: g.dataset.half || ''}));
  const lines = [];
  for (const b of document.querySelectorAll('#doc-text .blk')) {
    for (const r of b.getClientRects()) lines.push(box(r));
  }
  const levels = [...document.querySelectorAll('#links path.arc')].map((p) => {
    const n = p.getAttribute('d').match(/-?[0-9.]+/g).map(Number);
    // M x1 y1 L x1 y L x2 y L x2 y2: the level segment is (x1, y)-(x2, y)
    return {id: Number(p.dataset.relation), x1: n[2] + wrap.left, x2: n[4] + wrap.left,
            y: n[3] + wrap.top, end: n[7] + wrap.top, endX: n[6] + wrap.left,
            arrow: p.hasAttribute('marker-end')};
  });
  const chips = [...document.querySelectorAll('#doc-text .tag')].map((c) => ({
    ...box(c.getBoundingClientRect()), id: Number(c.dataset.span)}));
  return {labels, lines, levels, chips};
}
"""


def _overlap(a, b, slack=0.5):
    return (a["x"] < b["x"] + b["w"] - slack and b["x"] < a["x"] + a["w"] - slack
            and a["y"] < b["y"] + b["h"] - slack and b["y"] < a["y"] + a["h"] - slack)


def assert_arcs_readable(page, relations):
    """No two arc labels overlap, none covers text, each names its type; no level
    segment crosses a line of text; every relation is drawn."""
    geo = page.evaluate(_GEOMETRY)
    labels, lines = geo["labels"], geo["lines"]
    names = {r.pk: r.type.name for r in relations}
    assert {label["id"] for label in labels} == set(names)
    for label in labels:
        assert label["text"] == names[label["id"]], label
    for i, a in enumerate(labels):
        for b in labels[i + 1 :]:
            assert not _overlap(a, b), (a, b)
        for line in lines:
            assert not _overlap(a, line), (a, line)
    for level in geo["levels"]:
        lo, hi = sorted((level["x1"], level["x2"]))
        for line in lines:
            crosses = line["y"] < level["y"] < line["y"] + line["h"]
            assert not (crosses and lo < line["x"] + line["w"] and line["x"] < hi), (level, line)
    # Arrows come down onto the target's chip.
    chips = {c["id"]: c for c in geo["chips"]}
    targets = {r.pk: r.target_id for r in relations}
    arrows = [level for level in geo["levels"] if level["arrow"]]
    assert {a["id"] for a in arrows} == set(names)
    for level in arrows:
        chip = chips[targets[level["id"]]]
        assert abs(level["end"] - chip["y"]) < 1, (level, chip)
        assert chip["x"] - 0.5 <= level["endX"] <= chip["x"] + chip["w"] + 0.5, (level, chip)
    return geo


@pytest.fixture
def demo_brief(project):
    return DocumentFactory(project=project, text=demo_brief_text(), title="Congestion brief")


def _demo_set(document, annotator):
    """Alice's demo annotations: ten spans, nine relations (supports, evidence_for, attacks)."""
    aset = AnnotationSetFactory(document=document, annotator=annotator)
    project = document.project
    labels = {lab.name: lab for lab in project.span_labels.all()}
    types = {t.name: t for t in project.relation_types.all()}
    record = _alice(document.text)
    spans = {
        s.id: SpanFactory(annotation_set=aset, label=labels[s.label], start=s.start, end=s.end)
        for s in record.spans
    }
    for r in record.relations:
        Relation.objects.create(annotation_set=aset, source=spans[r.source],
                                target=spans[r.target], type=types[r.type])
    return aset


def test_nine_relations_are_arcs_with_readable_labels(page_for, members, demo_brief):
    aset = _demo_set(demo_brief, members["annotator"])
    relations = list(aset.relations.select_related("type"))
    assert len(relations) == 9
    page = page_for(members["annotator"])
    open_page(page, demo_brief)
    expect(page.locator("#links .arc-label").first).to_be_visible()
    geo = assert_arcs_readable(page, relations)
    # The attack is drawn apart: dashed and red, with its own arrowhead.
    attack = next(r for r in relations if r.type.name == "attacks")
    path = page.locator(f'#links path.arc[data-relation="{attack.pk}"]').last
    assert path.get_attribute("marker-end") == "url(#arc-head-attack)"
    assert page.evaluate(
        "(el) => getComputedStyle(el).strokeDasharray", path.element_handle()) != "none"
    support = next(r for r in relations if r.type.name == "supports")
    solid = page.locator(f'#links path.arc[data-relation="{support.pk}"]').last
    assert page.evaluate("(el) => getComputedStyle(el).strokeDasharray",
                         solid.element_handle()) == "none"
    assert len(geo["labels"]) >= 9
    page.screenshot(path="/tmp/annotate-arcs-9.png", full_page=True)


def test_a_hundred_relations_stay_readable(page_for, members, project):
    rng = random.Random(13)
    words = ["sanctions", "work", "slowly", "but", "exports", "fell", "and", "prices", "rose",
             "in", "the", "capital", "while", "officials", "said"]
    text = "\n\n".join(
        " ".join(rng.choice(words) for _ in range(rng.randint(30, 60))) + "." for _ in range(8)
    )
    document = DocumentFactory(project=project, text=text)
    aset = AnnotationSetFactory(document=document, annotator=members["annotator"])
    tokens = [m.span() for m in re.finditer(r"\S+", text)]
    labels = list(project.span_labels.all())
    spans = [
        SpanFactory(annotation_set=aset, label=rng.choice(labels), start=tokens[i][0],
                    end=tokens[i + 2][1])
        for i in range(0, len(tokens) - 3, 8)
    ]
    types = list(project.relation_types.all())
    made = set()
    while len(made) < 100:
        source, target = rng.sample(spans, 2)
        rtype = rng.choice(types)
        if (source.pk, target.pk, rtype.pk) not in made:
            made.add((source.pk, target.pk, rtype.pk))
            Relation.objects.create(annotation_set=aset, source=source, target=target, type=rtype)
    relations = list(aset.relations.select_related("type"))
    page = page_for(members["annotator"])
    open_page(page, document)
    expect(page.locator("#arcs-all")).to_be_checked()  # 100 relations: all arcs at first
    expect(page.locator("#links .arc-label").first).to_be_visible()
    assert_arcs_readable(page, relations)
    # Narrower, the lines break elsewhere: still readable.
    page.set_viewport_size({"width": 900, "height": 900})
    page.wait_for_timeout(400)  # the resize redraw waits 100 ms
    assert_arcs_readable(page, relations)
    page.screenshot(path="/tmp/annotate-arcs-100.png", full_page=True)


def _shown(page):
    return sorted(set(page.evaluate(
        "() => [...document.querySelectorAll('#links .arc-label')]"
        ".map(g => Number(g.dataset.relation))"
    )))


def test_only_the_selected_spans_arcs_by_mouse(page_for, members, demo_brief):
    aset = _demo_set(demo_brief, members["annotator"])
    page = page_for(members["annotator"])
    open_page(page, demo_brief)
    page.get_by_label("All arcs").uncheck()
    expect(page.locator("#links .arc-label")).to_have_count(0)  # nothing selected yet
    click_phrase(page, "Cleaner air would save lives.")
    reason = aset.spans.get(label__name="Reason", start=demo_brief.text.index("Cleaner air"))
    # Its own relations (to the major claim, from its evidence) and its neighbours'.
    near = {reason.pk} | set(aset.relations.filter(source=reason).values_list("target", flat=True))
    near |= set(aset.relations.filter(target=reason).values_list("source", flat=True))
    expected = sorted(
        r.pk for r in aset.relations.all() if r.source_id in near or r.target_id in near
    )
    # Arcs are drawn after a frame: wait for the drawing, then the exact set.
    wait_until(lambda: _shown(page) == expected, 10, f"the arcs of relations {expected}")
    assert len(expected) < aset.relations.count()
    page.get_by_label("All arcs").check()
    wait_until(lambda: len(_shown(page)) == aset.relations.count(), 10, "every relation's arc")


def test_only_the_selected_spans_arcs_by_keyboard(page_for, members, demo_brief):
    aset = _demo_set(demo_brief, members["annotator"])
    page = page_for(members["annotator"])
    open_page(page, demo_brief)
    page.locator("#arcs-all").focus()
    page.keyboard.press("Space")  # a checkbox: reachable by Tab, toggled by Space
    expect(page.locator("#arcs-all")).not_to_be_checked()
    page.locator("#doc-text").focus()
    page.keyboard.press("j")  # the major claim: every support and the attack end there
    expect(page.locator("#status-line")).to_contain_text("MajorClaim")
    major = aset.spans.get(label__name="MajorClaim")
    touching = set(aset.relations.filter(target=major).values_list("pk", flat=True))
    wait_until(lambda: touching <= set(_shown(page)), 10, "the major claim's arcs")


# ---------------------------------------------------------------- point 2: relations by drag

_CHIP_CENTRE = """
(id) => {
  const r = document.querySelector(`#doc-text .tag[data-span="${id}"]`).getBoundingClientRect();
  return {x: r.left + r.width / 2, y: r.top + r.height / 2};
}
"""
_TEXT_POINT = """
(phrase) => {
  const root = document.getElementById('doc-text');
  for (const seg of root.querySelectorAll('.g')) {
    const at = seg.textContent.indexOf(phrase);
    if (at >= 0) {
      const range = document.createRange();
      range.setStart(seg.firstChild, at);
      range.setEnd(seg.firstChild, at + 1);
      const r = range.getBoundingClientRect();
      return {x: r.left + r.width / 2, y: r.top + r.height / 2};
    }
  }
  throw new Error('not found: ' + phrase);
}
"""


def _drag(page, span_id, phrase):
    start = page.evaluate(_CHIP_CENTRE, span_id)
    end = page.evaluate(_TEXT_POINT, phrase)
    page.mouse.move(start["x"], start["y"])
    page.mouse.down()
    page.mouse.move((start["x"] + end["x"]) / 2, (start["y"] + end["y"]) / 2, steps=4)
    page.mouse.move(end["x"], end["y"], steps=4)
    page.mouse.up()
    return end


def _spans(aset):
    text = aset.document.text
    return {text[s.start : s.end]: s for s in aset.spans.select_related("label")}


@pytest.fixture
def two_sets(project, members):
    text = ("Sanctions should be lifted. Exports fell by 40% (Reuters). Prices rose sharply. "
            "Critics say the sanctions work.")
    document = DocumentFactory(project=project, text=text)
    aset = AnnotationSetFactory(document=document, annotator=members["annotator"])
    labels = {lab.name: lab for lab in project.span_labels.all()}
    for label, phrase in [("Claim", "Sanctions should be lifted."),
                          ("Evidence", "Exports fell by 40%"),
                          ("Evidence", "Prices rose sharply."),
                          ("Claim", "Critics say the sanctions work.")]:
        start = text.index(phrase)
        SpanFactory(annotation_set=aset, label=labels[label], start=start, end=start + len(phrase))
    return document, aset


def test_drag_from_a_span_to_another_offers_only_the_allowed_types(page_for, members, two_sets):
    document, aset = two_sets
    spans = _spans(aset)
    source, target = spans["Prices rose sharply."], spans["Exports fell by 40%"]
    page = page_for(members["annotator"])
    open_page(page, document)
    drop = _drag(page, source.pk, "fell by")
    menu = page.locator("#drop-menu")
    expect(menu).to_be_visible()
    # Evidence → Evidence: the argument schema allows attacks only (supports and
    # evidence_for end at claims and reasons).
    expect(menu.locator(".drop-type")).to_have_text(["2 attacks"])
    box = menu.bounding_box()
    assert abs(box["x"] - drop["x"]) < 40 and 0 <= box["y"] - drop["y"] < 40  # at the drop point
    menu.get_by_role("button", name=re.compile("attacks")).click()
    wait_saved(page, "Linked")
    relation = Relation.objects.get(annotation_set=aset)
    assert (relation.source_id, relation.target_id, relation.type.name) == (
        source.pk, target.pk, "attacks")
    expect(page.locator(f'#links .arc-label[data-relation="{relation.pk}"]')).to_have_text(
        "attacks")
    expect(menu).to_be_hidden()


def test_a_drop_menu_takes_the_types_number_and_esc(page_for, members, two_sets, project):
    document, aset = two_sets
    spans = _spans(aset)
    project.relation_types.filter(name="attacks").update(allowed=[["Claim", "Claim"]])
    page = page_for(members["annotator"])
    open_page(page, document)
    _drag(page, spans["Prices rose sharply."].pk, "Exports")
    expect(page.locator("#drop-menu")).to_contain_text(
        "The schema allows no relation from Evidence to Evidence")
    page.keyboard.press("Escape")
    expect(page.locator("#drop-menu")).to_be_hidden()
    _drag(page, spans["Exports fell by 40%"].pk, "Sanctions should")
    expect(page.locator("#drop-menu .drop-type")).to_have_text(["1 supports", "3 evidence_for"])
    page.keyboard.press("2")  # attacks: not offered for this pair, so nothing happens
    page.keyboard.press("3")  # evidence_for
    wait_saved(page, "Linked")
    relation = Relation.objects.get(annotation_set=aset)
    assert relation.type.name == "evidence_for"
    assert relation.source_id == spans["Exports fell by 40%"].pk
    # A press that does not move is a click: it selects the span.
    start = page.evaluate(_CHIP_CENTRE, spans["Prices rose sharply."].pk)
    page.mouse.click(start["x"], start["y"])
    expect(page.locator("#status-line")).to_contain_text("Evidence")
    expect(page.locator("#drop-menu")).to_be_hidden()
    assert Relation.objects.filter(annotation_set=aset).count() == 1
