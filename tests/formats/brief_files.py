"""Real-shaped brief files, built in the tests: PDFs with fpdf2, .docx with python-docx.

The PDF is laid out here, line by line, the way a think tank's brief is: a
series line and a headline in large type across the page, a byline, then two
columns of 10 pt text with headings, bulleted and numbered lists, words
hyphenated across lines, a running header and footer and page numbers. The
layout keeps what it did (which words it hyphenated) so that tests can check
the reader against it. The same builders make the benchmark's 20-page PDF and
50-page .docx (benchmarks/import_briefs.py).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

SERIES = "Policy Brief No. 17 \u00b7 Centre for Urban Futures \u00b7 March 2024"
TITLE = "Northport Should Price Congestion Before the Harbour District Seizes Up"
BYLINE = "By Amira Castell and Jonas Whitfield"
RUNNING_HEADER = "Centre for Urban Futures \u00b7 Congestion pricing for Northport"
RUNNING_FOOTER = "centreforurbanfutures.example/briefs/17"

# (kind, text): kind is "heading", "para", "bullet" or "number".
ARTICLE: list[tuple[str, str]] = [
    ("para", "Northport should introduce a daily congestion charge for private cars entering "
             "the harbour district before the end of next year. The evidence from the city's "
             "own traffic counts is unambiguous, and the experience of comparable cities shows "
             "that the political risks are smaller than councillors fear."),
    ("heading", "The problem"),
    ("para", "Average speeds on the ring road fell to eleven kilometres an hour at rush hour "
             "last winter, down from nineteen five years earlier. Delivery firms report that "
             "a round trip through the district now takes forty minutes longer than it did. "
             "Buses are stuck in the same queues as private cars, so their timetables have "
             "become fiction and ridership is falling."),
    ("para", "Congestion is not only slow; it is expensive. The chamber of commerce estimates "
             "the cost of lost working hours at ninety million a year, and the environmental "
             "agency attributes a measurable share of the district's particulate pollution "
             "to idling engines."),
    ("heading", "Five reasons to act now"),
    ("number", "1. Pricing works where it has been tried: Stockholm cut traffic across its "
               "cordon by a fifth within a year and kept most of that reduction."),
    ("number", "2. The revenue can fund the buses that commuters would switch to."),
    ("number", "3. An evidence-based charge is easier to defend than another road-widening "
               "scheme that fills up again within months."),
    ("number", "4. The technology is mature, cheap and already used for the harbour tunnel."),
    ("number", "5. Waiting makes the eventual adjustment harder for every household."),
    ("heading", "Who pays, and who gains"),
    ("para", "Opponents argue that a charge falls hardest on low-income drivers. The city's "
             "travel survey contradicts this: fewer than one in ten of the lowest-earning "
             "households drive into the district on a weekday, while most of them depend on "
             "buses that congestion currently slows down. A well-designed scheme therefore "
             "redistributes from the better-off towards public transport users."),
    ("para", "Exemptions should nevertheless be generous for residents with disabilities and "
             "for essential care workers, and the first year should be accompanied by an "
             "independent evaluation published in full."),
    ("bullet", "\u2022 Exempt blue-badge holders and registered carers from the first day."),
    ("bullet", "\u2022 Publish monthly traffic, revenue and air-quality figures."),
    ("bullet", "\u2022 Ring-fence every euro of net revenue for buses and cycling."),
    ("heading", "Recommendations"),
    ("para", "The council should commission the detailed design this spring, consult on "
             "boundaries and exemptions over the summer, and start charging on the first "
             "working day of next year. An evidence-based evaluation after twelve months "
             "should decide whether the charge rises, falls or is extended to the northern "
             "industrial estate."),
]

# Word splits for hyphenation: the layout breaks a word only at these points.
_HYPHENATION = {
    "congestion": "conges-tion", "introduce": "intro-duce", "unambiguous": "unam-biguous",
    "experience": "experi-ence", "comparable": "compa-rable", "councillors": "council-lors",
    "kilometres": "kilo-metres", "timetables": "time-tables", "ridership": "rider-ship",
    "expensive": "expen-sive", "commerce": "com-merce", "environmental": "environ-mental",
    "attributes": "attri-butes", "measurable": "measur-able", "particulate": "particu-late",
    "pollution": "pollu-tion", "reduction": "reduc-tion", "commuters": "commu-ters",
    "technology": "tech-nology", "adjustment": "adjust-ment", "household": "house-hold",
    "households": "house-holds", "contradicts": "contra-dicts", "therefore": "there-fore",
    "redistributes": "redis-tributes", "transport": "trans-port", "nevertheless": "never-theless",
    "disabilities": "disabil-ities", "accompanied": "accom-panied", "independent": "inde-pendent",
    "evaluation": "evalua-tion", "commission": "commis-sion", "boundaries": "bound-aries",
    "exemptions": "exemp-tions", "industrial": "indus-trial", "opponents": "oppo-nents",
    "delivery": "deliv-ery", "currently": "cur-rently", "generous": "gener-ous",
    "published": "pub-lished", "essential": "essen-tial", "district": "dis-trict",
    "political": "politi-cal", "evidence": "evi-dence", "registered": "regis-tered",
}


def brief_article(sections: int = 1) -> list[tuple[str, str]]:
    """The article, or ``sections`` numbered copies of it (for long benchmark files)."""
    if sections == 1:
        return list(ARTICLE)
    blocks: list[tuple[str, str]] = []
    for number in range(1, sections + 1):
        for kind, text in ARTICLE:
            if kind == "heading":
                text = f"{text} (part {number})"
            elif kind == "para":
                text = f"In part {number}, {text[0].lower()}{text[1:]}"
            blocks.append((kind, text))
    return blocks


@dataclass
class PdfLayout:
    """What the PDF builder did: the file, its page count and the words it hyphenated."""

    data: bytes
    pages: int
    hyphenated: list[str] = field(default_factory=list)
    # The page each block starts on: series line, headline, byline, then the article's.
    block_pages: list[int] = field(default_factory=list)
    # Copies of the article laid out (brief_article(sections)).
    sections: int = 1


def _latin1(text: str) -> str:
    # The PDF core fonts hold Windows-1252; the article keeps to it.
    text.encode("cp1252")
    return text


def two_column_pdf(
    blocks: list[tuple[str, str]] | None = None,
    *,
    columns: int = 2,
    header: str | None = RUNNING_HEADER,
    footer: str | None = RUNNING_FOOTER,
    page_numbers: str | None = "Page {page} of {pages}",
    hyphenate: bool = True,
    title: str = TITLE,
    indent_paragraphs: bool = False,
) -> PdfLayout:
    """Lay out a brief: series line, headline and byline across the page, then columns.

    Lines are placed one by one with ``text()`` at computed baselines, as a
    typesetter's output is: nothing of the page structure is in the file.
    """
    from fpdf import FPDF

    blocks = brief_article() if blocks is None else blocks
    page_w, page_h, margin = 595.28, 841.89, 56.0
    gutter = 18.0
    col_w = (page_w - 2 * margin - gutter * (columns - 1)) / columns
    body, leading = 10.0, 13.0
    top, bottom = 86.0, page_h - 86.0

    pdf = FPDF(unit="pt", format="A4")
    pdf.core_fonts_encoding = "windows-1252"
    pdf.set_auto_page_break(False)
    pdf.set_title("brief17_final.docx")
    lines_out: list[list] = []  # per page: (font, size, x, baseline, text)
    hyphenated: list[str] = []

    page: list = []
    lines_out.append(page)
    y = top
    page.append(("B", 9.0, margin, y, _latin1(SERIES)))
    y += 30
    pdf.set_font("Helvetica", "B", 22)
    for line in _wrap(pdf, title, page_w - 2 * margin, hyphenate=False, hyphenated=[]):
        page.append(("B", 22.0, margin, y, _latin1(line)))
        y += 27
    y += 4
    page.append(("I", 10.0, margin, y, _latin1(BYLINE)))
    y += 30
    column = 0
    col_top = y
    block_pages = [1, 1, 1]

    def x_of(col: int) -> float:
        return margin + col * (col_w + gutter)

    def advance(step: float) -> None:
        nonlocal y, column, page
        y += step
        if y > bottom:
            column += 1
            if column == columns:
                page = []
                lines_out.append(page)
                column = 0
                y_new = top
            else:
                y_new = col_top if len(lines_out) == 1 else top
            y = y_new

    for kind, text in blocks:
        if kind == "heading":
            if y > bottom - 3 * leading:
                advance(bottom)  # keep a heading with its text
            elif y != top and y != col_top:
                advance(6)
            block_pages.append(len(lines_out))
            pdf.set_font("Helvetica", "B", 12)
            for line in _wrap(pdf, text, col_w, hyphenate=False, hyphenated=[]):
                page.append(("B", 12.0, x_of(column), y, _latin1(line)))
                advance(16)
            continue
        pdf.set_font("Helvetica", "", body)
        block_pages.append(len(lines_out))
        if kind in ("bullet", "number"):
            marker, rest = text.split(" ", 1)
            hang = 14.0
            wrapped = _wrap(pdf, rest, col_w - hang, hyphenate=hyphenate, hyphenated=hyphenated)
            for index, line in enumerate(wrapped):
                if index == 0:
                    page.append(("", body, x_of(column), y, _latin1(marker)))
                page.append(("", body, x_of(column) + hang, y, _latin1(line)))
                advance(leading)
            continue
        first_indent = 12.0 if indent_paragraphs else 0.0
        wrapped = _wrap(pdf, text, col_w, hyphenate=hyphenate, hyphenated=hyphenated,
                        first_indent=first_indent)
        for index, line in enumerate(wrapped):
            page.append(("", body, x_of(column) + (first_indent if index == 0 else 0), y,
                         _latin1(line)))
            advance(leading)
        if not indent_paragraphs:
            advance(6)

    total = len(lines_out)
    for number, placed in enumerate(lines_out, start=1):
        pdf.add_page()
        if header and number > 1:
            pdf.set_font("Helvetica", "I", 8)
            pdf.text(margin, 40, _latin1(header))
        for style, size, x, baseline, line in placed:
            pdf.set_font("Helvetica", style, size)
            pdf.text(x, baseline, line)
        if footer:
            pdf.set_font("Helvetica", "", 8)
            pdf.text(margin, page_h - 40, _latin1(footer))
        if page_numbers:
            label = page_numbers.format(page=number, pages=total)
            pdf.set_font("Helvetica", "", 8)
            pdf.text(page_w - margin - pdf.get_string_width(label), page_h - 40, label)
    return PdfLayout(data=bytes(pdf.output()), pages=total, hyphenated=hyphenated,
                     block_pages=block_pages)


def _wrap(pdf, text: str, width: float, *, hyphenate: bool, hyphenated: list[str],
          first_indent: float = 0.0) -> list[str]:
    """Greedy line breaking at the current font, hyphenating at ``_HYPHENATION`` points."""
    lines: list[str] = []
    line = ""
    available = width - first_indent
    for word in text.split():
        candidate = f"{line} {word}" if line else word
        if pdf.get_string_width(candidate) <= available:
            line = candidate
            continue
        bare = word.strip(".,;:()\u2019'")
        split = _HYPHENATION.get(bare.lower()) if hyphenate else None
        if split and line:
            head_len = split.index("-")
            head = word[: word.lower().index(bare.lower()) + head_len] + "-"
            if pdf.get_string_width(f"{line} {head}") <= available:
                lines.append(f"{line} {head}")
                hyphenated.append(bare)
                line = word[len(head) - 1 :]
                available = width
                continue
        lines.append(line)
        available = width
        line = word
    if line:
        lines.append(line)
    return lines


def scanned_pdf() -> bytes:
    """A two-page 'scan': pages that are images of text, with no text layer."""
    from fpdf import FPDF
    from PIL import Image, ImageDraw

    pdf = FPDF(unit="pt", format="A4")
    for page in range(2):
        image = Image.new("L", (400, 560), 255)
        draw = ImageDraw.Draw(image)
        for row in range(30):
            draw.text((20, 20 + 17 * row), f"Scanned line {row} of page {page + 1}", fill=0)
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        pdf.add_page()
        pdf.image(io.BytesIO(buffer.getvalue()), x=40, y=40, w=515)
    return bytes(pdf.output())


def encrypted_pdf() -> bytes:
    """A PDF that opens only with a password."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_encryption(owner_password="owner-secret", user_password="reader-secret")
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.text(20, 30, "A brief that nobody can read without the password.")
    return bytes(pdf.output())


def damaged_pdf() -> bytes:
    """The start of a real PDF, its objects cut off and the rest overwritten."""
    data = two_column_pdf().data
    return data[:300] + b"\x00garbage" * 40


# --------------------------------------------------------------------------- .docx

FOOTNOTES = [
    "Northport Traffic Office, Annual count 2023, table 4.",
    "Chamber of Commerce of Northport, The cost of congestion (2023).",
]
ENDNOTE = "All figures in euros at 2023 prices."
TABLE = [
    ["City", "Charge introduced", "Traffic change"],
    ["Stockholm", "2007", "-20%"],
    ["Gothenburg", "2013", "-12%"],
]


def brief_docx(
    blocks: list[tuple[str, str]] | None = None,
    *,
    footnotes: bool = True,
    table: bool = True,
    title_style: bool = True,
) -> bytes:
    """A .docx brief: a series line, a Title, a byline, headings, lists, a table and notes.

    Footnote and endnote references are real ``w:footnoteReference`` /
    ``w:endnoteReference`` runs with their notes in ``footnotes.xml`` and
    ``endnotes.xml``, as Word writes them (python-docx has no API for notes).
    """
    import docx

    blocks = brief_article() if blocks is None else blocks
    document = docx.Document()
    document.add_paragraph(SERIES)
    if title_style:
        document.add_paragraph(TITLE, style="Title")
    else:
        document.add_heading(TITLE, level=1)
    document.add_paragraph(BYLINE)
    notes_added = 0
    for kind, text in blocks:
        if kind == "heading":
            document.add_heading(text, level=2)
        elif kind == "bullet":
            document.add_paragraph(text.split(" ", 1)[1], style="List Bullet")
        elif kind == "number":
            document.add_paragraph(text.split(" ", 1)[1], style="List Number")
        else:
            paragraph = document.add_paragraph(text)
            if footnotes and notes_added < len(FOOTNOTES):
                _add_note_reference(paragraph, "footnote", notes_added + 1)
                notes_added += 1
    if table:
        grid = document.add_table(rows=len(TABLE), cols=len(TABLE[0]))
        for r, row in enumerate(TABLE):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
        document.add_paragraph("Sources are listed in the notes.")
    if footnotes:
        _add_note_reference(document.paragraphs[-1], "endnote", 1)
        _add_notes_part(document, "footnote", FOOTNOTES[:notes_added])
        _add_notes_part(document, "endnote", [ENDNOTE])
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _add_note_reference(paragraph, kind: str, number: int) -> None:
    from docx.oxml import parse_xml

    run = parse_xml(
        f'<w:r xmlns:w="{_W}"><w:rPr><w:vertAlign w:val="superscript"/></w:rPr>'
        f'<w:{kind}Reference w:id="{number}"/></w:r>'
    )
    paragraph._p.append(run)


def _add_notes_part(document, kind: str, notes: list[str]) -> None:
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from docx.opc.packuri import PackURI
    from docx.opc.part import Part

    separators = "".join(
        f'<w:{kind} w:type="{t}" w:id="{i}"><w:p><w:r><w:separator/></w:r></w:p></w:{kind}>'
        for i, t in ((-1, "separator"), (0, "continuationSeparator"))
    )
    bodies = "".join(
        f'<w:{kind} w:id="{number}"><w:p><w:r><w:{kind}Ref/></w:r>'
        f'<w:r><w:t xml:space="preserve"> {note}</w:t></w:r></w:p></w:{kind}>'
        for number, note in enumerate(notes, start=1)
    )
    xml = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<w:{kind}s xmlns:w="{_W}">{separators}{bodies}</w:{kind}s>'
    )
    content_type = (
        f"application/vnd.openxmlformats-officedocument.wordprocessingml.{kind}s+xml"
    )
    part = Part(PackURI(f"/word/{kind}s.xml"), content_type, xml.encode("utf-8"),
                document.part.package)
    document.part.relate_to(part, RT.FOOTNOTES if kind == "footnote" else RT.ENDNOTES)


def fpdf_columns_pdf(blocks: list[tuple[str, str]] | None = None) -> bytes:
    """The same article laid out by fpdf2 itself: ``text_columns`` with justified
    lines, the default 1 cm margins, and ``header()`` / ``footer()`` on every page,
    as an application that uses fpdf2 writes its reports."""
    from fpdf import FPDF

    class Brief(FPDF):
        def header(self):
            if self.page_no() > 1:
                self.set_font("Helvetica", "I", 8)
                self.cell(0, 8, RUNNING_HEADER, new_x="LMARGIN", new_y="NEXT")
                self.ln(6)

        def footer(self):
            self.set_y(-15)
            self.set_font("Helvetica", "", 8)
            self.cell(0, 10, f"{self.page_no()}", align="C")

    blocks = brief_article() if blocks is None else blocks
    pdf = Brief(format="A4")
    pdf.core_fonts_encoding = "windows-1252"
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 20)
    pdf.multi_cell(0, 10, TITLE, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", "", 10)
    with pdf.text_columns(ncols=2, gutter=6, text_align="J") as columns:
        for kind, text in blocks:
            if kind == "para":
                columns.write(text=text)
                columns.ln()
                columns.ln()
    return bytes(pdf.output())
