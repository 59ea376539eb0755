"""Light and dark themes in real Chromium (issue 14): contrast read back from the page.

Colours are read from Chromium's computed styles, never from the CSS file, and turned
into 8-bit sRGB by painting them on a canvas (Chromium resolves the relative colours and
light-dark() of warrant.css itself). The contrast ratio is WCAG 2.x's:
(L1 + 0.05) / (L2 + 0.05) of the relative luminances,
https://www.w3.org/TR/WCAG21/#dfn-contrast-ratio and
https://www.w3.org/TR/WCAG21/#dfn-relative-luminance; AA asks 4.5:1 of text
(https://www.w3.org/TR/WCAG21/#contrast-minimum) and 3:1 of the parts of graphics
needed to understand the content, such as a span's underline, and of a control's
border (https://www.w3.org/TR/WCAG21/#non-text-contrast).
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from annotator.formats.schema import load_schema
from tests.browser.colours import painted, underline_colour
from tests.browser.helpers import annotate_url, make_span
from tests.factories import AnnotationSetFactory, DocumentFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AA = 4.5
NON_TEXT = 3.0
TEXT = "Claim one. Reason two. Evidence three. Major four. Yellow five. Grey six. Pale seven."
PHRASES = {"Claim": "Claim one.", "Reason": "Reason two.", "Evidence": "Evidence three.",
           "MajorClaim": "Major four."}
# Beyond the preset: colours a project may pick that white text fails on (yellow 1.07:1,
# mid grey 4.48:1, a pale blue), so the ink is seen to be chosen, not assumed.
EXTRA = {"Yellow": ("#ffff00", "Yellow five."), "Grey": ("#777777", "Grey six."),
         "Pale": ("#a5d8ff", "Pale seven.")}



def luminance(rgb) -> float:
    """WCAG 2.x relative luminance of an 8-bit sRGB colour."""

    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def over(top, bottom):
    """``top`` (with alpha) painted over the opaque ``bottom``."""
    alpha = top[3] / 255
    mixed = [round(t * alpha + b * (1 - alpha)) for t, b in zip(top[:3], bottom[:3], strict=True)]
    return [*mixed, 255]


def test_the_formula_gives_the_published_figures():
    # Black on white is 21:1 and white on white 1:1 (WCAG 2.1, contrast ratio's range);
    # #767676 on white is the well-known lightest grey that passes AA (4.54:1).
    assert contrast([0, 0, 0], [255, 255, 255]) == pytest.approx(21.0)
    assert contrast([255, 255, 255], [255, 255, 255]) == pytest.approx(1.0)
    assert contrast([0x76, 0x76, 0x76], [255, 255, 255]) == pytest.approx(4.54, abs=0.01)


@pytest.fixture
def labelled(project, members):
    document = DocumentFactory(project=project, text=TEXT)
    aset = AnnotationSetFactory(document=document, annotator=members["annotator"])
    for name, (colour, _) in EXTRA.items():
        project.span_labels.create(name=name, colour=colour, position=50)
    phrases = {**PHRASES, **{name: phrase for name, (_, phrase) in EXTRA.items()}}
    for label, phrase in phrases.items():
        make_span(aset, label, phrase)
    return document


def _tab(page_for, user, scheme):
    tab = page_for(user, color_scheme=scheme, viewport={"width": 1200, "height": 900})
    problems = []
    # A Content-Security-Policy refusal is reported on the console.
    tab.on("console", lambda msg: problems.append(msg.text)
           if "Content Security Policy" in msg.text else None)
    return tab, problems


def _colour(tab, selector, prop, pseudo=None):
    css = tab.evaluate(
        "([s, p, pseudo]) => getComputedStyle(document.querySelector(s), pseudo)[p]",
        [selector, prop, pseudo],
    )
    return painted(tab, css)



@pytest.mark.parametrize(
    ("scheme", "switch"),
    [("light", "system"), ("dark", "system"), ("light", "dark"), ("dark", "light")],
    ids=["light", "dark", "dark-by-the-switch", "light-by-the-switch"],
)
def test_label_chips_underlines_and_body_text_keep_their_contrast(page_for, members, labelled,
                                                                 scheme, switch):
    project = labelled.project
    preset = set(load_schema("argument").label_names())
    theme = scheme if switch == "system" else switch
    tab, problems = _tab(page_for, members["annotator"], scheme)
    if switch != "system":
        tab.goto(reverse("project-detail", kwargs={"slug": project.slug}))
        tab.locator("select[data-theme-switch]").select_option(switch)
    tab.goto(annotate_url(labelled))
    expect(tab.locator("#annotate-root")).to_have_attribute("data-ready", "true")
    page_bg = _colour(tab, "html", "backgroundColor")
    # The theme is the one asked for: a dark page in the dark, a white one in the light.
    assert (luminance(page_bg) < 0.05) == (theme == "dark"), page_bg
    body_fg = _colour(tab, "body", "color")
    figures = {"body text": contrast(body_fg, page_bg)}
    text_fg = _colour(tab, "#doc-text", "color")
    figures["brief text"] = contrast(text_fg, page_bg)
    figures["muted text"] = contrast(_colour(tab, ".muted, .help", "color"), page_bg)
    figures["link"] = contrast(_colour(tab, "header .breadcrumbs a", "color"),
                               _colour(tab, "header", "backgroundColor"))
    marks = {}
    checked = set()
    for label in project.span_labels.all():
        chip = f"#doc-text .tag.c{label.pk}"
        ink = _colour(tab, chip, "color")
        ground = over(_colour(tab, chip, "backgroundColor"), page_bg)
        figures[f"{label.name} chip"] = contrast(ink, ground)
        # The brief's text over the span's tint of that colour.
        segment = f"#doc-text .g[data-k='{label.spans.get().pk}']"
        tint = over(_colour(tab, segment, "backgroundColor"), page_bg)
        figures[f"text on {label.name}"] = contrast(text_fg, tint)
        # The outline's chips (server-rendered, not linked yet) follow the same rule.
        outline_chip = f"#unlinked .chip.c{label.pk}"
        figures[f"{label.name} outline chip"] = contrast(
            _colour(tab, outline_chip, "color"),
            over(_colour(tab, outline_chip, "backgroundColor"), page_bg))
        # The underline stands out from the page under it and from the tint above it,
        # and the palette button's border from the page.
        underline = over(underline_colour(tab, segment), page_bg)
        marks[f"{label.name} underline"] = contrast(underline, page_bg)
        marks[f"{label.name} underline on its tint"] = contrast(underline, tint)
        button = f".palette .label-button[data-label='{label.pk}']"
        marks[f"{label.name} button border"] = contrast(
            over(_colour(tab, button, "borderTopColor"), page_bg), page_bg)
        checked.add(label.name)
    assert preset <= checked
    low = {name: round(ratio, 2) for name, ratio in figures.items() if ratio < AA}
    assert low == {}, f"under {AA}:1 in the {theme} theme: {low}"
    low = {name: round(ratio, 2) for name, ratio in marks.items() if ratio < NON_TEXT}
    assert low == {}, f"under {NON_TEXT}:1 in the {theme} theme: {low}"
    assert not problems, problems


def test_the_switch_keeps_a_choice_and_system_follows_the_system(page_for, live_server,
                                                                members, labelled):
    tab, problems = _tab(page_for, members["annotator"], "light")
    url = reverse("project-detail", kwargs={"slug": labelled.project.slug})
    tab.goto(url)
    switch = tab.locator("select[data-theme-switch]")
    expect(switch).to_be_visible()
    expect(switch).to_have_value("system")
    assert luminance(_colour(tab, "html", "backgroundColor")) > 0.9
    switch.select_option("dark")
    assert luminance(_colour(tab, "html", "backgroundColor")) < 0.05
    # Kept across pages, and applied before the first paint: the stylesheet's first
    # rules already see data-theme (theme.js runs in <head>, before <body> exists).
    tab.goto(annotate_url(labelled))
    assert tab.evaluate("document.documentElement.dataset.theme") == "dark"
    expect(tab.locator("select[data-theme-switch]")).to_have_value("dark")
    assert luminance(_colour(tab, "html", "backgroundColor")) < 0.05
    head_scripts = tab.evaluate(
        "[...document.head.querySelectorAll('script')].map(s => [s.src, s.defer, s.async,"
        " s.type])"
    )
    assert [s for s in head_scripts if s[0].endswith("/theme.js")] == [
        [f"{live_server.url}/static/annotator/theme.js", False, False, ""]
    ]
    tab.locator("select[data-theme-switch]").select_option("light")
    tab.reload()
    assert luminance(_colour(tab, "html", "backgroundColor")) > 0.9
    # System: follows prefers-color-scheme again.
    tab.locator("select[data-theme-switch]").select_option("system")
    tab.emulate_media(color_scheme="dark")
    tab.reload()
    assert tab.evaluate("document.documentElement.dataset.theme") is None
    assert luminance(_colour(tab, "html", "backgroundColor")) < 0.05
    assert not problems, problems
