"""Pick a brief's title: its headline, never a site name, series line, date or byline.

Each reader offers candidates in the order its format makes most likely to be
the headline (an HTML page: an ``<h1>`` that agrees with ``og:title``, then
``og:title``, any ``<h1>``, ``<title>``; a PDF: the largest type on page 1; a
.docx: the Title style, then Heading 1; Markdown: the first heading), each with
a few words saying where it came from. :func:`pick_title` takes the first
candidate that :func:`not_a_headline` does not refuse, else the first line of
the text that it does not refuse, and says where the title came from.

What is refused (the seed brief's web page put its series line,
"Pakistan Reader# 171, 21 April 2021", where a headline belongs):

- a **date line**: a date ("21 April 2021", "April 21, 2021", "2021-04-21",
  "21/04/2021", "March 2024") with at most ``DATE_LINE_MAX_OTHER_WORDS`` other
  words ("Published", "Updated", "Policy Brief");
- a **series line**: a numbered series label ("Reader# 171", "Policy Brief
  No. 17", "Issue 12", "Vol. 3") near the start of a line that also has a date,
  separators ("·", "|"), or at most ``SERIES_LINE_MAX_WORDS`` words;
- a **byline**: "By Jane Doe", "Written by ...", "Author: ...";
- the **site name**, when the page names it (``og:site_name``, or the part of
  ``<title>`` beside the headline).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "DATE_LINE_MAX_OTHER_WORDS",
    "FIRST_LINES_SCANNED",
    "SERIES_LINE_MAX_WORDS",
    "TITLE_MAX_CHARS",
    "Candidate",
    "clip_title",
    "not_a_headline",
    "pick_title",
    "strip_site_name",
]

# A title is shown in lists and page headers; longer ones are cut.
TITLE_MAX_CHARS = 200
# "Published 21 April 2021", "Policy Brief | March 2024": a date with two other
# words is a date line; "April 2021: Sanctions bite harder" is a headline.
DATE_LINE_MAX_OTHER_WORDS = 2
# "Pakistan Reader# 171" alone is a series line; "Why Issue 12 of the treaty
# matters for Europe's farmers" is a headline.
SERIES_LINE_MAX_WORDS = 8
# The headline of a text is among its first lines; past these it is prose.
FIRST_LINES_SCANNED = 12
# How many refused candidates the report names.
_NAMED_REFUSALS = 2

_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december"
    "|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
)
_WEEKDAYS = "monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|wed|thu|fri|sat|sun"
_DATE = re.compile(
    rf"\b(?:\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{_MONTHS})\.?,?\s+\d{{4}}"
    rf"|(?:{_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
    rf"|(?:{_MONTHS})\.?,?\s+\d{{4}}"
    r"|\d{4}-\d{1,2}-\d{1,2}"
    r"|\d{1,2}[./]\d{1,2}[./]\d{2,4})\b",
    re.IGNORECASE,
)
_DATE_WORDS = re.compile(
    rf"\b(?:{_WEEKDAYS}|published|updated|posted|last|modified|date[ds]?|on|at|\d+\s*min(?:ute)?s?"
    r"|read|\d{1,2}:\d{2}(?:\s*[ap]m)?)\b",
    re.IGNORECASE,
)
_SERIES = re.compile(
    r"(?:#\s*\d+|\b(?:no|nr|number|issue|vol|volume|edition)\.?\s*#?\s*\d+"
    r"|\b(?:brief|paper|report|reader|series|bulletin|note|commentary)\s*#?\s*\d+)",
    re.IGNORECASE,
)
_SEPARATORS = re.compile(r"\s[|\u00b7\u2022/\u2013\u2014-]\s|[|\u00b7\u2022]")
_BYLINE = re.compile(r"^(?:by|written by|authors?\s*:|author\s*:|posted by)\s+\S", re.IGNORECASE)
_BYLINE_MAX_WORDS = 15
_TITLE_SEPARATORS = re.compile(r"\s+(?:\||-|\u2013|\u2014|::|\u00b7|\u00bb|:)\s+")
_WORDS = re.compile(r"\w+")


def clip_title(title: str) -> str:
    """Collapse whitespace and cut ``title`` to ``TITLE_MAX_CHARS``."""
    return " ".join(title.split())[:TITLE_MAX_CHARS].rstrip()


@dataclass(frozen=True)
class Candidate:
    """A possible title and where it came from ("the page's <h1>")."""

    text: str
    source: str


def _other_words(line: str) -> int:
    rest = _DATE_WORDS.sub(" ", _DATE.sub(" ", line))
    return len(_WORDS.findall(rest))


def not_a_headline(line: str, *, site_names: Iterable[str] = ()) -> str | None:
    """Why ``line`` is not a headline, or None when it may be one.

    Returns
    -------
    str or None
        ``"a date line"``, ``"a series line"``, ``"a byline"``, ``"the site
        name"``, or None.

    Examples
    --------
    >>> not_a_headline("Pakistan Reader# 171, 21 April 2021")
    'a series line'
    >>> not_a_headline("Published Wednesday, 21 April 2021")
    'a date line'
    >>> not_a_headline("By Jane Doe and Ali Khan")
    'a byline'
    >>> not_a_headline("Why sanctions on Russia are working") is None
    True
    """
    text = " ".join(line.split())
    if not text:
        return "empty"
    folded = text.casefold()
    if any(folded == " ".join(name.split()).casefold() for name in site_names if name):
        return "the site name"
    if _BYLINE.match(text) and len(text.split()) <= _BYLINE_MAX_WORDS:
        return "a byline"
    has_date = bool(_DATE.search(text))
    if has_date and _other_words(text) <= DATE_LINE_MAX_OTHER_WORDS:
        return "a date line"
    series = _SERIES.search(text)
    if series and series.start() <= 40 and (
        has_date or _SEPARATORS.search(text) or len(text.split()) <= SERIES_LINE_MAX_WORDS
    ):
        return "a series line"
    return None


def strip_site_name(title: str, site_names: Sequence[str] = ()) -> str:
    """``title`` without the site name that pages append ("Headline | Site").

    The parts that name the site (``site_names``) go; without a known site name
    the longest part is kept when every other part is short (four words at most).

    Examples
    --------
    >>> strip_site_name("Sanctions are working | Centre for Policy", ["Centre for Policy"])
    'Sanctions are working'
    >>> strip_site_name("Why sanctions on Russia are working - CEPS")
    'Why sanctions on Russia are working'
    """
    parts = [part.strip() for part in _TITLE_SEPARATORS.split(title) if part.strip()]
    if len(parts) < 2:
        return title.strip()
    names = {" ".join(name.split()).casefold() for name in site_names if name}
    kept = [part for part in parts if part.casefold() not in names]
    if kept and len(kept) < len(parts):
        return " · ".join(kept) if len(kept) > 1 else kept[0]
    longest = max(parts, key=len)
    if all(len(part.split()) <= 4 for part in parts if part is not longest):
        return longest
    return title.strip()


def pick_title(
    candidates: Iterable[Candidate], *, text: str, site_names: Iterable[str] = ()
) -> tuple[str, str]:
    """The first candidate that is a headline, else the text's first such line.

    Parameters
    ----------
    candidates : iterable of Candidate
        Best first.
    text : str
        The document's text, for the fallback.
    site_names : iterable of str
        Names of the site, refused as titles.

    Returns
    -------
    title : str
        Whitespace collapsed, cut to the title length; ``""`` for an empty text.
    source : str
        Where it came from, with the refused candidates before it named.

    Examples
    --------
    >>> pick_title([], text="Pakistan Reader# 171, 21 April 2021\\nThe Taliban's offensive\\n")
    ("The Taliban's offensive", 'the first line that is not a date, byline or series line \
(passed over: "Pakistan Reader# 171, 21 April 2021", a series line)')
    """
    site_names = list(site_names)
    refused: list[str] = []

    def source_with(source: str) -> str:
        if not refused:
            return source
        return f"{source} (passed over: {'; '.join(refused[:_NAMED_REFUSALS])})"

    seen: set[str] = set()
    for candidate in candidates:
        title = clip_title(candidate.text)
        if not title or title.casefold() in seen:
            continue
        seen.add(title.casefold())
        reason = not_a_headline(title, site_names=site_names)
        if reason is None:
            return title, source_with(candidate.source)
        refused.append(f'"{title}", {reason}')

    lines = [line for line in (clip_title(raw) for raw in text.split("\n")) if line]
    for index, line in enumerate(lines[:FIRST_LINES_SCANNED]):
        reason = not_a_headline(line, site_names=site_names)
        if reason is None:
            if index == 0:
                return line, source_with("the first line")
            return line, source_with(
                "the first line that is not a date, byline or series line"
            )
        if line.casefold() not in seen:
            seen.add(line.casefold())
            refused.append(f'"{line}", {reason}')
    if lines:
        return lines[0], (
            "the first line (every line near the top looked like a date, byline or series line)"
        )
    return "", ""
