"""Rebuild a brief's paragraphs from the positioned text of its pages (PDF).

A PDF holds no paragraphs, only runs of characters placed on pages. The PDF
reader (:mod:`annotator.formats.pdf`) turns each page into :class:`Fragment`
objects, runs of characters on one baseline, and this module, which knows
nothing of PDF, turns the pages into text:

1. **Reading order** (:func:`order_page`). A page is cut into columns at its
   *gutters*: vertical strips with lines of text on both sides that few
   fragments cross (a headline or a series line across both columns may). A
   fragment that crosses a gutter spans the columns; it cuts the page into
   bands, and each band is read column by column, top to bottom (the X-Y cut
   of Nagy & Seth 1984, one level deep). Within a column, fragments that share
   a line (a bold lead-in, a superscript note mark) are merged left to right.
2. **Residue** (:func:`find_residue`). Lines in the top or bottom
   ``MARGIN_BAND`` of a page, set ``FURNITURE_GAP_EMS`` apart from the text, are
   page furniture, read before and after the columns. They are running headers
   and footers when the same text, digits aside, sits there on at least
   ``RUNNING_MIN_PAGES`` pages (and at least ``RUNNING_MIN_SHARE`` of them), or,
   in a document of a few pages, when they stand ``DETACHED_EMS`` apart from the
   text (a header only from page 2 on: page 1's top may be a masthead); a line
   there that is only a page number ("7", "Page 7 of 20", "- 7 -", "vii") is a
   page number on any page.
3. **Paragraphs** (:func:`lay_out`). Lines are joined into paragraphs. A new
   block starts at a heading (type at least ``HEADING_MIN_RATIO`` times the body
   size, or a short bold line), at a list item (a bullet or a number), after a
   vertical gap larger than ``PARAGRAPH_GAP_RATIO`` times the usual line spacing,
   at an indented first line, and when the first word of a line would have fit at
   the end of the line before: a typesetter only breaks a line early at the end
   of a paragraph. That last rule also decides whether a paragraph goes on in the
   next column or on the next page. A word hyphenated across two lines is joined
   (:func:`join_hyphenated`).

Removed residue is reported line by line with the offset, in the kept text,
where it stood, so that a person can check the cleaning beside the text. Without
cleaning, residue lines stay where they are, each a paragraph of its own.

Known limits: rotated text and rotated pages are read as if upright; a table is
read row by row only when its cells share baselines; a paragraph that ends
exactly at the foot of a column with a full line is joined to the next one.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = [
    "DETACHED_EMS",
    "FURNITURE_GAP_EMS",
    "HEADING_MIN_RATIO",
    "LEAD_PARAGRAPH_WORDS",
    "MARGIN_BAND",
    "PARAGRAPH_GAP_RATIO",
    "RUNNING_MIN_PAGES",
    "RUNNING_MIN_SHARE",
    "Fragment",
    "Laid",
    "Line",
    "Page",
    "find_residue",
    "join_hyphenated",
    "lay_out",
    "order_page",
]

# A gutter is at least this many points wide (3 mm); word spaces in justified
# text stay well below it, since fragments are split at gaps of one em already.
MIN_GUTTER = 8.0
_GUTTER_STEP = 1.0
# A column has a few lines of text at least, each some ems wide (not bullets).
_MIN_COLUMN_LINES = 3
_MIN_COLUMN_EMS = 3.0
# Headlines, series lines and full-width captions cross a gutter: a few lines
# (a three-line headline and a series line), and a tenth of the lines beside it.
_MAX_CROSSING = 4
_MAX_CROSSING_SHARE = 0.1
# Running headers and footers sit in the outer tenth of the page (A4: 84 pt),
# set apart from the text by a gap of at least this many ems (the lines of a
# paragraph are a fraction of an em apart, paragraphs about one em).
MARGIN_BAND = 0.10
FURNITURE_GAP_EMS = 1.5
# A running header repeats: on two pages at least, and on 30% of them (briefs
# alternate two headers between left and right pages, and page 1 often has none).
RUNNING_MIN_PAGES = 2
RUNNING_MIN_SHARE = 0.3
# In a document too short for repetition to show, a margin line set this many of
# its ems apart from the text is a running header or footer all the same (the
# lines of a paragraph are a fraction of an em apart, paragraphs about one em).
DETACHED_EMS = 2.5
# A paragraph this long is prose: a headline stands above the first one.
LEAD_PARAGRAPH_WORDS = 25
# Headings are set larger than the body: 10 pt text has 11.5 pt headings or more.
HEADING_MIN_RATIO = 1.15
# A bold line alone is a heading when it is this short (in words) and unpunctuated.
BOLD_HEADING_MAX_WORDS = 15
# Lines of one paragraph follow at the usual spacing; a third more is a paragraph gap.
PARAGRAPH_GAP_RATIO = 1.3
# A first line indented by more than this many ems starts a paragraph.
INDENT_EMS = 0.8
# The next line's first word would have fitted at the end of this one, with this
# much to spare (ems): the line was broken early, at a paragraph's end.
FIT_SPARE_EMS = 1.0
SENTENCE_END_SPARE_EMS = 0.3

_PAGE_NUMBER = re.compile(
    r"(?:page\s+)?(?:\d{1,4}|[ivxlcdm]{1,7})(?:\s*(?:of|/)\s*\d{1,4})?"
    r"|[-\u2013\u2014]\s*\d{1,4}\s*[-\u2013\u2014]",
    re.IGNORECASE,
)
_DIGITS = re.compile(r"\d+")
# Bullets and numbers that open a list item: a bullet or dash, "1.", "2)", "(a)", "iv."
_LIST_ITEM = re.compile(
    r"^(?:[\u2022\u25e6\u25aa\u25ab\u25a0\u25a1\u25cf\u25cb\u2023\u2043\u2013\u2014*\u00b7-]"
    r"|\(?\d{1,3}[.)]|\(?[a-z][.)]|\(?[ivx]{1,5}[.)])\s+\S"
)
_SENTENCE_END = re.compile("[.!?:;\u2026\"'\u201d\u2019)]$")
_HYPHENS = ("-", "\u2010", "\u00ad")
_WORD = re.compile(r"[^\W\d_](?:[^\W\d_]|['\u2019-](?=[^\W\d_]))*")


@dataclass
class Fragment:
    """Characters on one baseline of one page, as the PDF reader found them.

    ``xs`` holds the left edge of each character of ``text`` (points from the
    page's left edge); ``baseline`` is measured down from the page's top edge.
    """

    text: str
    xs: list[float]
    x1: float
    baseline: float
    size: float
    bold: bool = False

    @property
    def x0(self) -> float:
        return self.xs[0]

    @property
    def top(self) -> float:
        return self.baseline - 0.75 * self.size

    @property
    def bottom(self) -> float:
        return self.baseline + 0.25 * self.size


@dataclass
class Page:
    number: int
    width: float
    height: float
    fragments: list[Fragment]


@dataclass
class Line(Fragment):
    """A line in reading order: merged fragments and where the line sits."""

    page: int = 0
    # (page, band, column): lines of one column of one band follow each other.
    column: tuple[int, int, int] = (0, 0, 0)
    col_x0: float = 0.0
    col_x1: float = 0.0
    # "running header" or "running footer" for page furniture (see _furniture).
    furniture: str = ""


@dataclass
class Laid:
    """A laid-out document.

    ``page_map`` holds ``[start, end, page]`` runs of ``text`` (each paragraph,
    split where it goes on to another page); ``removed`` holds
    ``(offset, reason, line)`` for each residue line removed; ``lead``
    holds ``(text, size)`` of the headings of page 1 above its first paragraph
    of prose (``LEAD_PARAGRAPH_WORDS`` words or more): where a headline stands.
    """

    text: str
    page_map: list[list[int]]
    removed: list[tuple[int, str, str]] = field(default_factory=list)
    lead: list[tuple[str, float]] = field(default_factory=list)
    body_size: float = 0.0


# --------------------------------------------------------------------------- reading order


def _gutters(fragments: Sequence[Fragment]) -> list[tuple[float, float]]:
    """Vertical strips with columns of text on both sides that few fragments cross.

    Swept in ``_GUTTER_STEP`` steps across the text: at ``x``, the fragments that
    end left of it and those that start right of it (not counting bullets, note
    marks and other bits under ``_MIN_COLUMN_EMS`` ems wide) must be at least
    ``_MIN_COLUMN_LINES`` each, and the fragments that cross it (a headline, a
    series line across both columns) at most ``_MAX_CROSSING`` and
    ``_MAX_CROSSING_SHARE`` of the fewer side.
    """
    from bisect import bisect_left, bisect_right

    texty = [f for f in fragments if f.x1 - f.x0 >= _MIN_COLUMN_EMS * f.size]
    if len(texty) < 2 * _MIN_COLUMN_LINES:
        return []
    starts = sorted(f.x0 for f in fragments)
    ends = sorted(f.x1 for f in fragments)
    text_starts = sorted(f.x0 for f in texty)
    text_ends = sorted(f.x1 for f in texty)
    left, right = starts[0], ends[-1]
    gutters: list[tuple[float, float]] = []
    run_start: float | None = None
    x = left
    while x <= right:
        crossing = bisect_left(starts, x) - bisect_right(ends, x)
        on_left = bisect_right(text_ends, x)
        on_right = len(text_starts) - bisect_left(text_starts, x)
        fewer = min(on_left, on_right)
        is_gap = fewer >= _MIN_COLUMN_LINES and crossing <= (
            _MAX_CROSSING + _MAX_CROSSING_SHARE * fewer
        )
        if is_gap and run_start is None:
            run_start = x
        elif not is_gap and run_start is not None:
            if x - run_start >= MIN_GUTTER:
                gutters.append((run_start, x))
            run_start = None
        x += _GUTTER_STEP
    return gutters


def _merge_line(parts: list[Fragment]) -> Fragment:
    """Fragments of one line, left to right, as one fragment."""
    parts = sorted(parts, key=lambda f: f.x0)
    text, xs = parts[0].text, list(parts[0].xs)
    x1 = parts[0].x1
    for part in parts[1:]:
        if part.x0 - x1 > 0.1 * part.size and not text.endswith(" "):
            text += " "
            xs.append(x1)
        text += part.text
        xs.extend(part.xs)
        x1 = max(x1, part.x1)
    main = max(parts, key=lambda f: len(f.text))
    chars = sum(len(p.text) for p in parts)
    bold = sum(len(p.text) for p in parts if p.bold) * 2 > chars
    return Fragment(text=text, xs=xs, x1=x1, baseline=main.baseline, size=main.size, bold=bold)


def _lines_of(fragments: list[Fragment]) -> list[Fragment]:
    """Group a column's fragments into lines, top to bottom.

    A fragment joins a line when its middle lies between the line's top and
    bottom and it does not overlap the line's fragments horizontally: so a raised
    note mark or a smaller run joins the line it belongs to.
    """
    groups: list[list[Fragment]] = []
    for fragment in sorted(fragments, key=lambda f: (f.baseline, f.x0)):
        middle = (fragment.top + fragment.bottom) / 2
        for group in reversed(groups[-3:]):
            main = group[0]
            if main.top <= middle <= main.bottom and all(
                fragment.x0 >= other.x1 - 0.5 or fragment.x1 <= other.x0 + 0.5 for other in group
            ):
                group.append(fragment)
                break
        else:
            groups.append([fragment])
    lines = [_merge_line(group) if len(group) > 1 else group[0] for group in groups]
    return sorted(lines, key=lambda f: f.baseline)


def _rows(fragments: list[Fragment]) -> list[list[Fragment]]:
    """Fragments in rows, top to bottom: a row is fragments whose heights overlap."""
    rows: list[list[Fragment]] = []
    bottom = None
    for fragment in sorted(fragments, key=lambda f: (f.top, f.x0)):
        if rows and bottom is not None and fragment.top < bottom:
            rows[-1].append(fragment)
            bottom = max(bottom, fragment.bottom)
        else:
            rows.append([fragment])
            bottom = fragment.bottom
    return rows


def _furniture(
    fragments: list[Fragment], height: float
) -> tuple[list[Fragment], list[Fragment], list[Fragment]]:
    """Split a page's fragments into (head, body, foot).

    The head is the rows in the top ``MARGIN_BAND`` of the page above a gap of
    ``FURNITURE_GAP_EMS`` or more (the foot likewise at the bottom), and a row
    there that is only a page number; body text that starts high on a page with a
    small margin follows its headline closely, and stays in the body.
    """
    rows = _rows(fragments)

    def gap_after(upper: list[Fragment], lower: list[Fragment]) -> bool:
        space = min(f.top for f in lower) - max(f.bottom for f in upper)
        return space >= FURNITURE_GAP_EMS * max(f.size for f in upper + lower)

    def page_number(row: list[Fragment]) -> bool:
        return len(row) == 1 and bool(_PAGE_NUMBER.fullmatch(" ".join(row[0].text.split())))

    head_rows = 0
    for index, row in enumerate(rows):
        if max(f.bottom for f in row) > MARGIN_BAND * height:
            break
        following = rows[index + 1] if index + 1 < len(rows) else None
        if following is None or gap_after(row, following) or page_number(row):
            head_rows = index + 1
    foot_rows = 0
    for index in range(len(rows) - 1, head_rows - 1, -1):
        row = rows[index]
        if min(f.top for f in row) < (1 - MARGIN_BAND) * height:
            break
        preceding = rows[index - 1] if index > head_rows else None
        if preceding is None or gap_after(preceding, row) or page_number(row):
            foot_rows = len(rows) - index
    head = [f for row in rows[:head_rows] for f in sorted(row, key=lambda f: f.x0)]
    foot = [f for row in rows[len(rows) - foot_rows :] for f in sorted(row, key=lambda f: f.x0)]
    body = [f for row in rows[head_rows : len(rows) - foot_rows] for f in row]
    return head, body, foot


def order_page(page: Page) -> list[Line]:
    """The page's lines in reading order (see the module docstring, step 1).

    Examples
    --------
    >>> def frag(text, x, y):
    ...     return Fragment(text, [x + 5 * i for i in range(len(text))], x + 5 * len(text), y, 10)
    >>> left = [frag(f"left {i}", 50, 100 + 12 * i) for i in range(3)]
    >>> right = [frag(f"right {i}", 300, 100 + 12 * i) for i in range(3)]
    >>> [line.text for line in order_page(Page(1, 595, 842, right + left))]
    ['left 0', 'left 1', 'left 2', 'right 0', 'right 1', 'right 2']
    """
    fragments = [f for f in page.fragments if f.text.strip()]
    # Page furniture (running headers, footers, page numbers) is read first and
    # last, fragment by fragment, outside the columns.
    head, fragments, foot = _furniture(fragments, page.height)
    gutters = _gutters(fragments)
    spanning: list[Fragment] = []
    by_column: dict[int, list[Fragment]] = {}
    for fragment in fragments:
        # Column text stays clear of a gutter's middle; what reaches over it spans columns.
        crosses = any(fragment.x0 < (g0 + g1) / 2 < fragment.x1 for g0, g1 in gutters)
        if crosses:
            spanning.append(fragment)
            continue
        column = sum(1 for g0, g1 in gutters if fragment.x0 >= (g0 + g1) / 2)
        by_column.setdefault(column, []).append(fragment)

    spanning_lines = _lines_of(spanning)
    cuts = [line.top for line in spanning_lines]

    def band_of(fragment: Fragment) -> int:
        return sum(1 for cut in cuts if cut < fragment.top)

    bands: dict[tuple[int, int], list[Fragment]] = {}
    for column, members in by_column.items():
        for fragment in members:
            bands.setdefault((band_of(fragment), column), []).append(fragment)

    ordered: list[Line] = []

    def emit(lines: list[Fragment], key: tuple[int, int, int]) -> None:
        col_x0 = min(line.x0 for line in lines)
        col_x1 = max(line.x1 for line in lines)
        for line in lines:
            ordered.append(
                Line(
                    text=line.text,
                    xs=line.xs,
                    x1=line.x1,
                    baseline=line.baseline,
                    size=line.size,
                    bold=line.bold,
                    page=page.number,
                    column=key,
                    col_x0=col_x0,
                    col_x1=col_x1,
                )
            )

    for index, fragment in enumerate(head):
        emit([fragment], (page.number, -1, index))
        ordered[-1].furniture = "running header"
    spanning_x0 = min((line.x0 for line in spanning_lines), default=0.0)
    spanning_x1 = max((line.x1 for line in spanning_lines), default=0.0)
    for band in range(len(spanning_lines) + 1):
        for column in sorted(c for b, c in bands if b == band):
            emit(_lines_of(bands[(band, column)]), (page.number, band, column))
        if band < len(spanning_lines):
            line = spanning_lines[band]
            emit([line], (page.number, band, -1))
            ordered[-1].col_x0, ordered[-1].col_x1 = spanning_x0, spanning_x1
    for index, fragment in enumerate(foot):
        emit([fragment], (page.number, len(spanning_lines) + 1, -2 - index))
        ordered[-1].furniture = "running footer"
    return ordered


# --------------------------------------------------------------------------- residue


def _residue_key(text: str) -> str:
    return _DIGITS.sub("#", " ".join(text.split()).casefold())


def find_residue(pages: Sequence[Page], lines: Sequence[Line]) -> dict[int, str]:
    """Indices into ``lines`` of running headers, running footers and page numbers.

    Returns
    -------
    dict of int to str
        Line index -> ``"running header"``, ``"running footer"`` or ``"page number"``.
    """
    where = {index: line.furniture for index, line in enumerate(lines) if line.furniture}
    pages_with: dict[tuple[str, str], set[int]] = {}
    for index, band in where.items():
        pages_with.setdefault((band, _residue_key(lines[index].text)), set()).add(
            lines[index].page
        )
    needed = max(RUNNING_MIN_PAGES, RUNNING_MIN_SHARE * len(pages))
    # The top and bottom of each page's text, outside the margins.
    body_top: dict[int, float] = {}
    body_bottom: dict[int, float] = {}
    for index, line in enumerate(lines):
        if index not in where:
            body_top[line.page] = min(body_top.get(line.page, line.top), line.top)
            body_bottom[line.page] = max(body_bottom.get(line.page, line.bottom), line.bottom)
    residue: dict[int, str] = {}
    for index, band in where.items():
        line = lines[index]
        text = " ".join(line.text.split())
        if _PAGE_NUMBER.fullmatch(text):
            residue[index] = "page number"
        elif len(pages_with[(band, _residue_key(text))]) >= needed or (
            len(pages) > 1 and _detached(line, band, body_top, body_bottom)
        ):
            residue[index] = band
    return residue


def _detached(line: Line, band: str, body_top: dict, body_bottom: dict) -> bool:
    """Whether a margin line stands well apart from the page's text: a running header
    (not on page 1, whose top may be a masthead) or footer of a short document."""
    distance = DETACHED_EMS * max(line.size, 1.0)
    if band == "running header":
        return line.page > 1 and body_top.get(line.page, 1e9) - line.bottom >= distance
    return line.top - body_bottom.get(line.page, -1e9) >= distance


# --------------------------------------------------------------------------- paragraphs


def join_hyphenated(first: str, second: str, vocabulary: set[str] | frozenset[str]) -> str:
    """Join two lines where ``first`` may end in a word hyphenated across the break.

    A soft hyphen always goes. A hard hyphen between letters goes when the
    second part starts in lower case, unless the document spells the word with
    the hyphen elsewhere ("evidence-based"); it stays when the second part starts
    with a capital or a digit ("pre-Brexit", "COVID-19"), unless the document
    spells the word without it.

    Parameters
    ----------
    first, second : str
        The two lines, without their line break.
    vocabulary : set of str
        The document's words, case-folded, as :func:`words` finds them.

    Examples
    --------
    >>> join_hyphenated("the conges-", "tion charge", set())
    'the congestion charge'
    >>> join_hyphenated("an evidence-", "based policy", {"evidence-based"})
    'an evidence-based policy'
    >>> join_hyphenated("after", "the vote", set())
    'after the vote'
    """
    first, second = first.rstrip(), second.lstrip()
    if not first:
        return second
    if not second:
        return first
    if first[-1] in _HYPHENS and len(first) > 1 and first[-2].isalpha() and second[0].isalnum():
        if first[-1] == "\u00ad":
            return first[:-1] + second
        head = re.search(r"[^\W\d_][\w'\u2019-]*-$", first)
        tail = re.match(r"[\w'\u2019]+", second)
        head_word = head.group(0) if head else first[-2:]
        tail_word = tail.group(0) if tail else ""
        hyphenated = (head_word + tail_word).casefold()
        solid = (head_word[:-1] + tail_word).casefold()
        if hyphenated in vocabulary:
            return first + second
        if solid in vocabulary or second[0].islower():
            return first[:-1] + second
        return first + second
    return first + " " + second


def words(texts) -> set[str]:
    """Case-folded words (with inner hyphens and apostrophes) of ``texts``."""
    found: set[str] = set()
    for text in texts:
        found.update(match.group(0).casefold() for match in _WORD.finditer(text))
    return found


@dataclass
class _Block:
    kind: str  # "heading", "paragraph", "item" or "residue"
    text: str
    size: float
    page: int
    # Where an item's text starts, right of its bullet (points).
    indent: float = 0.0
    # (offset in text, page) where the block goes on to another page.
    page_starts: list[tuple[int, int]] = field(default_factory=list)


def _body_size(lines: Sequence[Line]) -> float:
    sizes = Counter()
    for line in lines:
        sizes[round(line.size * 2) / 2] += len(line.text)
    return sizes.most_common(1)[0][0] if sizes else 0.0


def _leading(lines: Sequence[Line], body: float) -> float:
    """The usual distance between the baselines of a column's consecutive body lines."""
    steps = Counter()
    for previous, line in itertools.pairwise(lines):
        if previous.column == line.column and abs(line.size - body) < 0.5:
            step = line.baseline - previous.baseline
            if 0 < step < 3 * body:
                steps[round(step * 2) / 2] += 1
    return steps.most_common(1)[0][0] if steps else 1.2 * body


def _first_word_width(line: Line) -> float:
    end = line.text.find(" ")
    if end == -1:
        return line.x1 - line.x0
    return line.xs[end] - line.x0


def _text_start(line: Line) -> float:
    """Left edge of the text after a list item's bullet or number (of the line otherwise)."""
    match = _LIST_ITEM.match(line.text)
    if match is None:
        return line.x0
    return line.xs[min(match.end() - 1, len(line.xs) - 1)]


def _is_heading(line: Line, body: float) -> bool:
    if line.size >= HEADING_MIN_RATIO * body:
        return True
    text = line.text.strip()
    return (
        line.bold
        and len(text.split()) <= BOLD_HEADING_MAX_WORDS
        and not _SENTENCE_END.search(text)
        and not _LIST_ITEM.match(text)
    )


def _starts_new_block(
    previous: Line, line: Line, block: _Block, *, body: float, leading: float
) -> bool:
    """Whether ``line`` begins a paragraph rather than going on with ``block``, whose
    last line is ``previous``."""
    em = max(line.size, 1.0)
    if previous.column == line.column:
        if line.baseline - previous.baseline > PARAGRAPH_GAP_RATIO * leading + 0.5:
            return True
        if block.kind == "item":
            # An item's lines hang under its text; a line left of that ends the list.
            if line.x0 < block.indent - 0.3 * em:
                return True
        elif line.x0 - line.col_x0 > INDENT_EMS * em and previous.x0 - previous.col_x0 < 0.5 * em:
            return True
    # A typesetter breaks a line early only at a paragraph's end. Widths are
    # measured on glyph boxes, a little narrower than the typesetter's advances, so
    # the word must fit with an em to spare (a space will do after a full stop).
    room = previous.col_x1 - previous.x1
    spare = SENTENCE_END_SPARE_EMS if _SENTENCE_END.search(previous.text) else FIT_SPARE_EMS
    return _first_word_width(line) + spare * em < room


def lay_out(pages: Sequence[Page], *, clean: bool = True) -> Laid:
    """Read pages into text with paragraphs, a page map and the residue removed.

    Parameters
    ----------
    pages : sequence of Page
        The pages in order, each with its fragments.
    clean : bool
        Remove running headers, running footers and page numbers (each is kept
        as a paragraph of its own otherwise).

    Returns
    -------
    Laid
        Text with ``\\n\\n`` between paragraphs and ``\\n`` between the items of
        one list, the page map, the residue removed and the headings.
    """
    lines: list[Line] = []
    for page in pages:
        lines.extend(order_page(page))
    residue = find_residue(pages, lines)
    body = _body_size([line for i, line in enumerate(lines) if i not in residue])
    leading = _leading(lines, body)
    vocabulary = words(line.text for line in lines)

    blocks: list[_Block] = []
    # Removed residue waiting for the next kept line: (reason, text).
    pending: list[tuple[str, str]] = []
    # (block index, offset in its text, reason, line) of each removed line.
    removed_at: list[tuple[int, int, str, str]] = []
    previous: Line | None = None
    for index, line in enumerate(lines):
        text = " ".join(line.text.split())
        if index in residue:
            if clean:
                pending.append((residue[index], text))
            else:
                blocks.append(_Block("residue", text, line.size, line.page))
                previous = None
            continue
        heading = _is_heading(line, body)
        item = not heading and bool(_LIST_ITEM.match(text))
        block = blocks[-1] if blocks else None
        goes_on = (
            block is not None
            and previous is not None
            and block.kind != "residue"
            and (
                (
                    block.kind == "heading"
                    and heading
                    and abs(line.size - block.size) < 0.5
                    and line.page == previous.page
                    and 0 < line.baseline - previous.baseline < 1.6 * line.size
                )
                or (
                    block.kind in ("paragraph", "item")
                    and not heading
                    and not item
                    and not _starts_new_block(previous, line, block, body=body, leading=leading)
                )
            )
        )
        if goes_on:
            assert block is not None
            joined = join_hyphenated(block.text, text, vocabulary)
            # The joined text keeps the new line's text whole at its end.
            offset = len(joined) - len(text)
            block.text = joined
            if line.page != (block.page_starts[-1][1] if block.page_starts else block.page):
                block.page_starts.append((offset, line.page))
        else:
            kind = "heading" if heading else "item" if item else "paragraph"
            blocks.append(_Block(kind, text, line.size, line.page, indent=_text_start(line)))
            offset = 0
        for reason, removed_text in pending:
            removed_at.append((len(blocks) - 1, offset, reason, removed_text))
        pending = []
        previous = line

    return _assemble(blocks, removed_at, pending, body)


def _assemble(
    blocks: list[_Block],
    removed_at: list[tuple[int, int, str, str]],
    trailing: list[tuple[str, str]],
    body: float,
) -> Laid:
    parts: list[str] = []
    starts: list[int] = []
    page_map: list[list[int]] = []
    lead: list[tuple[str, float]] = []
    in_lead = True
    position = 0
    for index, block in enumerate(blocks):
        if index:
            both_items = block.kind == "item" and blocks[index - 1].kind == "item"
            separator = "\n" if both_items else "\n\n"
            parts.append(separator)
            position += len(separator)
        starts.append(position)
        parts.append(block.text)
        runs = [(0, block.page), *block.page_starts]
        for (offset, page), following in zip(runs, [*runs[1:], (len(block.text), 0)], strict=True):
            if following[0] > offset:
                page_map.append([position + offset, position + following[0], page])
        position += len(block.text)
        if block.page != 1 or (
            block.kind == "paragraph" and len(block.text.split()) >= LEAD_PARAGRAPH_WORDS
        ):
            in_lead = False
        if in_lead and block.kind == "heading":
            lead.append((block.text, block.size))
    text = "".join(parts)
    removed = [(starts[b] + offset, reason, line) for b, offset, reason, line in removed_at]
    removed += [(len(text), reason, line) for reason, line in trailing]
    return Laid(text=text, page_map=page_map, removed=removed, lead=lead, body_size=body)
