"""The .docx reader on Word files built here with python-docx (tests/formats/brief_files.py)."""

from __future__ import annotations

import io
import re
import zipfile

import pytest

from annotator.formats.readers import read_upload
from annotator.formats.records import FormatError
from annotator.formats.word import read_docx
from tests.formats.brief_files import (
    BYLINE,
    ENDNOTE,
    FOOTNOTES,
    SERIES,
    TABLE,
    TITLE,
    brief_article,
    brief_docx,
)


@pytest.fixture(scope="module")
def record():
    return read_docx(brief_docx(), name="brief-17.docx")


def _blocks(text: str) -> list[str]:
    return text.split("\n\n")


def test_paragraphs_and_headings_come_back_in_order(record):
    blocks = _blocks(record.text)
    assert blocks[:3] == [SERIES, TITLE, BYLINE]
    headings = [text for kind, text in brief_article() if kind == "heading"]
    assert [b for b in blocks if b in headings] == headings
    # Every sentence of the article, in order (note marks may follow a paragraph).
    position = 0
    for _, text in brief_article():
        for sentence in re.split(r"(?<=[.!?])\s+", text.split(" ", 1)[1] if
                                 text[0] in "0123456789\u2022" else text):
            found = record.text.find(sentence, position)
            assert found >= 0, sentence
            position = found + len(sentence)


def test_list_items_keep_their_markers_one_per_line(record):
    assert (
        "\n\n1. Pricing works where it has been tried: Stockholm cut traffic across its cordon "
        "by a fifth within a year and kept most of that reduction.\n"
        "2. The revenue can fund the buses that commuters would switch to.\n" in record.text
    )
    assert "\n5. Waiting makes the eventual adjustment harder for every household.\n\n" \
        in record.text
    assert "\n\n- Exempt blue-badge holders and registered carers from the first day.\n" \
        "- Publish monthly traffic, revenue and air-quality figures.\n" in record.text


def test_a_table_is_one_line_per_row(record):
    rows = "\n".join(" | ".join(row) for row in TABLE)
    assert f"\n\n{rows}\n\n" in record.text


def test_footnotes_and_endnotes_are_marked_and_gathered_at_the_end(record):
    assert "smaller than councillors fear.[1]\n\n" in record.text
    assert "ridership is falling.[2]\n\n" in record.text
    assert "Sources are listed in the notes.[i]" in record.text
    assert record.text.endswith(
        f"Footnotes\n\n[1] {FOOTNOTES[0]}\n[2] {FOOTNOTES[1]}\n\nEndnotes\n\n[i] {ENDNOTE}"
    )


def test_the_title_is_the_title_style_not_the_series_line(record):
    assert record.title == TITLE
    assert record.title_source == "the Title style"
    assert record.source_format == "docx"
    assert record.meta == {}


def test_without_a_title_style_the_first_heading_1_is_the_title():
    record = read_docx(brief_docx(title_style=False, footnotes=False), name="b.docx")
    assert record.title == TITLE
    assert record.title_source == "the first Heading 1"


def test_without_notes_or_table_nothing_is_added():
    record = read_docx(brief_docx(footnotes=False, table=False), name="b.docx")
    assert "Footnotes" not in record.text and "[1]" not in record.text
    assert " | " not in record.text


def test_numbering_restarts_and_nests_as_word_shows_it():
    import docx

    document = docx.Document()
    document.add_paragraph("Steps", style="Heading 1")
    for text in ["first", "second"]:
        document.add_paragraph(text, style="List Number")
    document.add_paragraph("nested", style="List Number 2")
    document.add_paragraph("third", style="List Number")
    buffer = io.BytesIO()
    document.save(buffer)
    record = read_docx(buffer.getvalue(), name="steps.docx")
    # In Word's default template "List Number 2" is a list of its own (indented by its
    # style, not by a list level): it counts from 1, and "List Number" goes on at 3.
    assert record.text == "Steps\n\n1. first\n2. second\n1. nested\n3. third"


def test_deleted_text_and_field_codes_are_left_out():
    import docx
    from docx.oxml import parse_xml

    document = docx.Document()
    paragraph = document.add_paragraph("Kept ")
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    paragraph._p.append(parse_xml(
        f'<w:del xmlns:w="{w}" w:id="1" w:author="a"><w:r><w:delText>gone </w:delText></w:r>'
        f'</w:del>'))
    paragraph._p.append(parse_xml(
        f'<w:ins xmlns:w="{w}" w:id="2" w:author="a"><w:r><w:t>added</w:t></w:r></w:ins>'))
    paragraph._p.append(parse_xml(
        f'<w:r xmlns:w="{w}"><w:instrText> PAGE </w:instrText></w:r>'))
    buffer = io.BytesIO()
    document.save(buffer)
    assert read_docx(buffer.getvalue(), name="t.docx").text == "Kept added"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"PK\x03\x04 not really a zip", "cannot be read as a Word .docx file"),
        (b"\xd0\xcf\x11\xe0 an old .doc or a password-protected file",
         "cannot be read as a Word .docx file"),
        (b"", "cannot be read as a Word .docx file"),
    ],
    ids=["broken-zip", "ole", "empty"],
)
def test_a_damaged_docx_gets_one_line(data, reason):
    with pytest.raises(FormatError) as error:
        read_upload("bad.docx", data)
    assert str(error.value).startswith(f"bad.docx: {reason}")
    assert "\n" not in str(error.value)


def test_a_zip_that_is_not_a_word_package_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "not a document")
    with pytest.raises(FormatError, match=r"^x\.docx: cannot be read as a Word \.docx file"):
        read_docx(buffer.getvalue(), name="x.docx")


def test_a_docx_holding_a_zip_bomb_is_refused_before_it_is_opened():
    from annotator.formats.readers import RATIO_CHECK_MIN_BYTES

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/media/image1.bin", b"\0" * (RATIO_CHECK_MIN_BYTES * 4))
    with pytest.raises(FormatError, match=r"possible zip bomb"):
        read_docx(buffer.getvalue(), name="bomb.docx")
