"""The text of a brief as HTML blocks of segments, coloured by the spans over it.

Shared by the annotation page, curation and the students' feedback view: one
hot loop, built as a string (2,000+ segments on a long brief).
"""

from __future__ import annotations

import bisect
import html

from annotator.selectors import annotations as sel

# Underline rows drawn per segment; deeper nesting is still in the data and
# the outline, it just shares the last row (CSS draws n1..n4).
MAX_LANES = 4


# A text shorter than this is shown whole; a longer one only in the blocks a
# page of candidates (or spans) touches, so a 1 MB brief never goes out whole
# from a page that lists its spans a page at a time.
WHOLE_TEXT_CHARS = 20_000


def _blocks_touching(blocks: list[tuple[int, int]], start: int, end: int) -> list[int]:
    """Indexes of the blocks that share a character with ``[start, end)``."""
    return [i for i, (b0, b1) in enumerate(blocks) if b0 < end and start < b1]


def passage_blocks(text: str, ranges: list[tuple[int, int]]) -> tuple[int, int, list[int] | None]:
    """Which part of ``text`` a page about ``ranges`` shows: ``(start, end, blocks)``.

    The whole text (``blocks`` None) when it is short; otherwise the blocks from
    the first to the last range (the first block when there is none).
    """
    if len(text) <= WHOLE_TEXT_CHARS:
        return 0, len(text), None
    blocks = sel.text_blocks(text)
    lo = min((a for a, _ in ranges), default=0)
    hi = max((b for _, b in ranges), default=1)
    only = _blocks_touching(blocks, lo, max(hi, lo + 1)) or [0]
    return blocks[only[0]][0], blocks[only[-1]][1], only


def render_blocks(
    text: str,
    spans: list[sel.SpanRow],
    label_names: dict[int, str],
    only: list[int] | None = None,
    oob: bool = False,
) -> str:
    """The text as HTML blocks of segments (see ``selectors.annotations.segments``).

    A segment is ``<span class="g" data-s=START data-k="IDS">``: ``data-s`` is its
    code point offset (annotate.js adds the offset inside it), ``data-k`` the
    ids of the spans covering it, outermost first. Its underline rows and tint
    come from CSS variables naming the labels' colours. Built as a string: it is
    the page's hot loop (2,000+ segments on a long brief).
    """
    blocks = sel.text_blocks(text)
    wanted = range(len(blocks)) if only is None else only
    per_block: dict[int, list[sel.SpanRow]] = {i: [] for i in wanted}
    starts = [b[0] for b in blocks]
    for span in spans:
        first = bisect.bisect_right(starts, span.start) - 1
        for i in range(max(first, 0), len(blocks)):
            if blocks[i][0] >= span.end:
                break
            if i in per_block:
                per_block[i].append(span)
    escape = html.escape
    out: list[str] = []
    swap = ' hx-swap-oob="true"' if oob else ""
    for i in wanted:
        b0 = blocks[i][0]
        out.append(f'<span class="blk" id="blk-{i}" data-s="{b0}"{swap}>')
        for seg in sel.segments(text, blocks[i], per_block[i]):
            chunk = escape(text[seg.start : seg.end], quote=False)
            if not seg.lanes:
                out.append(f'<span class="g" data-s="{seg.start}">{chunk}</span>')
                continue
            lanes = sorted(seg.lanes)
            ids = " ".join(str(seg.lanes[lane].id) for lane in lanes)
            inner = seg.lanes[lanes[-1]]
            style = ";".join(
                f"--u{min(lane, MAX_LANES - 1)}:var(--L{seg.lanes[lane].label_id})"
                for lane in lanes
            )
            depth = min(lanes[-1] + 1, MAX_LANES)
            tag = ""
            if seg.starting:
                names = "·".join(label_names.get(s.label_id, "?") for s in seg.starting)
                tag = f' data-t="{escape(names)}"'
            out.append(
                f'<span class="g n{depth}" data-s="{seg.start}" data-k="{ids}" '
                f'style="{style};--t:var(--L{inner.label_id})"{tag}>{chunk}</span>'
            )
        out.append("</span>")
    return "".join(out)


def render_plain_blocks(text: str, only: list[int] | None = None) -> str:
    """The text as blocks of plain escaped text (``<span class="blk" data-s=START>``).

    The annotation page's script draws the segments, chips and arcs into these
    blocks from the set's compact span data; without the script the brief is
    still there to read. ``only``: the indexes of the blocks to give (a passage).
    """
    escape = html.escape
    blocks = sel.text_blocks(text)
    wanted = range(len(blocks)) if only is None else only
    return "".join(
        f'<span class="blk" id="blk-{i}" data-s="{blocks[i][0]}">'
        f"{escape(text[blocks[i][0] : blocks[i][1]], quote=False)}</span>"
        for i in wanted
    )
