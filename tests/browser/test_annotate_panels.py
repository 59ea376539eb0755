"""The annotation page's panels after saves, and keys pressed while a save is on its way.

A save's answer carries no panels: the page redraws the warnings, the outline and the
relation list from its own data (panels.js). After every kind of edit, the panels it
drew must be the server's own rendering of the set, as a fresh load shows it, markup for
markup. And keys pressed faster than the saves they start are all applied, in order.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from annotator.web import annotate as annotate_views
from tests.factories import AnnotationSetFactory, DocumentFactory

from .helpers import drag_select, open_page, wait_saved
from .helpers import make_span as _span

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXT = (
    "Sanctions on Russia do not work. Prices rose sharply in 2024. Exports fell by 40%.\n\n"
    "Officials say the regime adapted quickly. Trade moved to new partners & <routes>.\n\n"
    "The \u00a0central\u2003bank held rates. A fourth paragraph closes the brief here."
)

# The panels' three sections as the browser holds them, without what only marks the
# selection ("current"); `fresh` the same from the server's panels request, for the
# pages the page shows.
_SECTIONS = """async (fresh) => {
  const panels = document.getElementById("panels");
  const clean = (root) => {
    for (const el of root.querySelectorAll(".current")) el.classList.remove("current");
    return ["warnings", "outline", "relations"].map(
      (id) => root.querySelector(`#${id}-panel`).innerHTML);
  };
  const pages = [panels.dataset.outlinePage, panels.dataset.relationPage];
  if (!fresh) return {pages, sections: clean(panels.cloneNode(true))};
  const url = `${panels.dataset.url}?outline_page=${pages[0]}&relation_page=${pages[1]}`;
  const answer = await fetch(url, {headers: {"HX-Request": "true"}});
  const holder = document.createElement("template");
  holder.innerHTML = await answer.text();
  const server = holder.content.getElementById("panels");
  return {pages: [server.dataset.outlinePage, server.dataset.relationPage],
          sections: clean(server)};
}"""

_POST = """async ([name, id, values]) => {
  const root = document.getElementById("annotate-root");
  const urls = JSON.parse(document.getElementById("schema-data").textContent).urls;
  const segment = name.startsWith("relation") ? "relations" : "spans";
  const url = urls[name].replace(`/${segment}/0/`, `/${segment}/${id}/`);
  await root.annotate.post(url, values);
  return root.dataset.version || document.getElementById("set-version").textContent;
}"""


@pytest.fixture
def small_pages(monkeypatch):
    """Pages of a few rows, so that a short brief turns pages and hides warnings."""
    monkeypatch.setattr(annotate_views, "OUTLINE_ROWS", 3)
    monkeypatch.setattr(annotate_views, "RELATION_ROWS", 2)
    monkeypatch.setattr(annotate_views, "WARNING_ROWS", 3)


def _same_as_fresh(page, step: str) -> None:
    drawn = page.evaluate(_SECTIONS, False)
    fresh = page.evaluate(_SECTIONS, True)
    assert drawn["pages"] == fresh["pages"], step
    for name, mine, server in zip(("warnings", "outline", "relations"), drawn["sections"],
                                  fresh["sections"], strict=True):
        assert mine == server, f"after {step}: the {name} panel differs\n{mine}\n!=\n{server}"


def test_panels_drawn_after_every_kind_of_edit_equal_the_servers(page_for, members, project,
                                                                 small_pages):
    brief = DocumentFactory(project=project, text=TEXT, title="Panels brief")
    aset = AnnotationSetFactory(document=brief, annotator=members["annotator"])
    claim = _span(aset, "Claim", "Sanctions on Russia do not work.")
    prices = _span(aset, "Reason", "Prices rose sharply in 2024.")
    exports = _span(aset, "Evidence", "Exports fell by 40%.")
    _span(aset, "Reason", "Officials say the regime adapted quickly.")
    trade = _span(aset, "Evidence", "Trade moved to new partners & <routes>.")
    _span(aset, "Claim", "The \u00a0central\u2003bank held rates.")
    types = {t.name: t.pk for t in project.relation_types.all()}
    labels = {lab.name: lab.pk for lab in project.span_labels.all()}
    page = page_for(members["annotator"])
    open_page(page, brief)
    _same_as_fresh(page, "the page's load")
    steps = 0

    def post(step, name, id_, values):
        nonlocal steps
        page.evaluate(_POST, [name, id_, values])
        steps += 1
        expect(page.locator("#set-version")).to_have_text(f"version {steps}")
        _same_as_fresh(page, step)

    # Made with the keyboard, as a person does: a span with odd whitespace and markup.
    drag_select(page, "A fourth paragraph closes the brief here.")
    page.keyboard.press("m")
    steps += 1
    wait_saved(page, "MajorClaim")
    _same_as_fresh(page, "a new major claim")
    major = aset.spans.get(label__name="MajorClaim")
    post("a link", "relation_create", 0,
         {"source": prices.pk, "target": claim.pk, "type": types["supports"]})
    post("a second link", "relation_create", 0,
         {"source": claim.pk, "target": major.pk, "type": types["supports"]})
    post("an attack", "relation_create", 0,
         {"source": trade.pk, "target": prices.pk, "type": types["attacks"]})
    link = aset.relations.get(source=prices, target=claim)
    post("a retype", "relation_update", link.pk, {"type": types["attacks"]})
    post("a boundary move", "span", exports.pk, {"start": exports.start + 8, "snap": "1"})
    post("a relabel", "span", exports.pk, {"label": labels["Reason"]})
    post("a cycle", "relation_create", 0,
         {"source": major.pk, "target": prices.pk, "type": types["supports"]})
    post("a relation deleted", "relation_delete", link.pk, {})
    post("an undo", "undo", 0, {})
    post("a redo", "redo", 0, {})
    post("a span with relations deleted", "span_delete", claim.pk, {})
    post("its undo", "undo", 0, {})
    # The outline's and the relation list's next pages, then edits drawn on them.
    page.locator("#outline-panel a[rel=next]").click()
    expect(page.locator("#panels")).to_have_attribute("data-outline-page", "2")
    page.locator("#relations-panel a[rel=next]").click()
    expect(page.locator("#panels")).to_have_attribute("data-relation-page", "2")
    _same_as_fresh(page, "turning the pages")
    post("a span on the next page", "span_create", 0,
         {"label": labels["Evidence"], "start": TEXT.index("A fourth"),
          "end": TEXT.index(" closes"), "snap": "1"})
    post("a relation on the next page", "relation_create", 0,
         {"source": exports.pk, "target": major.pk, "type": types["supports"]})
    for relation in list(aset.relations.order_by("-id")[:3]):
        post(f"relation {relation.pk} deleted", "relation_delete", relation.pk, {})
    post("an undo on a shrunk list", "undo", 0, {})
    # And a fresh load of the whole page shows what the page drew.
    drawn = page.evaluate(_SECTIONS, False)
    outline_page, relation_page = drawn["pages"]
    page.goto(f"{page.url.split('?')[0]}?outline_page={outline_page}"
              f"&relation_page={relation_page}")
    expect(page.locator("#annotate-root")).to_have_attribute("data-ready", "true")
    assert page.evaluate(_SECTIONS, False) == drawn


@pytest.fixture
def reason_attributes(project):
    """Reason gains a yes/no attribute with a hotkey (Claim has stance on f)."""
    project.span_labels.filter(name="Reason").update(attributes=[
        {"name": "strong", "type": "boolean", "hotkey": "g", "description": "A strong reason?"},
    ])


def test_label_and_attribute_keys_pressed_without_waiting_are_all_saved(
        page_for, members, project, reason_attributes):
    """Keys pressed while a save is on its way wait for it and run in order (none lost)."""
    brief = DocumentFactory(project=project, text=TEXT, title="Fast keys")
    aset = AnnotationSetFactory(document=brief, annotator=members["annotator"])
    reason = _span(aset, "Reason", "Prices rose sharply in 2024.")
    page = page_for(members["annotator"])
    open_page(page, brief)
    drag_select(page, "Sanctions on Russia do not work.")
    # No waiting between keys: a new Claim, its stance twice, the next span (the reason),
    # its yes/no three times, then the stance's menu again on the claim.
    for key in ["c", "f", "f", "j", "g", "g", "g", "k", "f"]:
        page.keyboard.press(key)
    # 1 span + 2 + 3 + 1 attribute saves.
    expect(page.locator("#set-version")).to_have_text("version 7", timeout=20_000)
    claim = aset.spans.get(label__name="Claim")
    reason.refresh_from_db()
    # stance: for, against, then back to unset; strong: yes, no, unset.
    assert claim.attributes == {}
    assert reason.attributes == {}
    assert aset.actions.count() == 7
    kinds = [a.payload.get("new", {}) for a in aset.actions.order_by("id")][1:]
    assert kinds == [{"attributes": {"stance": "for"}}, {"attributes": {"stance": "against"}},
                     {"attributes": {"strong": True}}, {"attributes": {"strong": False}},
                     {"attributes": {}}, {"attributes": {}}]
