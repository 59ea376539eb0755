"""Tokens and word-snapping on canonical text.

A token is a maximal run of non-whitespace (``\\S+``), the unit that agreement
(``unit: token``) and the CoNLL export count (../DESIGN.md, "Agreement").
Whitespace is what Python's ``re`` calls ``\\s`` on ``str`` patterns (Unicode
whitespace), used everywhere here so that tokens and snapping agree.
"""

from __future__ import annotations

import re

__all__ = ["snap_to_words", "token_offsets", "trim_whitespace"]

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


def snap_to_words(text: str, start: int, end: int) -> tuple[int, int]:
    """Expand a selection to whole tokens, without whitespace at either end.

    Annotators select with the mouse and often cut a word or catch a space;
    snapping makes the stored span cover whole tokens.

    Parameters
    ----------
    text : str
        Canonical text.
    start, end : int
        Selected code point range, ``0 <= start <= end <= len(text)``.

    Returns
    -------
    tuple of int
        ``(start, end)`` of the smallest run of whole tokens that contains every
        non-whitespace character of the selection.

    Raises
    ------
    ValueError
        If the range is outside the text or holds only whitespace.

    Examples
    --------
    >>> text = "Sanctions work slowly."
    >>> start, end = snap_to_words(text, 3, 12)
    >>> text[start:end]
    'Sanctions work'
    """
    start, end = trim_whitespace(text, start, end)
    while start > 0 and not _is_space(text[start - 1]):
        start -= 1
    while end < len(text) and not _is_space(text[end]):
        end += 1
    return start, end
