"""Suggestions on the annotation page (issue 16, point 2): ghost spans and arcs,
accepted, dismissed and accepted all, by mouse and by keyboard, in real Chromium."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from annotator.models import DismissedSuggestion, Span
from annotator.services.demo import demo_brief_text
from annotator.services.members import membership_role_change
from annotator.services.suggestions import suggestion_settings_update
from tests.factories import AnnotationSetFactory, DocumentFactory, UserFactory
from tests.live import wait_until
from tests.suggestion_server import SuggestServer

from .helpers import open_page, wait_saved

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REASON_1 = "Traffic in the harbour district has become unbearable."


@pytest.fixture
def brief(project, members):
    suggestion_settings_update(project=project, enabled=True, recommenders=["cues"],
                               accept_threshold=0.8)
    document = DocumentFactory(project=project, text=demo_brief_text())
    aset = AnnotationSetFactory(document=document, annotator=members["annotator"])
    return document, aset


def _open(page_for, members, document):
    page = page_for(members["annotator"])
    open_page(page, document)
    expect(page.locator("#annotate-root")).to_have_attribute("data-suggestions", "ready")
    return page


def _ghost(page, phrase_start: int, label: str):
    text = demo_brief_text()
    key_prefix = f"span:{label}:{phrase_start}:"
    return page.locator(f'.ghost-chip[data-key^="{key_prefix}"]'), text


def test_ghosts_are_drawn_apart_from_spans_with_their_confidence_on_hover(page_for, members,
                                                                          brief):
    document, _ = brief
    page = _open(page_for, members, document)
    start = demo_brief_text().index(REASON_1)
    chip, _ = _ghost(page, start, "Reason")
    expect(chip).to_have_count(1)
    expect(chip).to_have_text("Reason?")
    # Ghosts are not spans: no segment or chip of the set's own was drawn.
    expect(page.locator("#doc-text .tag")).to_have_count(0)
    box = page.locator(f'.ghost-box[data-key="{chip.get_attribute("data-key")}"]').first
    b = box.bounding_box()
    page.mouse.move(b["x"] + b["width"] / 2, b["y"] + b["height"] / 2)
    expect(page.locator(".ghost-tip")).to_be_visible()
    expect(page.locator(".ghost-tip")).to_contain_text("Suggested Reason · 85%")
    expect(page.locator(".ghost-tip")).to_contain_text("numbered item 1 of the 5 announced")
    # Ghost arcs: the reasons' supports and the evidence's evidence_for.
    assert page.locator(".ghost-arc").count() >= 10
    # The boxes let the mouse through to the text.
    assert box.evaluate("(el) => getComputedStyle(el).pointerEvents") == "none"


def test_accept_by_mouse_makes_an_ordinary_span_that_u_undoes(page_for, members, brief):
    document, aset = brief
    page = _open(page_for, members, document)
    start = demo_brief_text().index(REASON_1)
    chip, _ = _ghost(page, start, "Reason")
    chip.click()
    expect(page.locator("#ghost-popover")).to_be_visible()
    page.locator('#ghost-popover [data-ghost="accept"]').click()
    wait_saved(page, "Accepted: Reason")
    span = Span.objects.get(annotation_set=aset)
    assert (span.start, span.end, span.label.name) == (start, start + len(REASON_1), "Reason")
    assert span.suggested_by == "cues"
    # The page draws it as its own span, and the ghost is gone.
    expect(page.locator(f'#doc-text .tag[data-span="{span.pk}"]')).to_have_count(1)
    expect(chip).to_have_count(0)
    # Undo takes the span back, and the suggestion shows again.
    page.locator("#doc-text").focus()
    page.keyboard.press("u")
    wait_saved(page, "Undone")
    assert not Span.objects.filter(annotation_set=aset).exists()
    expect(chip).to_have_count(1)


def test_dismiss_by_mouse_and_it_does_not_come_back(page_for, members, brief):
    document, aset = brief
    page = _open(page_for, members, document)
    start = demo_brief_text().index(REASON_1)
    chip, _ = _ghost(page, start, "Reason")
    key = chip.get_attribute("data-key")
    chip.click()
    expect(page.locator("#ghost-popover")).to_be_visible()
    page.locator('#ghost-popover [data-ghost="dismiss"]').click()
    expect(chip).to_have_count(0)
    expect(page.locator("#ghost-popover")).to_be_hidden()
    expect(page.locator("#status-line")).to_contain_text("Dismissed")
    wait_until(DismissedSuggestion.objects.filter(annotation_set=aset, key=key).exists, 10,
               "the dismissal to reach the database")
    assert not Span.objects.filter(annotation_set=aset).exists()
    page.reload()
    expect(page.locator("#annotate-root")).to_have_attribute("data-suggestions", "ready")
    expect(page.locator(".ghost-chip")).not_to_have_count(0)
    expect(page.locator(f'.ghost-chip[data-key="{key}"]')).to_have_count(0)


def test_an_external_recommenders_timeout_is_shown_beside_the_cues(page_for, members, brief,
                                                                   project, settings):
    document, _ = brief
    with SuggestServer() as server:
        server.delay = 2.0
        settings.WARRANT_SUGGEST_EXTERNAL_URLS = [server.url]
        suggestion_settings_update(project=project, enabled=True,
                                   recommenders=["cues", "external"],
                                   external_url=server.url, external_timeout=0.5)
        page = _open(page_for, members, document)
        expect(page.locator("#suggestion-summary")).to_contain_text(
            "the external recommender did not answer within 0.5 s")
        expect(page.locator(".ghost-chip")).not_to_have_count(0)


def test_accept_and_dismiss_by_keyboard(page_for, members, brief):
    document, aset = brief
    page = _open(page_for, members, document)
    page.locator("#doc-text").focus()
    # "." steps to the first suggestion: the headline's MajorClaim candidate.
    page.keyboard.press(".")
    focused = page.locator(".ghost-chip.focused")
    expect(focused).to_have_count(1)
    first_key = focused.get_attribute("data-key")
    assert first_key.startswith("span:MajorClaim:0:")
    expect(page.locator("#status-line")).to_contain_text("Suggested MajorClaim")
    page.keyboard.press("d")
    expect(page.locator(f'.ghost-chip[data-key="{first_key}"]')).to_have_count(0)
    expect(page.locator("#status-line")).to_contain_text("Dismissed")
    # Dismissals are kept on the server: a reload does not bring it back.
    wait_until(DismissedSuggestion.objects.filter(annotation_set=aset, key=first_key).exists, 10,
               "the dismissal to reach the database")
    # The next one is focused: the opening recommendation; "a" accepts it.
    second = page.locator(".ghost-chip.focused")
    second_key = second.get_attribute("data-key")
    assert second_key.startswith("span:MajorClaim:")
    page.keyboard.press("a")
    wait_saved(page, "Accepted: MajorClaim")
    span = Span.objects.get(annotation_set=aset)
    assert span.label.name == "MajorClaim" and span.suggested_by == "cues"
    # Focus moved on to the next suggestion.
    expect(page.locator(".ghost-chip.focused, .ghost-arc.focused")).not_to_have_count(0)
    page.reload()
    expect(page.locator("#annotate-root")).to_have_attribute("data-suggestions", "ready")
    expect(page.locator(f'.ghost-chip[data-key="{first_key}"]')).to_have_count(0)


def test_quick_dismissals_are_all_kept(page_for, members, brief):
    # htmx keeps only the last of the requests queued on one element: four "d" in a row
    # once recorded the first and the last and lost the two between.
    document, aset = brief
    page = _open(page_for, members, document)
    # A slow network, so that each "d" comes while the one before is on its way.
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 400,
                                                  "downloadThroughput": -1,
                                                  "uploadThroughput": -1})
    page.locator("#doc-text").focus()
    page.keyboard.press(".")
    keys = []
    for _ in range(4):
        focused = page.locator(".ghost-chip.focused, .ghost-arc.focused")
        expect(focused).to_have_count(1)
        keys.append(focused.get_attribute("data-key"))
        page.keyboard.press("d")
    assert len(set(keys)) == 4
    wait_until(lambda: DismissedSuggestion.objects.filter(annotation_set=aset).count() >= 4, 10,
               "the dismissals to reach the database")
    page.wait_for_load_state("networkidle")
    assert set(DismissedSuggestion.objects.filter(annotation_set=aset)
               .values_list("key", flat=True)) == set(keys)


def test_a_dismissal_the_server_refuses_shows_the_suggestion_again(page_for, members, brief,
                                                                     project):
    document, aset = brief
    page = _open(page_for, members, document)
    page.locator("#doc-text").focus()
    page.keyboard.press(".")
    focused = page.locator(".ghost-chip.focused")
    key = focused.get_attribute("data-key")
    # The annotator is removed from the project while the page is open.
    membership_role_change(project=project, user=members["annotator"], role="viewer")
    page.keyboard.press("d")
    expect(page.locator("#alerts")).to_contain_text("Not allowed")
    # Nothing was recorded, and the page says so by showing the suggestion again.
    expect(page.locator(f'.ghost-chip[data-key="{key}"]')).to_have_count(1)
    assert not DismissedSuggestion.objects.filter(annotation_set=aset).exists()


def test_accept_all_above_the_threshold_by_key_then_one_undo(page_for, members, brief):
    document, aset = brief
    page = _open(page_for, members, document)
    button = page.locator("#suggestion-accept-all")
    expect(button).to_contain_text("Accept all ≥ 80%")
    page.locator("#doc-text").focus()
    page.keyboard.press("Shift+A")
    wait_saved(page, "Accepted 5 suggested span(s)")
    spans = list(Span.objects.filter(annotation_set=aset).select_related("label"))
    # The five numbered reasons (0.85) are above 0.8; nothing else is.
    assert sorted(s.label.name for s in spans) == ["Reason"] * 5
    assert {s.suggested_by for s in spans} == {"cues"}
    expect(page.locator("#doc-text .tag")).to_have_count(5)
    page.keyboard.press("u")
    wait_saved(page, "Undone")
    assert not Span.objects.filter(annotation_set=aset).exists()


def test_accept_all_by_mouse_with_relations_between_accepted_spans(page_for, members, brief,
                                                                     project):
    document, aset = brief
    suggestion_settings_update(project=project, enabled=True, recommenders=["cues"],
                               accept_threshold=0.5)
    page = _open(page_for, members, document)
    page.locator("#suggestion-accept-all").click()
    wait_saved(page, "Accepted")
    spans = Span.objects.filter(annotation_set=aset)
    assert spans.count() >= 10
    assert aset.relations.count() >= 5
    # The accepted relations are drawn as the page's own arcs.
    expect(page.locator("#links path.arc")).not_to_have_count(0)


def test_an_annotator_outside_the_chosen_half_sees_no_suggestions(page_for, members, brief,
                                                                   project):
    document, _ = brief
    other = UserFactory(username="zed")
    from annotator.models import Membership

    Membership.objects.create(project=project, user=other, role="annotator")
    suggestion_settings_update(project=project, enabled=True, recommenders=["cues"],
                               audience="chosen", chosen=["zed"])
    page = page_for(members["annotator"])
    open_page(page, document)
    expect(page.locator("#suggestion-bar")).to_have_count(0)
    expect(page.locator(".ghost-chip")).to_have_count(0)
