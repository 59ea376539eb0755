import pytest

from annotator.formats.plaintext import markdown_to_text, read_html, read_markdown, read_text
from annotator.formats.records import FormatError

BRIEF = "Cap the price of Russian oil\n\nThe cap cuts revenue.\n\n1. It works.\n2. It is cheap.\n"


def test_text_keeps_bytes_title_id_and_format():
    data = BRIEF.encode()
    record = read_text(data, name="uploads/Oil Price Cap (draft).txt")
    assert record.text == BRIEF
    assert record.title == "Cap the price of Russian oil"
    assert record.external_id == "oil-price-cap-draft"
    assert record.original == data
    assert record.original_name == "uploads/Oil Price Cap (draft).txt"
    assert record.source_format == "text"
    assert record.annotations == []


def test_text_bom_is_dropped_and_crlf_normalised():
    data = b"\xef\xbb\xbfTitle\r\n\r\nBody line one.\rBody line two."
    record = read_text(data, name="a.txt")
    assert record.text == "Title\n\nBody line one.\nBody line two."
    assert record.original == data


def test_invalid_utf8_is_a_format_error_naming_the_file():
    with pytest.raises(FormatError) as caught:
        read_text(b"caf\xe9 au lait", name="latin1.txt")
    message = str(caught.value)
    assert message.startswith("latin1.txt: not valid UTF-8")
    assert "\n" not in message


def test_empty_text_is_a_format_error():
    with pytest.raises(FormatError, match=r"^blank\.txt: the document has no text$"):
        read_text(b" \r\n\n ", name="blank.txt")


def test_text_is_cleaned_by_default_and_not_when_asked():
    page = "loader\nHome\nAnalysis\nTeam\n\n" + BRIEF + "Home\nHome\n"
    cleaned = read_text(page.encode(), name="p.txt")
    assert cleaned.text == BRIEF.rstrip("\n")
    assert cleaned.cleaning.changed
    raw = read_text(page.encode(), name="p.txt", clean=False)
    assert raw.text == page
    assert raw.cleaning is None


def test_external_id_is_stable_and_never_empty():
    assert read_text(b"x", name="Brief 12.TXT").external_id == "brief-12"
    assert read_text(b"x", name="Brief 12.TXT").external_id == "brief-12"
    assert read_text(b"x", name="Überblick.txt").external_id == "überblick"
    assert read_text(b"x", name="!!!.txt").external_id == "document"


def test_title_is_cut_to_200_characters():
    record = read_text(("word " * 100).encode(), name="long.txt")
    assert len(record.title) <= 200
    assert record.title.startswith("word word")


def test_markdown_keeps_headings_paragraphs_numbers_and_quotes():
    source = (
        "# Cap the price\n\n"
        "The cap *cuts* revenue\nand keeps oil flowing.\n\n"
        "1. It works.\n2. It is cheap.\n\n"
        "Meanwhile:\n\n"
        "3. It is legal.\n\n"
        "> Sanctions bite, said an official.\n\n"
        "- bullet one\n- bullet two\n"
    )
    record = read_markdown(source.encode(), name="cap.md", clean=False)
    assert record.text == (
        "Cap the price\n\n"
        "The cap cuts revenue and keeps oil flowing.\n\n"
        "1. It works.\n2. It is cheap.\n\n"
        "Meanwhile:\n\n"
        "3. It is legal.\n\n"
        "Sanctions bite, said an official.\n\n"
        "- bullet one\n- bullet two"
    )
    assert record.title == "Cap the price"
    assert record.source_format == "markdown"


def test_markdown_code_block_is_verbatim_and_script_is_dropped():
    text = markdown_to_text("Intro.\n\n```\na  =  1\n  b\n```\n\n<script>alert(1)</script>\n")
    assert text == "Intro.\n\na  =  1\n  b"


def test_markdown_with_crlf_gives_lf_text():
    record = read_markdown(b"# T\r\n\r\nPara one.\r\n\r\nPara two.\r\n", name="t.md")
    assert record.text == "T\n\nPara one.\n\nPara two."


PAGE = """<!doctype html><html><head><title>Sanctions brief | Policy Review</title>
<script>var x = 1;</script></head><body>
<nav><ul><li><a href="/">Home</a></li><li>Analysis</li><li>Subscribe</li></ul></nav>
<article><h1>Why EU sanctions on Russia are working</h1>
<p>The EU's sanctions have cut Russia's revenue from oil exports by a third since 2022,
according to official statistics published this spring.</p>
<ol><li>Russia's economy is shrinking outside the war sector.</li>
<li>Import substitution has failed in high technology.</li></ol>
<p>A second paragraph explains the effect on the federal budget and on the rouble,
with more words so that the page reads like an article.</p>
</article><footer>Copyright 2024 Policy Review</footer></body></html>"""


def test_html_main_text_keeps_paragraph_breaks_and_numbering():
    record = read_html(PAGE.encode(), name="brief.html")
    # The headline, not the <title> "Sanctions brief | Policy Review" (issue 17).
    assert record.title == "Why EU sanctions on Russia are working"
    assert record.title_source == "the page's <h1>"
    assert record.source_format == "html"
    assert record.text.startswith("Why EU sanctions on Russia are working\n\nThe EU's sanctions")
    assert (
        "\n\n1. Russia's economy is shrinking outside the war sector.\n"
        "2. Import substitution has failed in high technology.\n\n" in record.text
    )
    assert "var x" not in record.text
    assert "Copyright" not in record.text


def test_html_falls_back_to_visible_text_when_extraction_finds_nothing():
    page = b"<html><body><div>One line<br>next line</div><script>x()</script></body></html>"
    record = read_html(page, name="tiny.htm", clean=False)
    assert "One line" in record.text
    assert "x()" not in record.text


def test_html_without_text_is_a_format_error():
    with pytest.raises(FormatError, match=r"^empty\.html: the document has no text$"):
        read_html(b"<html><head><title>T</title></head><body> </body></html>", name="empty.html")


def test_xhtml_with_xml_declaration_is_read():
    page = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<html xmlns="http://www.w3.org/1999/xhtml"><head><title>Brief</title></head>'
        "<body><p>Ça marche: the oil price cap cut Russian revenue by a third.</p></body></html>"
    )
    record = read_html(page.encode(), name="x.html")
    assert record.title == "Brief"
    assert record.text == "Ça marche: the oil price cap cut Russian revenue by a third."
