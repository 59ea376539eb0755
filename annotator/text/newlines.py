"""Line-end normalisation that remembers how offsets move.

Canonical text has ``\\n`` line ends only (../DESIGN.md, "Offsets"): a CRLF
pair becomes ``\\n`` and a lone CR becomes ``\\n``; nothing else changes. Files
that arrive with offsets (brat, JSONL) count them in the original text, so the
importer maps every offset through the :class:`OffsetMap` returned here.

Design note: only the ``\\r`` of each CRLF disappears (a lone CR is replaced by
one ``\\n`` and keeps its length), so a new offset is the old offset minus the
number of removed ``\\r`` before it. Keeping the sorted positions of the removed
characters makes one lookup a binary search, O(log n).
"""

from __future__ import annotations

import re
from bisect import bisect_left

__all__ = ["OffsetMap", "normalize_newlines"]

_CRLF = re.compile("\r\n")


class OffsetMap:
    """Maps offsets in an original text to offsets in its normalised text.

    Parameters
    ----------
    removed : list of int
        Sorted positions, in the original text, of the characters that were
        deleted (the ``\\r`` of each CRLF).
    original_length : int
        ``len()`` of the original text; offsets from 0 to it, inclusive, map.
    """

    __slots__ = ("_removed", "original_length")

    def __init__(self, removed: list[int], original_length: int):
        self._removed = removed
        self.original_length = original_length

    @property
    def is_identity(self) -> bool:
        """True when no character was deleted, so every offset maps to itself."""
        return not self._removed

    def map(self, offset: int) -> int:
        """Return the offset in the normalised text for ``offset`` in the original.

        An offset that points between the ``\\r`` and the ``\\n`` of a CRLF, or at
        the ``\\r`` itself, maps to the position of the ``\\n`` that remains.

        Parameters
        ----------
        offset : int
            Code point offset into the original text, ``0 <= offset <= original_length``.

        Returns
        -------
        int
            Code point offset into the normalised text.

        Raises
        ------
        ValueError
            If ``offset`` is outside the original text.

        Examples
        --------
        >>> text, offsets = normalize_newlines("ab\\r\\ncd")
        >>> [offsets.map(i) for i in range(6)]
        [0, 1, 2, 2, 3, 4]
        """
        if isinstance(offset, bool) or not isinstance(offset, int):
            raise ValueError(f"offset must be an integer, not {offset!r}")
        if not 0 <= offset <= self.original_length:
            raise ValueError(f"offset {offset} is outside the text (0..{self.original_length})")
        # Number of deleted characters strictly before ``offset``.
        return offset - bisect_left(self._removed, offset)

    def __repr__(self) -> str:
        return f"OffsetMap(removed={len(self._removed)}, original_length={self.original_length})"


def normalize_newlines(text: str) -> tuple[str, OffsetMap]:
    """Convert CRLF and lone CR to LF and nothing else.

    Parameters
    ----------
    text : str
        Text as decoded from the upload.

    Returns
    -------
    normalized : str
        The text with ``\\n`` line ends only.
    offsets : OffsetMap
        Maps offsets in ``text`` to offsets in ``normalized``.

    Examples
    --------
    >>> normalize_newlines("a\\r\\nb\\rc")[0]
    'a\\nb\\nc'
    """
    if "\r" not in text:
        return text, OffsetMap([], len(text))
    removed = [match.start() for match in _CRLF.finditer(text)]
    normalized = text.replace("\r\n", "\n").replace("\r", "\n")
    return normalized, OffsetMap(removed, len(text))
