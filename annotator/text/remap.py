"""Move offsets from one version of a text to another, only where that is exact.

Re-running a document's import with cleaning on or off changes its text by
whole lines (residue removed or put back) and, in a PDF, by paragraphs split or
joined at a page break. Spans in the unchanged parts can move with the text;
spans in a changed part cannot, and the re-run is refused.

Design note: the two texts are compared line by line (:class:`difflib.SequenceMatcher`,
no junk heuristic); runs of unchanged lines are *anchors*. Within a changed stretch of
at most ``CHAR_DIFF_MAX_CHARS`` the characters are compared too, and an
unchanged run of at least ``MIN_ANCHOR_CHARS`` characters is also an anchor
(so a paragraph that a page break split keeps its spans). A span moves only
when it lies wholly inside one anchor: the characters under it are then the
same characters, in the same order relative to every other anchor, and
:meth:`OffsetMover.move` checks that the text under it is unchanged.
"""

from __future__ import annotations

from bisect import bisect_right
from difflib import SequenceMatcher

__all__ = ["CHAR_DIFF_MAX_CHARS", "MIN_ANCHOR_CHARS", "OffsetMover"]

# Character comparison is quadratic at worst: a changed stretch of two long
# paragraphs is compared, a whole rewritten document is not.
CHAR_DIFF_MAX_CHARS = 20_000
# A shorter run of equal characters inside a changed stretch may be chance
# ("the", "tion"): it anchors nothing.
MIN_ANCHOR_CHARS = 32


def _line_bounds(lines: list[str]) -> tuple[list[int], list[int]]:
    """Start and end (before its line end) of each of ``text.split("\n")``."""
    starts, ends = [], []
    position = 0
    for line in lines:
        starts.append(position)
        ends.append(position + len(line))
        position += len(line) + 1
    return starts, ends


class OffsetMover:
    """Offsets of ``old`` moved into ``new`` through their unchanged stretches.

    Examples
    --------
    >>> old = "Headline\\n\\nWe argue for a charge.\\n\\nIt cut traffic."
    >>> new = "Page 1\\n\\nHeadline\\n\\nWe argue for a charge.\\n\\nIt cut traffic."
    >>> mover = OffsetMover(old, new)
    >>> mover.move(13, 33)
    (21, 41)
    >>> new[21:41] == old[13:33]
    True
    >>> OffsetMover("The charge works.", "The tax works.").move(4, 10) is None
    True
    """

    def __init__(self, old: str, new: str) -> None:
        self.old, self.new = old, new
        # (old start, new start, length) of each anchor, in order of both texts.
        self.anchors: list[tuple[int, int, int]] = []
        # Lines without their line ends: the last line of a text has none, and must
        # still equal the same line followed by more.
        old_lines, new_lines = old.split("\n"), new.split("\n")
        (old_starts, old_ends), (new_starts, new_ends) = (
            _line_bounds(old_lines),
            _line_bounds(new_lines),
        )
        matcher = SequenceMatcher(None, old_lines, new_lines, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if i1 == i2 or j1 == j2:
                continue  # lines only inserted or only deleted: nothing to anchor
            # Equal lines in a row are one anchor, line ends between them included.
            a0, a1 = old_starts[i1], old_ends[i2 - 1]
            b0, b1 = new_starts[j1], new_ends[j2 - 1]
            if tag == "equal":
                self.anchors.append((a0, b0, a1 - a0))
            elif tag == "replace" and (a1 - a0) + (b1 - b0) <= CHAR_DIFF_MAX_CHARS:
                inner = SequenceMatcher(None, old[a0:a1], new[b0:b1], autojunk=False)
                for i, j, size in inner.get_matching_blocks():
                    if size >= MIN_ANCHOR_CHARS:
                        self.anchors.append((a0 + i, b0 + j, size))
        self._starts = [anchor[0] for anchor in self.anchors]

    def move(self, start: int, end: int) -> tuple[int, int] | None:
        """``(start, end)`` in ``new``, or None when the span is not inside one anchor."""
        index = bisect_right(self._starts, start) - 1
        if index < 0:
            return None
        old_start, new_start, size = self.anchors[index]
        if end > old_start + size:
            return None
        moved = (new_start + start - old_start, new_start + end - old_start)
        if self.new[moved[0] : moved[1]] != self.old[start:end]:
            return None
        return moved
