"""The annotation page in real Chromium, driven as a user would (issue 3)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from annotator.models import Relation
from tests.factories import (
    AnnotationSetFactory,
    DocumentFactory,
    MembershipFactory,
    UserFactory,
)

from .helpers import annotate_url, click_phrase, drag_select, open_page, spans_of, wait_saved
from .helpers import make_span as _span

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXT = (
    "Sanctions on Ruritania should be lifted. 👩‍💻 Exports fell by 40% (Reuters). "
    "Prices rose sharply. Therefore the sanctions failed.\n\nA second paragraph 𝔘 ends here."
)


@pytest.fixture
def brief(project):
    return DocumentFactory(project=project, text=TEXT, title="Ruritania brief")


@pytest.fixture
def own_set(brief, members):
    return AnnotationSetFactory(document=brief, annotator=members["annotator"])


def test_select_text_press_hotkey_saves_span_and_it_survives_reload(
    page_for, members, brief, own_set
):
    page = page_for(members["annotator"])
    open_page(page, brief)
    drag_select(page, "Exports fell by 40%")
    page.keyboard.press("e")
    wait_saved(page)
    assert spans_of(own_set) == [("Evidence", "Exports fell by 40%")]
    page.screenshot(path="/tmp/annotate-1.png", full_page=True)
    page.reload()
    expect(page.locator(".tag")).to_have_text(["Evidence"])
    span = own_set.spans.get()
    expect(page.locator(f'.g[data-k~="{span.pk}"]')).to_have_text(["Exports fell by 40%"])
    own_set.refresh_from_db()
    assert own_set.status == "in_progress" and own_set.version == 1


def _relate(aset, source, target, type_name):
    return Relation.objects.create(
        annotation_set=aset,
        source=source,
        target=target,
        type=aset.document.project.relation_types.get(name=type_name),
    )


def test_offsets_js_converts_utf16_offsets_to_code_points(page_for, members, brief, own_set):
    page = page_for(members["annotator"])
    open_page(page, brief)
    result = page.evaluate(
        """async () => {
          const m = await import('/static/annotator/offsets.js');
          const t = 'a\\u{1F44D}b\\u{1D518}c\\u{1F469}\\u200D\\u{1F4BB}d';
          return {
            plain: m.utf16ToCodePoints('abc', 2),
            afterEmoji: m.utf16ToCodePoints(t, 3),
            afterMath: m.utf16ToCodePoints(t, 6),
            zwj: m.utf16ToCodePoints(t, t.length),
            inside: m.utf16ToCodePoints(t, 2),
            back: m.codePointsToUtf16(t, 5),
            length: t.length,
            error: (() => { try { m.utf16ToCodePoints('ab', 3); } catch (e) { return e.name; } })(),
          };
        }"""
    )
    text = "a\U0001F44Db\U0001D518c\U0001F469\u200d\U0001F4BBd"
    assert result["plain"] == 2
    assert result["afterEmoji"] == 2  # "a👍" is 3 UTF-16 units, 2 code points
    assert result["afterMath"] == 4
    assert result["zwj"] == len(text)  # 👩‍💻 is 3 code points, 5 units
    assert result["inside"] == 1  # between the halves of 👍: counted before the pair
    assert result["back"] == 7
    assert result["length"] == 13
    assert result["error"] == "RangeError"


def test_emoji_before_a_span_never_shift_it(page_for, members, brief, own_set):
    page = page_for(members["annotator"])
    open_page(page, brief)
    drag_select(page, "ends here")
    page.keyboard.press("c")
    wait_saved(page)
    span = own_set.spans.get()
    assert TEXT[span.start : span.end] == "ends here"  # snapping adds no full stop
    assert span.start == TEXT.index("ends here")  # code points, not UTF-16 units


def test_snapping_to_words_and_the_palette(page_for, members, brief, own_set):
    page = page_for(members["annotator"])
    open_page(page, brief)
    drag_select(page, "ports fel")
    page.get_by_role("button", name="Reason r").click()
    wait_saved(page, "Reason")
    assert spans_of(own_set) == [("Reason", "Exports fell")]

    page.get_by_label("Snap to whole words").uncheck()
    drag_select(page, "ices ros")
    page.get_by_role("button", name="Claim c").click()
    wait_saved(page, "Claim")
    assert ("Claim", "ices ros") in spans_of(own_set)


def test_nested_and_overlapping_spans_are_all_visible_and_pickable(
    page_for, members, brief, own_set
):
    outer = _span(own_set, "Claim", "Sanctions on Ruritania should be lifted.")
    inner = _span(own_set, "Reason", "Ruritania")
    left = _span(own_set, "Evidence", "Prices rose sharply. Therefore")
    right = _span(own_set, "Claim", "Therefore the sanctions failed.")
    page = page_for(members["annotator"])
    open_page(page, brief)
    # Two underline rows where two spans cover the text, one elsewhere.
    both = page.locator(f'.g[data-k="{outer.pk} {inner.pk}"]')
    expect(both).to_have_class("g n2")
    expect(page.locator(f'.g[data-k="{left.pk} {right.pk}"]')).to_have_text("Therefore")

    click_phrase(page, "Ruritania")
    expect(page.locator("#status-line")).to_contain_text("Reason")
    click_phrase(page, "Ruritania")  # the same place again: the enclosing span
    expect(page.locator("#status-line")).to_contain_text("Claim (1 of 4)")
    expect(page.locator("#span-editor")).to_contain_text("Sanctions on Ruritania")

    seen = []
    for _ in range(4):
        page.keyboard.press("j")
        seen.append(page.locator("#status-line").inner_text())
    assert [s.split(" (")[0] for s in seen] == ["Reason", "Evidence", "Claim", "Claim"]
    page.screenshot(path="/tmp/annotate-nested.png")


def test_change_a_span_label_stance_note_and_delete_it_with_its_relations(
    page_for, members, brief, own_set
):
    claim = _span(own_set, "Reason", "Sanctions on Ruritania should be lifted.")
    evidence = _span(own_set, "Evidence", "Exports fell by 40%")
    _relate(own_set, evidence, claim, "evidence_for")
    page = page_for(members["annotator"])
    open_page(page, brief)
    click_phrase(page, "Sanctions")
    editor = page.locator("#span-editor")
    expect(editor.get_by_label("Label")).to_have_value(str(claim.label_id))
    editor.get_by_label("Label").select_option("Claim")  # whose schema has a stance
    editor.get_by_role("button", name="Save changes").click()
    wait_saved(page, "Saved: Claim")
    # The editor now shows the fields of Claim's attributes.
    editor.get_by_label("stance").select_option("against")
    editor.get_by_label("Note").fill("The headline, really.")
    editor.get_by_role("button", name="Save changes").click()
    expect(page.locator("#set-version")).to_have_text("version 2")
    claim.refresh_from_db()
    assert claim.label.name == "Claim"
    assert claim.attributes == {"stance": "against"}
    assert claim.note == "The headline, really."
    expect(page.locator(f'.tag[data-span="{claim.pk}"]')).to_have_text("Claim")

    click_phrase(page, "Exports")
    expect(page.locator("#status-line")).to_contain_text("Evidence")
    page.keyboard.press("x")
    wait_saved(page, "Deleted")
    assert spans_of(own_set) == [("Claim", "Sanctions on Ruritania should be lifted.")]
    assert not Relation.objects.filter(annotation_set=own_set).exists()
    expect(page.locator("#relation-list")).to_contain_text("None yet")


def test_relate_two_spans_with_hotkeys_shows_list_and_arrow(page_for, members, brief, own_set):
    claim = _span(own_set, "Claim", "Sanctions on Ruritania should be lifted.")
    reason = _span(own_set, "Reason", "Prices rose sharply.")
    page = page_for(members["annotator"])
    open_page(page, brief)
    page.keyboard.press("k")  # the last span: the reason
    expect(page.locator("#status-line")).to_contain_text("Reason")
    page.keyboard.press("t")
    expect(page.locator("#status-line")).to_contain_text("Linking from Reason")
    page.keyboard.press("j")  # wraps round to the claim
    page.keyboard.press("Enter")
    menu = page.locator("#relation-menu")
    expect(menu).to_be_visible()
    expect(menu).to_contain_text("Reason")
    page.keyboard.press("1")  # supports
    wait_saved(page, "Linked")
    relation = Relation.objects.get(annotation_set=own_set)
    assert (relation.source, relation.target, relation.type.name) == (reason, claim, "supports")
    expect(page.locator("#relation-list li")).to_contain_text("supports")
    arrow = page.locator(f'#links path[data-relation="{relation.pk}"]')
    expect(arrow).to_have_count(1)
    assert arrow.get_attribute("marker-end") == "url(#arc-head-support)"
    expect(page.locator(f'#links .arc-label[data-relation="{relation.pk}"]')).to_have_text(
        "supports")
    expect(page.locator("#outline")).to_contain_text("supports")
    page.screenshot(path="/tmp/annotate-relation.png")


def test_a_type_the_schema_does_not_allow_is_refused_with_the_reason(
    page_for, members, brief, own_set
):
    _span(own_set, "Evidence", "Exports fell by 40%")
    _span(own_set, "Evidence", "Prices rose sharply.")
    page = page_for(members["annotator"])
    open_page(page, brief)
    click_phrase(page, "Exports")
    page.keyboard.press("t")
    click_phrase(page, "Prices")  # clicking picks the target at once
    expect(page.locator("#relation-menu")).to_contain_text("not allowed from Evidence to Evidence")
    page.keyboard.press("3")  # evidence_for: Evidence may only back a claim or a reason
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("evidence_for cannot link Evidence to Evidence")
    expect(alert).to_contain_text("from Evidence to MajorClaim, Claim or Reason")
    assert not Relation.objects.filter(annotation_set=own_set).exists()


def test_outline_tree_and_warnings_point_at_spans(page_for, members, brief, own_set):
    major = _span(own_set, "MajorClaim", "Sanctions on Ruritania should be lifted.")
    reason = _span(own_set, "Reason", "Prices rose sharply.")
    lonely = _span(own_set, "Reason", "Therefore the sanctions failed.")
    evidence = _span(own_set, "Evidence", "Exports fell by 40%")
    _relate(own_set, reason, major, "supports")
    _relate(own_set, evidence, reason, "evidence_for")
    _relate(own_set, lonely, reason, "attacks")
    page = page_for(members["annotator"])
    open_page(page, brief)
    rows = page.locator("#outline li")
    expect(rows).to_have_count(4)
    expect(rows.nth(0)).to_contain_text("MajorClaim")
    expect(rows.nth(1)).to_contain_text("supports")
    expect(page.locator("#outline li.attack")).to_contain_text("attacks")
    expect(page.locator("#warnings")).to_have_text("No warnings.")

    Relation.objects.filter(source=evidence).delete()
    page.reload()
    warning = page.locator("#warnings li")
    expect(warning).to_have_count(1)
    expect(warning).to_contain_text("Evidence linked to nothing")
    warning.get_by_role("button").click()
    expect(page.locator(f'.g.sel[data-k~="{evidence.pk}"]')).to_have_text("Exports fell by 40%")
    page.locator("#outline").get_by_role("button", name="Reason Prices rose").click()
    expect(page.locator(f'.g.sel[data-k~="{reason.pk}"]').first).to_be_visible()


def test_guidelines_are_rendered_safely(page_for, members, brief, own_set, project):
    project.guidelines = "Mark the **major claim** first.<script>window.pwned = 1</script>"
    project.save()
    page = page_for(members["annotator"])
    open_page(page, brief)
    page.get_by_text("Guidelines").click()
    body = page.locator(".guidelines-body")
    expect(body.locator("strong")).to_have_text("major claim")
    expect(body.locator("script")).to_have_count(0)
    assert page.evaluate("window.pwned") is None


def test_undo_brings_back_a_deleted_span_with_its_relation(page_for, members, brief, own_set):
    claim = _span(own_set, "Claim", "Sanctions on Ruritania should be lifted.")
    evidence = _span(own_set, "Evidence", "Exports fell by 40%")
    _relate(own_set, evidence, claim, "evidence_for")
    page = page_for(members["annotator"])
    open_page(page, brief)
    drag_select(page, "Prices rose sharply.")
    page.keyboard.press("r")
    wait_saved(page, "Reason")
    page.keyboard.press("u")
    wait_saved(page, "Undone")
    assert [label for label, _ in spans_of(own_set)] == ["Claim", "Evidence"]
    click_phrase(page, "Exports")
    expect(page.locator("#status-line")).to_contain_text("Evidence")
    page.keyboard.press("Delete")
    wait_saved(page, "Deleted")
    assert own_set.spans.count() == 1
    page.keyboard.press("Control+z")
    wait_saved(page, "Undone")
    assert Relation.objects.filter(annotation_set=own_set, source=evidence).exists()
    expect(page.locator("#relation-list li")).to_contain_text("evidence_for")


def test_a_stale_tab_is_refused_and_told_to_reload(page_for, members, brief, own_set):
    first = page_for(members["annotator"])
    second = page_for(members["annotator"], context=first.context)
    open_page(first, brief)
    open_page(second, brief)
    drag_select(first, "Exports fell by 40%")
    first.keyboard.press("e")
    wait_saved(first)
    drag_select(second, "Prices rose sharply.")
    second.keyboard.press("r")
    alert = second.get_by_role("alert")
    expect(alert).to_contain_text("changed elsewhere")
    expect(alert).to_contain_text("reload")
    assert spans_of(own_set) == [("Evidence", "Exports fell by 40%")]
    alert.get_by_role("button", name="Reload the page").click()
    expect(second.locator(".tag")).to_have_text(["Evidence"])
    span = own_set.spans.get()
    expect(second.locator(f'.g[data-k~="{span.pk}"]')).to_have_text(["Exports fell by 40%"])


def test_a_failed_save_is_shown_not_swallowed(page_for, members, brief, own_set):
    page = page_for(members["annotator"])
    open_page(page, brief)
    page.route("**/annotate/spans/", lambda route: route.abort())
    drag_select(page, "Exports fell by 40%")
    page.keyboard.press("e")
    expect(page.get_by_role("alert")).to_contain_text("NOT saved")
    page.unroute("**/annotate/spans/")
    page.route(
        "**/annotate/spans/", lambda route: route.fulfill(status=500, body="<h1>Server Error</h1>")
    )
    drag_select(page, "Prices rose sharply.")
    page.keyboard.press("r")
    expect(page.get_by_role("alert")).to_contain_text("Not saved: the server answered 500")
    assert own_set.spans.count() == 0


def test_submit_reopen_and_next_document(page_for, members, brief, own_set, project):
    later = DocumentFactory(project=project, position=5, title="Later brief")
    AnnotationSetFactory(document=later, annotator=members["annotator"])
    page = page_for(members["annotator"])
    open_page(page, brief)
    page.keyboard.press("s")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("No major claim")  # a warning, not a block
    page.keyboard.press("Enter")
    expect(page.locator("#set-status")).to_have_text("Submitted")
    own_set.refresh_from_db()
    assert own_set.status == "submitted" and own_set.submitted_at is not None
    expect(page.locator(".readonly-note")).to_contain_text("until you reopen it")

    page.get_by_role("button", name="Reopen").click()
    expect(page.locator("#set-status")).to_have_text("In progress")
    own_set.refresh_from_db()
    assert own_set.status == "in_progress"

    page.locator("#doc-text").focus()
    page.keyboard.press("n")
    expect(page.locator("h1")).to_have_text("Later brief")


def test_managers_read_any_set_but_change_nothing(page_for, members, brief, own_set):
    _span(own_set, "Claim", "Sanctions on Ruritania should be lifted.")
    page = page_for(members["manager"])
    open_page(page, brief, set_id=own_set.pk)
    expect(page.locator(".set-meta")).to_contain_text("read-only")
    expect(page.locator(".palette")).to_have_count(0)
    drag_select(page, "Prices rose sharply.")
    page.keyboard.press("r")
    expect(page.get_by_role("alert")).to_contain_text("read-only")
    click_phrase(page, "Sanctions")
    expect(page.locator("#span-editor")).to_contain_text("Sanctions on Ruritania")
    expect(page.locator("#span-editor form")).to_have_count(0)
    assert own_set.spans.count() == 1


def test_blind_project_hides_other_annotators_sets(page_for, members, brief, own_set, project):
    other = AnnotationSetFactory(document=brief, annotator=UserFactory(username="peer"))
    MembershipFactory(project=project, user=other.annotator, role="annotator")
    page = page_for(members["annotator"])
    response = page.goto(annotate_url(brief, other.pk))
    assert response.status == 403


def test_keyboard_only_annotation(page_for, members, brief, own_set):
    page = page_for(members["annotator"])
    open_page(page, brief)
    for _ in range(40):  # Tab through the page to the text, as a keyboard user does
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "doc-text":
            break
    assert page.evaluate("document.activeElement.id") == "doc-text"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # visible focus

    page.keyboard.press("ArrowRight")  # the first word
    for _ in range(6):  # five words and the full stop, a word of its own
        page.keyboard.press("Shift+ArrowRight")
    expect(page.locator("#status-line")).to_contain_text("Sanctions on Ruritania should be lifted.")
    page.keyboard.press("m")
    wait_saved(page, "MajorClaim")
    page.keyboard.press("ArrowRight")  # the emoji: a word of its own
    page.keyboard.press("ArrowRight")
    for _ in range(4):  # fell, by, 40, %
        page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("e")
    wait_saved(page, "Evidence")
    assert spans_of(own_set) == [
        ("MajorClaim", "Sanctions on Ruritania should be lifted."),
        ("Evidence", "Exports fell by 40%"),
    ]
    # Link the evidence (selected, as just made) to the major claim.
    page.keyboard.press("t")
    page.keyboard.press("k")
    page.keyboard.press("Enter")
    page.keyboard.press("3")
    wait_saved(page, "Linked")
    assert Relation.objects.filter(annotation_set=own_set, type__name="evidence_for").count() == 1
    # Relabel with a key, then submit.
    page.keyboard.press("j")
    page.keyboard.press("s")
    page.keyboard.press("Enter")
    expect(page.locator("#set-status")).to_have_text("Submitted")


def test_every_control_is_labelled(page_for, members, brief, own_set):
    _span(own_set, "Claim", "Sanctions on Ruritania should be lifted.")
    page = page_for(members["annotator"])
    open_page(page, brief)
    click_phrase(page, "Sanctions")
    expect(page.locator("#span-editor form")).to_have_count(2)
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll(
            'button, select, textarea, input:not([type=hidden])')]
          .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                        && !el.textContent.trim())
          .map(el => el.outerHTML)"""
    )
    assert unlabelled == []


# ---------------------------------------------------------------- audit of issue 3: nothing lost,
# keyboard-only work and accessibility

# A JS function: where the alert region is on screen, and whether it is the topmost thing at
# its own centre (not under the palette, a dialog or its backdrop).
_ALERT_ON_SCREEN = """
() => {
  const alerts = document.getElementById('alerts');
  const r = alerts.getBoundingClientRect();
  const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  return {top: r.top, bottom: r.bottom, height: r.height, viewport: window.innerHeight,
          onTop: Boolean(hit && alerts.contains(hit))};
}
"""


def _assert_alert_in_viewport(page):
    where = page.evaluate(_ALERT_ON_SCREEN)
    assert where["height"] > 0, where
    assert where["top"] >= 0 and where["bottom"] <= where["viewport"], where
    assert where["onTop"], where


def test_a_conflict_far_down_a_long_brief_is_shown_in_the_viewport(
    page_for, members, project
):
    filler = "\n\n".join(f"Paragraph {n} says little of note." for n in range(1, 90))
    long_brief = DocumentFactory(
        project=project, title="Long brief",
        text=f"{TEXT}\n\n{filler}\n\nThe very last sentence stands here.",
    )
    own = AnnotationSetFactory(document=long_brief, annotator=members["annotator"])
    first = page_for(members["annotator"])
    second = page_for(members["annotator"], context=first.context)
    open_page(first, long_brief)
    open_page(second, long_brief)
    first.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    assert first.evaluate("window.scrollY") > 2000  # the top of the page is far off screen
    drag_select(second, "Exports fell by 40%")
    second.keyboard.press("e")
    wait_saved(second)

    drag_select(first, "very last sentence")
    first.keyboard.press("c")
    alert = first.get_by_role("alert")
    expect(alert).to_contain_text("changed elsewhere")
    expect(alert).to_contain_text("reload")
    _assert_alert_in_viewport(first)
    first.screenshot(path="/tmp/annotate-conflict-scrolled.png")
    assert spans_of(own) == [("Evidence", "Exports fell by 40%")]
    # An error stays until it is dismissed; then the text is where it was on screen.
    first.wait_for_timeout(300)
    _assert_alert_in_viewport(first)
    text_bottom = "document.getElementById('doc-text').getBoundingClientRect().bottom"
    before = first.evaluate(text_bottom)
    alert.get_by_role("button", name="Dismiss").click()
    expect(first.locator("#alerts")).to_be_empty()
    assert first.evaluate(text_bottom) == pytest.approx(before, abs=2)


def test_an_error_from_the_submit_dialog_closes_it_and_shows_the_alert(
    page_for, members, brief, own_set
):
    first = page_for(members["annotator"])
    second = page_for(members["annotator"], context=first.context)
    open_page(first, brief)
    open_page(second, brief)
    first.keyboard.press("s")
    dialog = first.locator("#submit-dialog")
    expect(dialog).to_be_visible()
    drag_select(second, "Exports fell by 40%")  # the set changes in another tab
    second.keyboard.press("e")
    wait_saved(second)

    first.keyboard.press("Enter")  # Submit, with the page's version now stale
    alert = first.get_by_role("alert")
    expect(alert).to_contain_text("changed elsewhere")
    expect(alert).to_contain_text("reload")
    expect(dialog).to_be_hidden()
    assert first.evaluate("document.querySelector('dialog[open]')") is None
    _assert_alert_in_viewport(first)
    # The keyboard user lands on the way out: reloading.
    assert first.evaluate("document.activeElement.textContent") == "Reload the page"
    own_set.refresh_from_db()
    assert own_set.status == "in_progress"


def test_picking_a_span_in_the_outline_drops_the_text_selection(
    page_for, members, brief, own_set
):
    claim = _span(own_set, "Claim", "Sanctions on Ruritania should be lifted.")
    reason = _span(own_set, "Reason", "Prices rose sharply.")
    _relate(own_set, reason, claim, "supports")
    page = page_for(members["annotator"])
    open_page(page, brief)
    drag_select(page, "Exports fell by 40%")
    page.locator("#outline").get_by_role("button", name="Reason Prices rose").click()
    expect(page.locator(f'.g.sel[data-k~="{reason.pk}"]').first).to_be_visible()
    assert page.evaluate("window.getSelection().isCollapsed")
    page.keyboard.press("e")
    wait_saved(page, "Evidence")
    assert spans_of(own_set) == [
        ("Claim", "Sanctions on Ruritania should be lifted."),
        ("Evidence", "Prices rose sharply."),
    ]
    reason.refresh_from_db()
    assert reason.label.name == "Evidence"


def test_saving_in_the_span_editor_keeps_the_keyboard_focus(page_for, members, brief, own_set):
    claim = _span(own_set, "Claim", "Sanctions on Ruritania should be lifted.")
    page = page_for(members["annotator"])
    open_page(page, brief)
    page.locator("#doc-text").focus()
    page.keyboard.press("j")
    expect(page.locator("#span-editor")).to_contain_text("Sanctions on Ruritania")
    page.keyboard.press("Enter")
    expect(page.locator("#span-label")).to_be_focused()
    for _ in range(2):  # stance (Claim's one attribute), note
        page.keyboard.press("Tab")
    expect(page.locator("#span-note")).to_be_focused()
    page.keyboard.type("Checked by keyboard.")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Save changes")).to_be_focused()
    page.keyboard.press("Enter")
    wait_saved(page, "Saved: Claim")
    claim.refresh_from_db()
    assert claim.note == "Checked by keyboard."
    # The save brought the editor along: it is not loaded again over what is being typed.
    page.evaluate("document.getElementById('span-editor').dataset.before = 'yes'")
    page.wait_for_timeout(400)
    expect(page.locator("#span-editor[data-before]")).to_have_count(1)
    focus = page.evaluate(
        """() => {
          const el = document.activeElement;
          return {tag: el.tagName, id: el.id,
                  inside: Boolean(el.closest('#doc-text, #span-editor'))};
        }"""
    )
    assert focus["inside"], focus
    # ... and the keyboard goes on from there: the next span key works on the edited span.
    page.keyboard.press("r")
    wait_saved(page, "Reason")
    assert spans_of(own_set) == [("Reason", "Sanctions on Ruritania should be lifted.")]


def _relative_luminance(rgb: tuple[int, int, int]) -> float:
    # WCAG 2.x relative luminance, https://www.w3.org/TR/WCAG21/#dfn-relative-luminance
    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _contrast_ratio(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    # WCAG 2.x contrast ratio, https://www.w3.org/TR/WCAG21/#dfn-contrast-ratio
    light, dark = sorted((_relative_luminance(a), _relative_luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_the_focus_ring_has_3_to_1_contrast(page_for, members, brief, own_set):
    """WCAG 2.x SC 1.4.11 Non-text Contrast: a focus indicator needs 3:1 against what is
    next to it: the white page and the panel grey of the top bar."""
    assert _contrast_ratio((0, 0, 0), (255, 255, 255)) == pytest.approx(21)
    page = page_for(members["annotator"])
    open_page(page, brief)
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "doc-text":
            break
    style = page.evaluate(
        """() => {
          const s = getComputedStyle(document.activeElement);
          return {colour: s.outlineColor, style: s.outlineStyle, width: s.outlineWidth,
                  panel: getComputedStyle(document.querySelector('.topbar')).backgroundColor,
                  page: getComputedStyle(document.body).backgroundColor};
        }"""
    )
    assert style["style"] == "solid" and style["width"] == "3px", style

    def rgb(css: str) -> tuple[int, int, int]:
        assert css.startswith("rgb(") and css.endswith(")"), css
        return tuple(int(part) for part in css[4:-1].split(","))

    ring = rgb(style["colour"])
    assert rgb(style["panel"]) == (0xF3, 0xF4, 0xF6)
    for background in [(255, 255, 255), rgb(style["panel"])]:
        assert _contrast_ratio(ring, background) >= 3, (style["colour"], background)


# ---------------------------------------------------------------- issue 13, point 3: redo


def _dump(aset):
    from tests.services.test_annotations import dump

    return dump(aset)


def test_redo_by_keys_and_button_brings_back_what_undo_took(page_for, members, brief, own_set):
    claim = _span(own_set, "Claim", "Sanctions on Ruritania should be lifted.")
    evidence = _span(own_set, "Evidence", "Exports fell by 40%")
    _relate(own_set, evidence, claim, "evidence_for")
    page = page_for(members["annotator"])
    open_page(page, brief)
    start = _dump(own_set)
    click_phrase(page, "Exports")
    expect(page.locator("#status-line")).to_contain_text("Evidence")
    page.keyboard.press("x")
    wait_saved(page, "Deleted")
    deleted = _dump(own_set)
    page.keyboard.press("Control+z")
    wait_saved(page, "Undone")
    assert _dump(own_set) == start
    page.keyboard.press("Control+Shift+Z")  # redo, never a second undo
    wait_saved(page, "Redone")
    assert _dump(own_set) == deleted
    page.keyboard.press("u")
    wait_saved(page, "Undone")
    page.keyboard.press("Control+y")
    wait_saved(page, "Redone")
    assert _dump(own_set) == deleted
    page.keyboard.press("u")
    wait_saved(page, "Undone")
    page.keyboard.press("Shift+U")
    wait_saved(page, "Redone")
    page.keyboard.press("u")
    wait_saved(page, "Undone")
    page.get_by_role("button", name="Redo").click()
    wait_saved(page, "Redone")
    assert _dump(own_set) == deleted
    expect(page.locator("#relation-list")).to_contain_text("None yet")


def test_a_new_edit_clears_what_redo_could_bring_back(page_for, members, brief, own_set):
    page = page_for(members["annotator"])
    open_page(page, brief)
    drag_select(page, "Exports fell by 40%")
    page.keyboard.press("e")
    wait_saved(page, "Evidence")
    page.keyboard.press("u")
    wait_saved(page, "Undone")
    drag_select(page, "Prices rose sharply.")
    page.keyboard.press("r")
    wait_saved(page, "Reason")
    page.keyboard.press("Control+Shift+Z")
    expect(page.get_by_role("alert")).to_contain_text("nothing to redo")
    assert spans_of(own_set) == [("Reason", "Prices rose sharply.")]
