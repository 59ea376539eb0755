"""Title picking: the headline, never a site name, series line, date line or byline."""

import pytest

from annotator.formats.plaintext import read_html, read_markdown, read_text
from annotator.text.titles import Candidate, not_a_headline, pick_title, strip_site_name

HEADLINE = "The Taliban's offensive and Pakistan's western border"


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("Pakistan Reader# 171, 21 April 2021", "a series line"),
        ("Policy Brief No. 17 \u00b7 Centre for Urban Futures \u00b7 March 2024", "a series line"),
        ("Issue 12", "a series line"),
        ("Vol. 3, No. 2 | Spring 2023", "a series line"),
        ("21 April 2021", "a date line"),
        ("April 21, 2021", "a date line"),
        ("Published: Wednesday, 21 April 2021, 10:30", "a date line"),
        ("Updated 2021-04-21 \u00b7 5 min read", "a date line"),
        ("Policy Brief | March 2024", "a date line"),
        ("By Jane Doe", "a byline"),
        ("Written by Jane Doe and Ali Khan, Senior Fellows", "a byline"),
        ("Author: J. Doe", "a byline"),
    ],
)
def test_lines_that_are_not_headlines(line, reason):
    assert not_a_headline(line) == reason


@pytest.mark.parametrize(
    "line",
    [
        HEADLINE,
        "April 2021: why the sanctions bite harder than Moscow admits",
        "Why Issue 12 of the treaty matters for the farmers of southern Europe",
        "Bystanders of the war: Europe's neutral states",
        "Five reasons to price congestion",
    ],
)
def test_headlines_are_kept(line):
    assert not_a_headline(line) is None


def test_the_site_name_is_never_the_title():
    assert not_a_headline("Institute of Strategic Studies", site_names=[
        "Institute of Strategic Studies"]) == "the site name"
    title, source = pick_title(
        [Candidate("Institute of Strategic Studies", "the page's <h1>"),
         Candidate(HEADLINE, "the page's og:title")],
        text="x", site_names=["Institute of Strategic Studies"])
    assert title == HEADLINE
    assert source == ('the page\'s og:title (passed over: "Institute of Strategic Studies", '
                      "the site name)")


def test_strip_site_name():
    assert strip_site_name(f"{HEADLINE} | ISSI", ["ISSI"]) == HEADLINE
    assert strip_site_name(f"ISSI \u2013 {HEADLINE}") == HEADLINE
    # Two long parts and no known site name: nothing is guessed.
    long_title = "Sanctions are working for now - but Europe must prepare for what comes next"
    assert strip_site_name(long_title) == long_title


def test_plain_text_title_skips_series_date_and_byline():
    text = ("Pakistan Reader# 171, 21 April 2021\n\nBy Ali Khan\n\n" + HEADLINE +
            "\n\nThe offensive began in May.")
    record = read_text(text.encode(), name="r.txt", clean=False)
    assert record.title == HEADLINE
    assert record.title_source.startswith(
        "the first line that is not a date, byline or series line (passed over: "
        '"Pakistan Reader# 171, 21 April 2021", a series line; "By Ali Khan", a byline)')


def test_markdown_title_is_the_first_heading_level_one_first():
    source = "Pakistan Reader# 171\n\n## Summary\n\n# " + HEADLINE + "\n\nText."
    record = read_markdown(source.encode(), name="r.md")
    assert record.title == HEADLINE
    assert record.title_source == "the first heading (h1)"


# A scraped think-tank page shaped like the seed brief's: the site name in an <h1>
# logo, the series line and date above the headline, a byline, a <title> that is
# the series line, and hundreds of menu lines.
SCRAPED = """<!doctype html><html><head>
<title>Pakistan Reader# 171, 21 April 2021 | Institute of Strategic Studies</title>
<meta property="og:site_name" content="Institute of Strategic Studies">
<meta property="og:title" content="{headline} | Institute of Strategic Studies">
</head><body>
<header><h1>Institute of Strategic Studies</h1>
<nav><ul>{menu}</ul></nav></header>
<main><article>
<p class="series">Pakistan Reader# 171, 21 April 2021</p>
<h1>{headline}</h1>
<p class="byline">By Ali Khan</p>
<p>The offensive that began in May has changed the calculations of every neighbour.
Islamabad now faces a choice it had hoped to postpone for another year.</p>
<p>Three developments stand out, and each of them cuts against the official line.</p>
</article></main>
<footer><ul>{menu}</ul></footer></body></html>"""


def test_scraped_page_title_is_the_headline_not_the_series_line_or_site_name():
    menu = "".join(f"<li><a href='/s{i}'>PR Short Notes</a></li><li>Home</li>" for i in range(60))
    page = SCRAPED.format(headline=HEADLINE, menu=menu)
    record = read_html(page.encode(), name="pr-171.html")
    assert record.title == HEADLINE
    assert record.title_source == "the page's <h1>, as its og:title or <title> has it"
    assert "Islamabad now faces a choice it had hoped to postpone" in record.text
    assert "PR Short Notes" not in record.text


def test_page_without_h1_takes_og_title_without_the_site_name():
    page = SCRAPED.replace("<h1>{headline}</h1>", "<h2>{headline}</h2>").format(
        headline=HEADLINE, menu="")
    page = page.replace("<h1>Institute of Strategic Studies</h1>", "")
    record = read_html(page.encode(), name="pr-171.html")
    assert record.title == HEADLINE
    assert record.title_source == "the page's og:title"
