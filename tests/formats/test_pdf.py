"""The PDF reader on real-shaped PDFs built here with fpdf2 (tests/formats/brief_files.py)."""

from __future__ import annotations

import itertools
import re

import pytest

from annotator.formats.pdf import read_pdf
from annotator.formats.readers import read_upload
from annotator.formats.records import FormatError
from tests.formats.brief_files import (
    BYLINE,
    RUNNING_FOOTER,
    RUNNING_HEADER,
    SERIES,
    TITLE,
    brief_article,
    damaged_pdf,
    encrypted_pdf,
    scanned_pdf,
    two_column_pdf,
)

# Three copies of the article fill several pages, so that headers repeat and
# paragraphs cross columns and pages.
SECTIONS = 3


def _expected_blocks(sections: int = SECTIONS) -> list[str]:
    return [SERIES, TITLE, BYLINE] + [text for _, text in brief_article(sections)]


def _text_blocks(text: str) -> list[str]:
    return [line for paragraph in text.split("\n\n") for line in paragraph.split("\n")]


@pytest.fixture(scope="module")
def layout():
    return two_column_pdf(brief_article(SECTIONS))


@pytest.fixture(scope="module")
def record(layout):
    return read_pdf(layout.data, name="brief-17.pdf")


def test_the_fixture_is_real_shaped(layout):
    # Several pages, and words broken across lines: otherwise the tests below prove little.
    assert layout.pages >= 3
    assert len(layout.hyphenated) >= 10


def test_every_paragraph_heading_and_list_item_comes_back_whole_and_in_order(record):
    assert _text_blocks(record.text) == _expected_blocks()


def test_every_sentence_of_the_article_is_present_in_order(record):
    position = 0
    for block in _expected_blocks():
        for sentence in re.split(r"(?<=[.!?])\s+", block):
            found = record.text.find(sentence, position)
            assert found >= 0, sentence
            position = found + len(sentence)


def test_words_hyphenated_across_lines_are_joined(layout, record):
    for word in layout.hyphenated:
        assert re.search(rf"\b{word}\b", record.text, re.IGNORECASE), word
    # Hyphens of compound words survive ("evidence-based", "road-widening").
    assert "An evidence-based charge" in record.text
    assert "road-widening scheme" in record.text
    assert not re.search(r"[a-z]- [a-z]", record.text)


def test_lists_and_headings_are_lines_of_their_own(record):
    assert "\n\n1. Pricing works where it has been tried" in record.text
    assert "cut traffic across its cordon by a fifth within a year and kept most of that " \
        "reduction.\n2. The revenue can fund" in record.text
    assert "\n\nThe problem (part 2)\n\n" in record.text
    assert "\u2022 Exempt blue-badge holders and registered carers from the first day.\n" \
        "\u2022 Publish monthly" in record.text


def test_running_headers_footers_and_page_numbers_are_removed_and_reported(layout, record):
    assert RUNNING_HEADER not in record.text
    assert RUNNING_FOOTER not in record.text
    assert not re.search(r"Page \d+ of \d+", record.text)
    report = record.cleaning
    # Page 1 carries no running header, every page a footer and a page number.
    assert report.reasons == {
        "running header": layout.pages - 1,
        "running footer": layout.pages,
        "page number": layout.pages,
    }
    assert report.removed_lines == 3 * layout.pages - 1
    assert f"Page 1 of {layout.pages}" in report.samples
    # Each removed line is placed where it stood: a page's footer before the next
    # page's text, the last page's after all of it.
    page_starts = {}
    for start, _, page in record.meta["page_map"]:
        page_starts.setdefault(page, start)
    page_starts[layout.pages + 1] = len(record.text)
    numbers = [(offset, line) for offset, reason, line in report.removed
               if reason == "page number"]
    assert numbers == [(page_starts[n + 1], f"Page {n} of {layout.pages}")
                       for n in range(1, layout.pages + 1)]


def test_without_cleaning_the_residue_stays_as_lines_of_its_own(layout):
    record = read_pdf(layout.data, name="brief-17.pdf", clean=False)
    assert record.cleaning is None
    lines = record.text.split("\n")
    assert lines.count(RUNNING_HEADER) == layout.pages - 1
    assert lines.count(RUNNING_FOOTER) == layout.pages
    assert f"Page {layout.pages} of {layout.pages}" in lines


def test_each_paragraph_keeps_its_page(layout, record):
    page_map = record.meta["page_map"]
    assert record.meta["pages"] == layout.pages
    # Runs cover the text in order, inside it, never overlapping.
    assert all(0 <= s < e <= len(record.text) for s, e, _ in page_map)
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(page_map))
    page_at = {start: page for start, _, page in page_map}
    starts = [0] + [m.end() for m in re.finditer(r"\n\n?", record.text)]
    assert [page_at[start] for start in starts] == layout.block_pages
    # A paragraph that goes on to the next page is split there: two runs, no line
    # end between them, the second on the next page.
    continued = [(a, b) for a, b in itertools.pairwise(page_map)
                 if a[1] == b[0] and b[2] == a[2] + 1]
    assert continued
    assert all("\n" not in record.text[a[0]:b[1]] for a, b in continued)


def test_the_title_is_the_largest_type_on_page_one_not_the_series_line(record):
    assert record.title == TITLE
    assert record.title_source == "the largest type on page 1"
    assert record.text.startswith(SERIES)  # kept in the text, just not the title


def test_a_pdf_whose_metadata_title_is_a_file_name_falls_back_to_the_text():
    layout = two_column_pdf(brief_article(1), title="")
    record = read_pdf(layout.data, name="untitled.pdf")
    # No headline in large type; the Title property "brief17_final.docx" is a file name;
    # the series line and the byline are passed over.
    assert record.title == brief_article(1)[0][1][:200].rstrip()
    assert "passed over" in record.title_source


@pytest.mark.parametrize("columns", [1, 3])
def test_one_and_three_columns_read_in_order(columns):
    layout = two_column_pdf(brief_article(2), columns=columns)
    record = read_pdf(layout.data, name=f"brief-{columns}.pdf")
    assert _text_blocks(record.text) == _expected_blocks(2)


def test_indented_paragraphs_without_space_between_them_are_told_apart():
    layout = two_column_pdf(brief_article(2), indent_paragraphs=True)
    record = read_pdf(layout.data, name="indented.pdf")
    assert _text_blocks(record.text) == _expected_blocks(2)


def test_page_numbers_alone_are_removed_even_on_a_one_page_brief():
    layout = two_column_pdf(brief_article(1)[:4], header=None, footer=None,
                            page_numbers="{page}")
    assert layout.pages == 1
    record = read_pdf(layout.data, name="short.pdf")
    assert record.cleaning.reasons == {"page number": 1}
    assert not record.text.endswith("1")


def test_a_scan_without_text_layer_is_refused_with_a_sentence():
    with pytest.raises(FormatError) as error:
        read_pdf(scanned_pdf(), name="scan.pdf")
    message = str(error.value)
    assert message.startswith("scan.pdf: this PDF has no text layer (it is probably a scan)")
    assert "\n" not in message


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (encrypted_pdf(), "this PDF is encrypted"),
        (damaged_pdf(), "this PDF is damaged and cannot be read"),
        (b"%PDF-1.7\nthis is not a PDF at all", "this PDF is damaged"),
        (b"", "this PDF is damaged"),
    ],
    ids=["encrypted", "damaged", "garbage", "empty"],
)
def test_encrypted_and_damaged_pdfs_get_one_line(data, reason):
    with pytest.raises(FormatError) as error:
        read_upload("bad.pdf", data)
    message = str(error.value)
    assert message.startswith(f"bad.pdf: {reason}")
    assert "\n" not in message and "Traceback" not in message


def test_a_pdf_in_a_zip_is_read_like_one_uploaded_alone(layout):
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("briefs/brief-17.pdf", layout.data)
    [record] = read_upload("briefs.zip", buffer.getvalue())
    assert record.source_format == "pdf"
    assert record.external_id == "brief-17"
    assert record.original == layout.data
    assert _text_blocks(record.text) == _expected_blocks()


def test_fpdf2s_own_justified_columns_with_small_margins_read_in_order():
    from tests.formats.brief_files import fpdf_columns_pdf

    blocks = brief_article(4)
    record = read_pdf(fpdf_columns_pdf(blocks), name="report.pdf")
    paragraphs = [text for kind, text in blocks if kind == "para"]
    assert _text_blocks(record.text) == [TITLE, *paragraphs]
    assert record.title == TITLE
    pages = record.meta["pages"]
    assert pages >= 2
    # Centred page numbers, and a header from page 2 on.
    assert record.cleaning.reasons == {"page number": pages, "running header": pages - 1}


def test_a_scanned_page_among_typeset_ones_is_named_in_meta():
    import io

    from fpdf import FPDF
    from PIL import Image

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(0, 6, " ".join(text for _, text in brief_article(1)[:3]))
    pdf.add_page()
    buffer = io.BytesIO()
    Image.new("L", (200, 280), 200).save(buffer, format="PNG")
    pdf.image(io.BytesIO(buffer.getvalue()), x=10, y=10, w=190)
    record = read_pdf(bytes(pdf.output()), name="mixed.pdf")
    assert record.meta["pages"] == 2
    assert record.meta["pages_without_text"] == [2]
    assert "pages_without_text" not in read_pdf(two_column_pdf().data, name="b.pdf").meta
