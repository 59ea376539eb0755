"""Read a PDF brief: its text layer, in reading order, with paragraphs and pages.

PDFium (through pypdfium2) gives every character of a page with its box, its
font size and its font; :mod:`annotator.text.layout` turns those into columns,
paragraphs, headings and list items, removes running headers, footers and page
numbers (when ``clean``), and keeps the page of every paragraph. The record's
``meta`` holds ``"pages"`` (the page count) and ``"page_map"``: ``[start, end,
page]`` runs of the text, one per paragraph, split where a paragraph goes on to
the next page; and ``"pages_without_text"`` when some pages have no text layer
(a scanned page among typeset ones: its text is not in the document).

Why PDFium: it is fast (C++, ~100x pdfminer.six, on which pdfplumber is
built), well kept (the PDF engine of Chromium), permissively licensed (PDFium
BSD-3-Clause, pypdfium2 Apache-2.0 or BSD-3-Clause) and ships as a wheel with
no system library. Neither library's own text order reads two-column pages
right (PDFium joins the lines of both columns that share a baseline;
pdfplumber sorts lines across the whole page), so reading order is ours, from
the character boxes, in :mod:`annotator.text.layout`, for either.

A PDF without a text layer (a scan), an encrypted PDF and a damaged one are
refused with one sentence. PDFium is not thread-safe, so one lock serialises
its use within a process. pypdfium2 is imported inside the reader: web
processes load it only when someone uploads a PDF.
"""

from __future__ import annotations

import ctypes
import re
import threading

from annotator.formats._common import external_id_from_name
from annotator.formats.records import CleaningReport, DocumentRecord, FormatError
from annotator.text.layout import Fragment, Laid, Page, lay_out
from annotator.text.titles import Candidate, pick_title

__all__ = ["MAX_PDF_PAGES", "read_pdf"]

# A brief is 2-40 pages; a 2,000-page PDF is a book or a report series, and its
# text would not be annotated as one document.
MAX_PDF_PAGES = 2000
# A page with fewer characters than this carries no real text layer (a scan
# with a stray OCR'd page number, a blank page).
_MIN_TEXT_CHARS = 20
# Fragments split where two characters on one baseline are more than an em
# apart: column gutters are wider, word spaces in justified text narrower.
_SPLIT_EMS = 1.0
# A loose character box spans the font's ascent and descent: about 1.2 em, the
# descent about 0.2 em below the baseline (Helvetica: 0.718 + 0.207; Times:
# 0.683 + 0.217; Adobe's AFM files).
_LOOSE_BOX_EMS = 1.2
_DESCENT_EMS = 0.2

_LOCK = threading.Lock()
# Latin ligatures of Unicode's Alphabetic Presentation Forms, as their letters.
_LIGATURES = str.maketrans(
    {"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl",
     "\ufb05": "st", "\ufb06": "st"}
)
# Words and line ends of a page's text. PDFium marks a hyphen that ends a line
# with U+0002 (U+FFFE in its text) and puts no line end after it: the mark ends
# a word, and the next line's word starts a word of its own.
_TOKENS = re.compile(r"[\r\n]+|[^\s\x00\x02\ufffe]+[\x02\ufffe]?|[\x02\ufffe]")
_BOLD_NAME = re.compile(r"bold|black|heavy|semibold|demi", re.IGNORECASE)
# PDF font descriptor flag ForceBold (PDF 32000-1:2008, table 123, bit 19).
_FORCE_BOLD = 1 << 18
_FPDF_ERR_PASSWORD = 4
_FPDF_ERR_SECURITY = 6


def read_pdf(data: bytes, *, name: str, clean: bool = True) -> DocumentRecord:
    """Read a PDF brief's text layer.

    Parameters
    ----------
    data : bytes
        The file as uploaded.
    name : str
        File name (or ``archive.zip/member``), used for the id and in errors.
    clean : bool
        Remove running headers, running footers and page numbers.

    Returns
    -------
    DocumentRecord
        ``source_format`` ``"pdf"``; title = the largest type on page 1 that is
        not a series line, date or byline; ``meta`` has ``pages`` and ``page_map``.

    Raises
    ------
    FormatError
        If the PDF is encrypted, damaged, has no text layer, or too many pages.
    """
    pages, info_title = _read_pages(data, name=name)
    if sum(len(f.text) for page in pages for f in page.fragments) < _MIN_TEXT_CHARS:
        raise FormatError(
            "this PDF has no text layer (it is probably a scan); run it through OCR, "
            "or export the text from the program that made it, and upload that",
            file=name,
        )
    laid = lay_out(pages, clean=clean)
    if not laid.text.strip():
        raise FormatError("the document has no text", file=name)
    report = _report(laid) if clean else None
    title, source = pick_title(_title_candidates(laid, info_title), text=laid.text)
    return DocumentRecord(
        external_id=external_id_from_name(name),
        text=laid.text,
        title=title,
        title_source=source,
        meta=_meta(pages, laid),
        original=data,
        original_name=name,
        source_format="pdf",
        cleaning=report,
    )


def _meta(pages: list[Page], laid: Laid) -> dict:
    """``pages``, ``page_map``, and ``pages_without_text`` when some pages are images
    only (scanned pages in a PDF that has text elsewhere, or blank pages)."""
    meta: dict = {"pages": len(pages), "page_map": laid.page_map}
    empty = [page.number for page in pages
             if sum(len(f.text) for f in page.fragments) < _MIN_TEXT_CHARS]
    if empty:
        meta["pages_without_text"] = empty
    return meta


def _title_candidates(laid: Laid, info_title: str) -> list[Candidate]:
    """Headings above page 1's first paragraph, largest type first, then the document
    information's Title."""
    ranked = sorted(laid.lead, key=lambda heading: -heading[1])
    candidates = [
        Candidate(text, "the largest type on page 1" if size == ranked[0][1] else
                  "a heading at the top of page 1")
        for text, size in ranked
        if size > laid.body_size
    ]
    if info_title:
        candidates.append(Candidate(info_title, "the PDF's document information (Title)"))
    return candidates


def _report(laid: Laid) -> CleaningReport:
    report = CleaningReport()
    for _, reason, line in laid.removed:
        report.removed_lines += 1
        report.removed_chars += len(line)
        report.reasons[reason] = report.reasons.get(reason, 0) + 1
        report.note_sample(line)
    report.removed = [list(entry) for entry in laid.removed]
    return report


def _read_pages(data: bytes, *, name: str) -> tuple[list[Page], str]:
    import pypdfium2 as pdfium

    with _LOCK:
        try:
            document = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as error:
            if error.err_code in (_FPDF_ERR_PASSWORD, _FPDF_ERR_SECURITY):
                raise FormatError(
                    "this PDF is encrypted (it needs a password to open); save a copy "
                    "without the password and upload that",
                    file=name,
                ) from None
            raise FormatError(
                "this PDF is damaged and cannot be read; open it and save it again, "
                "or export it anew",
                file=name,
            ) from None
        try:
            count = len(document)
            if count == 0:
                raise FormatError("this PDF has no pages", file=name)
            if count > MAX_PDF_PAGES:
                raise FormatError(
                    f"this PDF has {count:,} pages; at most {MAX_PDF_PAGES:,} are read",
                    file=name,
                )
            pages = [_read_page(document, index) for index in range(count)]
            info_title = _info_title(document)
        except pdfium.PdfiumError:
            raise FormatError(
                "this PDF is damaged and cannot be read; open it and save it again, "
                "or export it anew",
                file=name,
            ) from None
        finally:
            document.close()
    return pages, info_title


def _info_title(document) -> str:
    try:
        title = (document.get_metadata_dict().get("Title") or "").strip()
    except Exception:
        return ""
    # "Microsoft Word - brief17_final.docx" is a file name, not a title.
    if re.search(r"\.(docx?|pdf|indd|odt|rtf|tex|pages)\s*$", title, re.IGNORECASE):
        return ""
    return title


def _read_page(document, index: int) -> Page:
    """One page's fragments: runs of characters on one baseline, split at wide gaps."""
    import pypdfium2.raw as raw

    page = document[index]
    try:
        # The visible page (its crop box), inherited from the page tree where need be.
        left, bottom, right, top = page.get_bbox()
        textpage = page.get_textpage()
        try:
            fragments = _fragments(raw, textpage, top)
        finally:
            textpage.close()
    finally:
        page.close()
    return Page(number=index + 1, width=right - left, height=top - bottom, fragments=fragments)


def _fragments(raw, textpage, page_top: float) -> list[Fragment]:
    """Runs of words on one baseline, split at gaps wider than ``_SPLIT_EMS``.

    PDFium puts a space (its own where the file has none) between words and a
    line end between lines, so the page's text is cut into words first; each
    word costs two calls, the loose boxes of its first and last characters (a
    loose box spans the font's ascent and descent, the same for every character
    of a run), and the font size and weight are asked for three words of each
    run only: calls through ctypes cost more than everything else in reading a
    PDF. The left edges of a word's inner characters are spread evenly over it.
    """
    count = textpage.count_chars()
    text = textpage.get_text_range()
    if len(text) != count:  # characters outside the BMP: PDFium's UTF-16 is longer
        text = "".join(chr(raw.FPDFText_GetUnicode(textpage, i)) for i in range(count))
    rect = raw.FS_RECTF()
    rect_ref = ctypes.byref(rect)
    get_box = raw.FPDFText_GetLooseCharBox
    name_buffer = ctypes.create_string_buffer(128)
    flags = ctypes.c_int()
    fragments: list[Fragment] = []
    # The current run's words: (text, left, right, index of its first character).
    words: list[tuple[str, float, float, int]] = []
    bottom_line = em_of_run = 0.0

    def close() -> None:
        if not words:
            return
        samples = sorted({words[0][3], words[len(words) // 2][3], words[-1][3]})
        sizes = [raw.FPDFText_GetFontSize(textpage, i) for i in samples]
        size = max(set(sizes), key=sizes.count)
        if size < 1.0:  # fonts scaled by the text matrix report 1 in some files
            size = max(em_of_run, 1.0)
        bolds = [_is_bold(raw, textpage, i, name_buffer, flags) for i in samples]
        xs: list[float] = []
        for number, (word, left, right, _) in enumerate(words):
            if number:
                xs.append(words[number - 1][2])  # the space before the word
            step = (right - left) / len(word)
            xs.extend(left + step * k for k in range(len(word)))
        fragments.append(
            Fragment(
                text=" ".join(word for word, _, _, _ in words),
                xs=xs,
                x1=words[-1][2],
                baseline=page_top - bottom_line - _DESCENT_EMS * size,
                size=size,
                bold=bolds.count(True) * 2 > len(bolds),
            )
        )
        words.clear()

    for match in _TOKENS.finditer(text):
        token = match.group()
        if token[0] in "\r\n":  # PDFium puts a line end between lines
            close()
            continue
        first, last = match.start(), match.end() - 1
        get_box(textpage, first, rect_ref)
        left, bottom = rect.left, rect.bottom
        em = max((rect.top - bottom) / _LOOSE_BOX_EMS, 1.0)
        right = rect.right
        if last > first:
            get_box(textpage, last, rect_ref)
            right = max(rect.right, left)
        if words:
            gap = left - words[-1][2]
            if abs(bottom - bottom_line) > 0.2 * em or gap > _SPLIT_EMS * em or gap < -em:
                close()
        if not words:
            bottom_line, em_of_run = bottom, em
        words.append((_clean_word(token), left, right, first))
    close()
    return fragments


def _clean_word(token: str) -> str:
    """A word as PDFium gives it, as a reader reads it.

    PDFium marks a hyphen that ends a line with U+0002 (U+FFFE in its text): a
    hyphen. Typographic ligatures (U+FB00-FB06, "\ufb01" for "fi") are their
    letters, so that "\ufb01nance" is found when searching "finance"; a soft
    hyphen inside a word is invisible and goes.

    Examples
    --------
    >>> _clean_word("conges\ufffe"), _clean_word("\ufb01nance"), _clean_word("pol\xadicy")
    ('conges-', 'finance', 'policy')
    """
    token = token.replace("\x02", "-").replace("\ufffe", "-")
    if "\xad" in token[:-1]:
        token = token[:-1].replace("\xad", "") + token[-1]
    return token.translate(_LIGATURES)


def _is_bold(raw, textpage, index: int, name_buffer, flags) -> bool:
    raw.FPDFText_GetFontInfo(textpage, index, name_buffer, len(name_buffer), ctypes.byref(flags))
    return bool(
        _BOLD_NAME.search(name_buffer.value.decode("latin-1"))
        or flags.value & _FORCE_BOLD
        or raw.FPDFText_GetFontWeight(textpage, index) >= 600
    )
