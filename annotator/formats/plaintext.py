"""Readers for documents that arrive without annotations: .txt, .md and .html.

Each reader returns one :class:`DocumentRecord`: the bytes are decoded as UTF-8
(a byte order mark is dropped), Markdown and HTML are reduced to their block
text, line ends are normalised, and, when ``clean`` is true, web-page
boilerplate is removed (:mod:`annotator.text.cleaning`). ``original`` keeps the
upload byte for byte.

Block text: headings, paragraphs, list items (ordered items keep their number,
``"1. "``; bullets become ``"- "``), block quotes and preformatted blocks, each
on its own line, separated by one blank line; the items of one list are on
consecutive lines. Inline markup disappears and runs of spaces collapse inside
a block; ``<br>`` stays a line break.
"""

from __future__ import annotations

import markdown
import trafilatura
from lxml import etree
from lxml import html as lxml_html

from annotator.formats._common import (
    clip_title,
    decode_utf8,
    external_id_from_name,
)
from annotator.formats.records import DocumentRecord, FormatError
from annotator.text.cleaning import clean_boilerplate
from annotator.text.newlines import normalize_newlines
from annotator.text.titles import Candidate, pick_title, strip_site_name

__all__ = ["html_to_text", "markdown_to_text", "read_html", "read_markdown", "read_text"]


def read_text(data: bytes, *, name: str, clean: bool = True) -> DocumentRecord:
    """Read a plain-text brief.

    Parameters
    ----------
    data : bytes
        The file as uploaded.
    name : str
        File name (or ``archive.zip/member``), used for the id and in errors.
    clean : bool
        Remove web-page boilerplate.

    Returns
    -------
    DocumentRecord
        ``source_format`` ``"text"``; title = the first line that is not a date,
        byline or series line (:mod:`annotator.text.titles`).

    Raises
    ------
    FormatError
        If the bytes are not UTF-8 or no text is left.
    """
    text = decode_utf8(data, name=name)
    return _record(text, data=data, name=name, clean=clean, source_format="text")


def read_markdown(data: bytes, *, name: str, clean: bool = True) -> DocumentRecord:
    """Read a Markdown brief and keep its block text (see the module docstring).

    Parameters
    ----------
    data : bytes
        The file as uploaded.
    name : str
        File name, used for the id and in errors.
    clean : bool
        Remove web-page boilerplate.

    Returns
    -------
    DocumentRecord
        ``source_format`` ``"markdown"``; title = the first heading (a level-1
        heading before others), else as for plain text.

    Raises
    ------
    FormatError
        If the bytes are not UTF-8 or no text is left.
    """
    source, _ = normalize_newlines(decode_utf8(data, name=name))
    root = _markdown_root(source)
    text = _block_text(root) if root is not None else ""
    candidates = []
    if root is not None:
        headings = [element for element in root.iter("h1", "h2", "h3", "h4", "h5", "h6")]
        headings.sort(key=lambda element: element.tag != "h1")  # stable: level 1 first
        candidates = [
            Candidate(element.text_content(), f"the first heading ({element.tag})")
            for element in headings
        ]
    return _record(
        text, data=data, name=name, clean=clean, source_format="markdown", candidates=candidates
    )


def read_html(data: bytes, *, name: str, clean: bool = True) -> DocumentRecord:
    """Read an HTML page: its main text, found by trafilatura, with paragraph breaks.

    When trafilatura finds no main text (very short pages), the page's whole
    visible text is used instead.

    Parameters
    ----------
    data : bytes
        The file as uploaded.
    name : str
        File name, used for the id and in errors.
    clean : bool
        Remove web-page boilerplate left in the extracted text.

    Returns
    -------
    DocumentRecord
        ``source_format`` ``"html"``; title = the headline: an ``<h1>`` that
        agrees with ``og:title`` or ``<title>``, else ``og:title``, another
        ``<h1>``, ``<title>`` (without the site name), else as for plain text;
        never the site name, a series line, a date line or a byline.

    Raises
    ------
    FormatError
        If the bytes are not UTF-8, cannot be parsed, or no text is left.
    """
    source, _ = normalize_newlines(decode_utf8(data, name=name))
    text, _ = html_to_text(source, name=name)
    candidates, site_names = _html_title_candidates(source)
    return _record(
        text,
        data=data,
        name=name,
        clean=clean,
        source_format="html",
        candidates=candidates,
        site_names=site_names,
    )


def markdown_to_text(source: str) -> str:
    """Render Markdown and return its block text.

    Examples
    --------
    >>> print(markdown_to_text("# Act now\\n\\nWe *must*:\\n\\n1. cut\\n2. ban"))
    Act now
    <BLANKLINE>
    We must:
    <BLANKLINE>
    1. cut
    2. ban
    """
    root = _markdown_root(source)
    return _block_text(root) if root is not None else ""


def _markdown_root(source: str):
    """The rendered Markdown as one ``<div>`` element, or None when it renders empty."""
    # sane_lists keeps an ordered list's first number ("2. ..." after a
    # paragraph stays 2); fenced_code keeps ``` blocks verbatim.
    rendered = markdown.markdown(source, extensions=["sane_lists", "fenced_code"])
    if not rendered.strip():
        return None
    return lxml_html.fragment_fromstring(rendered, create_parent="div")


_HTML_PARSER = lxml_html.HTMLParser(encoding="utf-8")


def html_to_text(source: str, *, name: str = "") -> tuple[str, str]:
    """Return the main text of an HTML page and its ``<title>`` (or ``""``).

    Raises
    ------
    FormatError
        If the page cannot be parsed at all.
    """
    if not source.strip():
        return "", ""
    try:
        # Parse bytes with a fixed encoding: lxml refuses a str that carries an
        # XML encoding declaration, as XHTML pages do.
        page = lxml_html.document_fromstring(source.encode("utf-8"), parser=_HTML_PARSER)
    except (etree.ParserError, ValueError) as error:
        raise FormatError(f"cannot parse the HTML: {error}", file=name) from None
    title = clip_title(page.findtext(".//title") or "")

    extracted = trafilatura.extract(
        source,
        output_format="xml",
        include_comments=False,
        include_tables=False,
        # Briefs are short; recall keeps their headings and short paragraphs.
        favor_recall=True,
        with_metadata=False,
    )
    text = ""
    if extracted:
        main = etree.fromstring(extracted.encode("utf-8")).find("main")
        if main is not None:
            text = _block_text(main)
    if not text.strip():
        body = page.find("body")
        text = _block_text(body if body is not None else page)
    return text, title


def _html_title_candidates(source: str) -> tuple[list[Candidate], list[str]]:
    """Headline candidates of a page, best first, and the names the site gives itself."""
    if not source.strip():
        return [], []
    try:
        page = lxml_html.document_fromstring(source.encode("utf-8"), parser=_HTML_PARSER)
    except (etree.ParserError, ValueError):
        return [], []

    def meta(*keys: str) -> str:
        for key in keys:
            for attribute in ("property", "name"):
                found = page.xpath(f"//meta[@{attribute}=$key]/@content", key=key)
                if found and found[0].strip():
                    return found[0].strip()
        return ""

    site_names = [name for name in (meta("og:site_name"), meta("application-name")) if name]
    og_title = strip_site_name(meta("og:title", "twitter:title"), site_names)
    page_title = strip_site_name(page.findtext(".//title") or "", site_names)
    headings = [clip_title(h1.text_content()) for h1 in page.iter("h1")]
    headings = [h for h in headings if h]

    def agrees(heading: str) -> bool:
        folded = heading.casefold()
        return any(
            other and (folded in other.casefold() or other.casefold() in folded)
            for other in (og_title, page_title)
        )

    candidates = [Candidate(h, "the page's <h1>, as its og:title or <title> has it")
                  for h in headings if agrees(h)]
    if og_title:
        candidates.append(Candidate(og_title, "the page's og:title"))
    candidates += [Candidate(h, "the page's <h1>") for h in headings]
    if page_title:
        candidates.append(Candidate(page_title, "the page's <title>"))
    return candidates, site_names


def _record(
    text: str,
    *,
    data: bytes,
    name: str,
    clean: bool,
    source_format: str,
    candidates: list[Candidate] | None = None,
    site_names: list[str] | None = None,
) -> DocumentRecord:
    text, _ = normalize_newlines(text)
    report = None
    if clean:
        text, report = clean_boilerplate(text)
    if not text.strip():
        raise FormatError("the document has no text", file=name)
    title, source = pick_title(candidates or [], text=text, site_names=site_names or [])
    return DocumentRecord(
        external_id=external_id_from_name(name),
        text=text,
        title=title,
        title_source=source,
        original=data,
        original_name=name,
        source_format=source_format,
        cleaning=report,
    )


# --- HTML (and trafilatura XML) to block text --------------------------------

# Content that is never shown as text.
_SKIP = frozenset(
    {
        "script",
        "style",
        "noscript",
        "template",
        "head",
        "iframe",
        "svg",
        "hr",
        "comments",
        "graphic",
        "button",
        "select",
        "object",
        "canvas",
    }
)
# Blocks that end the running paragraph before and after them.
_BLOCKS = frozenset(
    {
        "p",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "div",
        "section",
        "article",
        "main",
        "header",
        "footer",
        "nav",
        "aside",
        "blockquote",
        "figure",
        "figcaption",
        "li",
        "dl",
        "dt",
        "dd",
        "table",
        "tr",
        "td",
        "th",
        "caption",
        "address",
        "body",
        "html",
        "form",
        "fieldset",
        "details",
        "summary",
        "center",
        "doc",
        "pre",
        "ul",
        "ol",
    }
)
# trafilatura's XML names the same things differently.
_TEI_ALIASES = {
    "head": "h2",
    "item": "li",
    "quote": "blockquote",
    "lb": "br",
    "row": "tr",
    "cell": "td",
}


# Marks a <br> among the text parts; NUL never survives HTML parsing as text.
_BREAK = "\x00"


class _Blocks:
    """Collects block texts; inline text accumulates until a block boundary."""

    def __init__(self) -> None:
        self.blocks: list[tuple[str, bool]] = []  # (text, is_list_item)
        self._parts: list[str] = []
        self._prefix = ""
        self._in_item = False

    def add(self, text: str | None) -> None:
        if text:
            self._parts.append(text)

    def start_item(self, prefix: str) -> None:
        self.end_item()
        self._prefix = prefix
        self._in_item = True

    def flush(self, *, raw: bool = False) -> None:
        joined = "".join(self._parts)
        self._parts = []
        if raw:
            text = joined.replace(_BREAK, "\n").strip("\n")
        else:
            # Source line breaks are spaces in HTML; only <br> breaks a line.
            lines = (" ".join(line.split()) for line in joined.split(_BREAK))
            text = "\n".join(line for line in lines if line)
        if text.strip():
            self.blocks.append((self._prefix + text, self._in_item))
            # The marker belongs to the first block of the item only.
            self._prefix = ""

    def end_item(self) -> None:
        self.flush()
        self._prefix = ""
        self._in_item = False

    def text(self) -> str:
        out: list[str] = []
        previous_item = False
        for text, is_item in self.blocks:
            if out:
                out.append("\n" if is_item and previous_item else "\n\n")
            out.append(text)
            previous_item = is_item
        return "".join(out)


def _tag(element) -> str | None:
    if not isinstance(element.tag, str):  # comments and processing instructions
        return None
    tag = element.tag.rsplit("}", 1)[-1].lower()
    if tag == "list":
        return "ol" if (element.get("rend") or "").startswith("ol") else "ul"
    return _TEI_ALIASES.get(tag, tag)


def _walk(element, blocks: _Blocks, depth: int) -> None:
    tag = _tag(element)
    if tag is None or tag in _SKIP:
        blocks.add(element.tail)
        return
    if tag == "br":
        blocks.add(_BREAK)
        blocks.add(element.tail)
        return
    if tag == "pre":
        blocks.flush()
        blocks.add(
            element.text_content()
            if hasattr(element, "text_content")
            else "".join(element.itertext())
        )
        blocks.flush(raw=True)
        blocks.add(element.tail)
        return
    if tag in ("ul", "ol"):
        blocks.flush()
        number = _list_start(element)
        for child in element:
            if _tag(child) == "li":
                marker = f"{number}. " if tag == "ol" else "- "
                number += 1
                blocks.start_item("   " * depth + marker)
                blocks.add(child.text)
                for grandchild in child:
                    _walk(grandchild, blocks, depth + 1)
                blocks.end_item()
            else:
                _walk(child, blocks, depth)
        blocks.end_item()
        blocks.add(element.tail)
        return
    is_block = tag in _BLOCKS
    if is_block:
        blocks.flush()
    blocks.add(element.text)
    for child in element:
        _walk(child, blocks, depth)
    if is_block:
        blocks.flush()
    blocks.add(element.tail)


def _list_start(element) -> int:
    try:
        return int(element.get("start") or 1)
    except ValueError:
        return 1


def _block_text(root) -> str:
    blocks = _Blocks()
    # The root's own tail belongs to its parent, which is not walked.
    tail, root.tail = root.tail, None
    _walk(root, blocks, 0)
    root.tail = tail
    blocks.flush()
    return blocks.text()
