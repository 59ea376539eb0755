"""Tokens and word-snapping on canonical text.

A token is a maximal run of non-whitespace (``\\S+``), the unit that agreement
(``unit: token``) and the CoNLL export count (../DESIGN.md, "Agreement").
Whitespace is what Python's ``re`` calls ``\\s`` on ``str`` patterns (Unicode
whitespace), used everywhere here so that tokens and snapping agree.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["WORD_JOINERS", "snap_to_words", "token_offsets", "trim_whitespace"]

_TOKEN = re.compile(r"\S+")
_SPACE = re.compile(r"\s")


def token_offsets(text: str) -> list[tuple[int, int]]:
    """Return the ``(start, end)`` code point offsets of every token in ``text``.

    Parameters
    ----------
    text : str
        Canonical text.

    Returns
    -------
    list of tuple of int
        One ``(start, end)`` pair per maximal run of non-whitespace, in order;
        ``end`` is exclusive.

    Examples
    --------
    >>> token_offsets("We act,  now.\\n")
    [(0, 2), (3, 7), (9, 13)]
    """
    return [match.span() for match in _TOKEN.finditer(text)]


def _check_range(text: str, start: int, end: int) -> None:
    for value in (start, end):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"offsets must be integers, not {value!r}")
    if not 0 <= start <= end <= len(text):
        raise ValueError(f"range ({start}, {end}) is outside the text (0..{len(text)})")


def _is_space(char: str) -> bool:
    return _SPACE.match(char) is not None


def trim_whitespace(text: str, start: int, end: int) -> tuple[int, int]:
    """Move ``start`` forward and ``end`` back past whitespace.

    Parameters
    ----------
    text : str
        Canonical text.
    start, end : int
        Code point range, ``0 <= start <= end <= len(text)``.

    Returns
    -------
    tuple of int
        The narrowed ``(start, end)``.

    Raises
    ------
    ValueError
        If the range is outside the text, or holds nothing but whitespace
        (a span must cover at least one visible character).

    Examples
    --------
    >>> trim_whitespace("  we act  ", 0, 10)
    (2, 8)
    """
    _check_range(text, start, end)
    while start < end and _is_space(text[start]):
        start += 1
    while end > start and _is_space(text[end - 1]):
        end -= 1
    if start == end:
        raise ValueError("the selection holds only whitespace")
    return start, end


# Inside a word, an apostrophe or a hyphen joins two letters or digits ("don't",
# "well-known", "COVID-19"); anywhere else it is punctuation. So does a zero-width
# non-joiner or joiner (U+200C, U+200D), with which Urdu and Persian write one
# word in two unjoined pieces ("ٹیکس‌دہندگان", taxpayers); textunits.js agrees.
WORD_JOINERS = frozenset("'\u2019\u02bc-\u2010\u2011\u200c\u200d")


def _is_word_char(char: str) -> bool:
    """A letter, a digit or a combining mark (Unicode categories L*, N*, M*)."""
    return unicodedata.category(char)[0] in "LNM"


def _inside_word(text: str, i: int) -> bool:
    """Whether the boundary before ``text[i]`` falls inside a word (``0 < i < len(text)``)."""
    before, after = text[i - 1], text[i]
    if _is_word_char(before) and _is_word_char(after):
        return True
    if before in WORD_JOINERS:  # "don'|t": the joiner must sit between two word characters
        return i >= 2 and _is_word_char(text[i - 2]) and _is_word_char(after)
    if after in WORD_JOINERS:  # "don|'t"
        return i + 1 < len(text) and _is_word_char(before) and _is_word_char(text[i + 1])
    return False


def snap_to_words(text: str, start: int, end: int) -> tuple[int, int]:
    """Complete the words a selection cuts, and drop whitespace at either end.

    Annotators select with the mouse and often cut a word or catch a space.
    Snapping grows each end that falls inside a word (letters, digits, and
    apostrophes or hyphens between them) to that word's edge, and trims
    whitespace. It never adds punctuation the selection did not include, and
    never drops punctuation it did include: selecting ``a new partnership``
    before a full stop stores no full stop, and two annotators who select the
    same words store the same span. Agreement tokens are not affected: they stay
    maximal runs of non-whitespace (:func:`token_offsets`), and a span that ends
    inside a token covers that token.

    Parameters
    ----------
    text : str
        Canonical text.
    start, end : int
        Selected code point range, ``0 <= start <= end <= len(text)``.

    Returns
    -------
    tuple of int
        The snapped ``(start, end)``.

    Raises
    ------
    ValueError
        If the range is outside the text or holds only whitespace.

    Examples
    --------
    >>> text = "Sanctions work slowly, don't they?"
    >>> start, end = snap_to_words(text, 3, 12)
    >>> text[start:end]
    'Sanctions work'
    >>> text[slice(*snap_to_words(text, 15, 25))]
    "slowly, don't"
    >>> text[slice(*snap_to_words(text, 10, 22))]
    'work slowly,'
    """
    start, end = trim_whitespace(text, start, end)
    while start > 0 and _inside_word(text, start):
        start -= 1
    while end < len(text) and _inside_word(text, end):
        end += 1
    return start, end
