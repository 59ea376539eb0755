"""Paragraphs from positioned lines (annotator.text.layout), without any PDF."""

import pytest

from annotator.text.layout import Fragment, Page, join_hyphenated, lay_out, order_page, words

CHAR = 5.0  # every character 5 pt wide: 10 pt text in a monospaced world


def frag(text: str, x: float, baseline: float, size: float = 10.0, bold: bool = False):
    return Fragment(text, [x + CHAR * i for i in range(len(text))], x + CHAR * len(text),
                    baseline, size, bold)


def column(lines: list[str], x: float, top: float, leading: float = 13.0):
    return [frag(line, x, top + leading * i) for i, line in enumerate(lines)]


@pytest.mark.parametrize(
    ("first", "second", "vocabulary", "joined"),
    [
        ("the conges-", "tion charge", set(), "the congestion charge"),
        ("the conges\u00ad", "tion charge", set(), "the congestion charge"),
        ("an evidence-", "based policy", {"evidence-based"}, "an evidence-based policy"),
        ("a co-", "operation", {"cooperation"}, "a cooperation"),
        ("the pre-", "Brexit rules", set(), "the pre-Brexit rules"),
        ("COVID-", "19 cases", set(), "COVID-19 cases"),
        ("a well-", "Known case", {"wellknown"}, "a wellKnown case"),
        ("ends here -", "and goes on", set(), "ends here - and goes on"),
        ("plain", "words", set(), "plain words"),
    ],
)
def test_join_hyphenated(first, second, vocabulary, joined):
    assert join_hyphenated(first, second, vocabulary) == joined


def test_words_keep_inner_hyphens_and_apostrophes():
    assert words(["Evidence-based, Europe's 2024 plan"]) == {"evidence-based", "europe's", "plan"}


def test_a_headline_across_both_columns_is_read_first_then_each_column():
    headline = frag("A headline that spans both of the columns below it", 50, 80, size=20)
    left = column(["left one", "left two", "left three", "left four"], 50, 120)
    right = column(["right one", "right two", "right three", "right four"], 320, 120)
    page = Page(1, 595, 842, [*right, headline, *left])
    assert [line.text for line in order_page(page)] == [
        headline.text, "left one", "left two", "left three", "left four",
        "right one", "right two", "right three", "right four",
    ]


def test_a_figure_caption_across_the_columns_cuts_them_into_bands():
    def col(name, x, top):
        return column([f"column {name} line {i}" for i in range(4)], x, top)

    caption = frag("Figure 1: a caption set across the whole width of the page", 50, 200)
    fragments = [*col("b", 320, 120), *col("d", 320, 230), caption, *col("a", 50, 120),
                 *col("c", 50, 230)]
    texts = [line.text for line in order_page(Page(1, 595, 842, fragments))]
    assert texts == [
        *(f"column a line {i}" for i in range(4)), *(f"column b line {i}" for i in range(4)),
        caption.text,
        *(f"column c line {i}" for i in range(4)), *(f"column d line {i}" for i in range(4)),
    ]


def test_a_note_mark_raised_above_the_line_stays_in_it():
    line = frag("The charge works", 50, 100)
    mark = frag("1", 50 + CHAR * 16 + 1, 96, size=6)
    page = Page(1, 595, 842, [line, mark, frag("Next line here", 50, 113)])
    assert [ln.text for ln in order_page(page)] == ["The charge works 1", "Next line here"]


def _page(number, body, header=None, footer=None):
    fragments = column(body, 50, 120)
    if header:
        fragments.append(frag(header, 50, 40, size=8))
    if footer:
        fragments.append(frag(footer, 50, 810, size=8))
    return Page(number, 595, 842, fragments)


def test_running_headers_need_repetition_page_numbers_do_not():
    body = ["We argue that the charge works.", "It cut traffic by a fifth."]
    pages = [_page(n, body, header="Centre for Urban Futures", footer=str(n)) for n in (1, 2, 3)]
    laid = lay_out(pages)
    assert laid.text.count("We argue that the charge works.") == 3
    assert "Centre for Urban Futures" not in laid.text
    assert [reason for _, reason, _ in laid.removed].count("running header") == 3
    assert [reason for _, reason, _ in laid.removed].count("page number") == 3


def test_a_one_off_line_in_the_top_margin_of_page_one_is_kept():
    pages = [_page(1, ["Body text of the brief."], header="Masthead of the series")]
    assert lay_out(pages).text.startswith("Masthead of the series")


def test_paragraphs_are_split_by_gaps_and_by_lines_broken_early():
    fragments = [
        *column(["The first paragraph runs", "over two lines."], 50, 120),
        # A larger gap: a new paragraph.
        *column(["The second one starts", "after a gap"], 50, 160),
        # No gap, but "after a gap" left room for "Third": broken early.
        *column(["Third paragraph."], 50, 186),
    ]
    laid = lay_out([Page(1, 595, 842, fragments)])
    assert laid.text == (
        "The first paragraph runs over two lines.\n\n"
        "The second one starts after a gap\n\nThird paragraph."
    )
    assert laid.page_map == [[0, 40, 1], [42, 75, 1], [77, 93, 1]]
