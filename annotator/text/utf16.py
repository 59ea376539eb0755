"""Convert offsets between code points (the server) and UTF-16 units (the browser).

Every stored offset counts Unicode code points (Python ``str`` indices); a
browser's ``Selection`` and ``String.length`` count UTF-16 code units, where a
character outside the Basic Multilingual Plane (emoji, MATHEMATICAL FRAKTUR CAPITAL U) takes two
units, a surrogate pair. These two functions are the only place where the two
counts meet (../DESIGN.md, "Offsets").
"""

from __future__ import annotations

__all__ = ["codepoints_to_utf16", "utf16_length", "utf16_to_codepoints"]

_FIRST_ASTRAL = 0x10000


def _check_int(offset: int) -> None:
    if isinstance(offset, bool) or not isinstance(offset, int):
        raise ValueError(f"offset must be an integer, not {offset!r}")


def utf16_length(text: str) -> int:
    """Return the number of UTF-16 code units in ``text`` (JavaScript's ``length``).

    Examples
    --------
    >>> utf16_length("a👍")
    3
    """
    # "surrogatepass" so that a stray lone surrogate counts as the one unit it is.
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def codepoints_to_utf16(text: str, offset: int) -> int:
    """Return the UTF-16 offset of code point offset ``offset`` in ``text``.

    Parameters
    ----------
    text : str
        Canonical text.
    offset : int
        Code point offset, ``0 <= offset <= len(text)``.

    Returns
    -------
    int
        The same position counted in UTF-16 code units.

    Raises
    ------
    ValueError
        If ``offset`` is out of range.

    Examples
    --------
    >>> codepoints_to_utf16("\\U0001d518 is here", 1)
    2
    """
    _check_int(offset)
    if not 0 <= offset <= len(text):
        raise ValueError(f"offset {offset} is outside the text (0..{len(text)})")
    prefix = text[:offset]
    return offset + sum(1 for char in prefix if ord(char) >= _FIRST_ASTRAL)


def utf16_to_codepoints(text: str, offset: int) -> int:
    """Return the code point offset of UTF-16 offset ``offset`` in ``text``.

    Parameters
    ----------
    text : str
        Canonical text.
    offset : int
        UTF-16 code unit offset, ``0 <= offset <= utf16_length(text)``.

    Returns
    -------
    int
        The same position counted in code points.

    Raises
    ------
    ValueError
        If ``offset`` is out of range or falls between the two halves of a
        surrogate pair (no code point boundary is there).

    Examples
    --------
    >>> utf16_to_codepoints("👩‍💻 codes", 5)
    3
    """
    _check_int(offset)
    units = text.encode("utf-16-le", "surrogatepass")
    if not 0 <= offset <= len(units) // 2:
        raise ValueError(f"UTF-16 offset {offset} is outside the text (0..{len(units) // 2})")
    prefix = units[: 2 * offset].decode("utf-16-le", "surrogatepass")
    count = len(prefix)
    # A cut between a high and a low surrogate decodes to a lone high surrogate
    # that the text does not hold as a character of its own.
    if count and 0xD800 <= ord(prefix[-1]) <= 0xDBFF and text[count - 1] != prefix[-1]:
        raise ValueError(f"UTF-16 offset {offset} falls inside a surrogate pair")
    return count
