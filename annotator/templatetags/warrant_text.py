"""``{% boundary_editor text start end label_id %}``: a span's passage with handles on its edges.

Curation's "Edit" form moves a candidate's start and end with the mouse (drag
handles) or the keys (Shift+arrows the end, Alt+Shift+arrows the start), as
the annotation page does (boundary.js); the number fields stay the form's
values, and the page works without the script.
"""

from __future__ import annotations

import html

from django import template
from django.utils.safestring import mark_safe

from annotator.text.quote import quote

register = template.Library()


@register.filter
def quoted(text: str, limit: int = 40) -> str:
    """A span's text cut at a word for a list line (``annotator.text.quote``)."""
    return quote(str(text), limit=int(limit))

# Text shown on either side of the span, so that its edges can move into it.
CONTEXT_CHARS = 160
_BUTTONS = (("start", -1, "&larr; start"), ("start", 1, "start &rarr;"),
            ("end", -1, "&larr; end"), ("end", 1, "end &rarr;"))


def _cut(text: str, start: int, end: int) -> tuple[int, int]:
    """The passage around ``[start, end)``: about CONTEXT_CHARS each side, cut at a space."""
    lo = max(0, start - CONTEXT_CHARS)
    hi = min(len(text), end + CONTEXT_CHARS)
    if lo > 0:
        space = text.find(" ", lo, start)
        lo = space + 1 if space >= 0 else lo
    if hi < len(text):
        space = text.rfind(" ", end, hi)
        hi = space if space >= 0 else hi
    return lo, hi


@register.simple_tag
def boundary_editor(text: str, start: int, end: int, label_id: int) -> str:
    lo, hi = _cut(text, start, end)
    passage = html.escape(text[lo:hi], quote=False)
    return mark_safe(  # the passage is escaped above; the rest is fixed markup and integers
        f'<div class="boundary-edit" data-label="{int(label_id)}" tabindex="0" role="group"'
        ' aria-label="The span in its passage: Shift+arrows move its end by a word,'
        ' Alt+Shift+arrows its start; or drag the handles">'
        '<div class="boundary-wrap"><div class="boundary-text doc-text compact-text" dir="auto">'
        f'<span class="blk" data-s="{lo}">{passage}</span></div>'
        '<div class="handles" aria-hidden="true"></div></div>'
        '<p class="boundary-buttons">'
        + "".join(
            f'<button type="button" class="secondary" data-move="{edge}" data-dir="{step}">'
            f"{words}</button>"
            for edge, step, words in _BUTTONS
        )
        + '</p><p class="boundary-now muted" aria-live="polite"></p></div>'
    )
