"""A span's text quoted in a list: whitespace folded, cut at a word with "…".

Relation lines name both of their spans by their text ("“Sanctions cut
revenue…” —supports→ “Pakistan should…”"), so each quote stays short; a cut
falls after a whole word when one ends in the last third of the limit, so a
quote never ends in half a word unless the word itself is longer.
"""

from __future__ import annotations


def quote(text: str, start: int = 0, end: int | None = None, limit: int = 40) -> str:
    """``text[start:end]`` folded to single spaces, at most ``limit`` characters with the "…"."""
    piece = " ".join(text[start:end].split())
    if len(piece) <= limit:
        return piece
    cut = piece[: limit - 1]
    space = cut.rfind(" ")
    if space >= (limit * 2) // 3:
        cut = cut[:space]
    return cut.rstrip(" ,;:.—-") + "…"
