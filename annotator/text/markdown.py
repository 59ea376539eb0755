"""Project guidelines: Markdown rendered to HTML, then sanitised.

Guidelines are written by managers but read by everyone, so the HTML that
Markdown makes (which passes raw HTML through) is cleaned with nh3 (the Rust
``ammonia`` sanitiser) down to formatting tags and safe links.
"""

from __future__ import annotations

import markdown as _markdown
import nh3

__all__ = ["render_markdown"]

_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "dl", "dt", "em", "h1", "h2",
    "h3", "h4", "h5", "h6", "hr", "i", "kbd", "li", "mark", "ol", "p", "pre", "s", "strong",
    "sub", "sup", "table", "tbody", "td", "th", "thead", "tr", "ul",
}
_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "th": {"align"}, "td": {"align"}}


def render_markdown(text: str) -> str:
    """Return safe HTML for Markdown ``text``.

    Examples
    --------
    >>> render_markdown("Mark the **major claim**.")
    '<p>Mark the <strong>major claim</strong>.</p>'
    >>> render_markdown('<script>alert(1)</script>[x](javascript:alert(1))')
    '<p><a rel="noopener noreferrer">x</a></p>'
    """
    html = _markdown.markdown(text or "", extensions=["tables", "sane_lists"])
    return nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    ).strip()
