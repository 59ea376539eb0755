"""Remove web-page boilerplate from briefs pasted or uploaded without offsets.

Briefs copied from a think tank's web page carry the page around them: a
"loader" line, section names and a photo credit above the headline, and
hundreds of navigation lines ("PR Short Notes", "PR Comments", "Home",
"Subscribe") below the last paragraph. Cleaning runs only on text that arrives
without offsets (plain text, Markdown, HTML); annotated imports are never
cleaned (../DESIGN.md, "Offsets").

Rules, applied to whole lines (a line is removed whole or kept whole):

1. **chrome** - a line of at most ``CHROME_MAX_CHARS`` that matches one of
   ``CHROME_PATTERNS`` (a loader, "Skip to content", "Advertisement", a photo or
   image credit such as "Photo: Reuters" or "Image credit Getty Images").
2. **repeated** - a short line (at most ``REPEATED_MAX_CHARS``) whose
   whitespace-collapsed, case-folded form occurs ``REPEATED_MIN_COUNT`` times or
   more: navigation printed once per menu, per page, per widget.
3. **menu** - before the first real line and after the last one, runs of
   boilerplate lines (chrome, repeated, or *menu items*: at most
   ``MENU_ITEM_MAX_WORDS`` words with no sentence punctuation) lose their menu
   items when the run holds at least ``MENU_MIN_RUN`` non-blank lines. A single
   short line above the text (a short headline) is therefore kept.

A *protected* line is never removed by any rule: a line that ends in sentence
punctuation (a short paragraph "We disagree."), a numbered or lettered item
("1. Russia's economy..."), or a parenthesised citation "(Reuters, 3 May 2024)".

When at least one line is removed, the blank lines left behind are collapsed
(at most one blank line between paragraphs) and leading and trailing blank
lines are stripped. When nothing is removed the text is returned unchanged,
byte for byte, and ``report.changed`` is False. When every line would go the
rules have misread the text, and it is also returned unchanged.

Known limits: a headline of ``MENU_ITEM_MAX_WORDS`` words or fewer right after
a menu is taken for a menu item; a short heading without punctuation that
occurs ``REPEATED_MIN_COUNT`` times in the article itself is taken for
navigation.
"""

from __future__ import annotations

import re
from collections import Counter

from annotator.formats.records import MAX_SAMPLES, CleaningReport

__all__ = [
    "CHROME_MAX_CHARS",
    "CHROME_PATTERNS",
    "MAX_SAMPLES",
    "MENU_ITEM_MAX_WORDS",
    "MENU_MIN_RUN",
    "REPEATED_MAX_CHARS",
    "REPEATED_MIN_COUNT",
    "clean_boilerplate",
]

# Navigation is printed once per menu and per widget; 3 copies of a short
# unpunctuated line almost never happen inside the prose of one brief.
REPEATED_MIN_COUNT = 3
# Menu entries and widget titles are short; a longer line is prose even when repeated.
REPEATED_MAX_CHARS = 60
# "PR Short Notes", "Contact us", "Home": menu entries have 1-3 words, while a
# brief's headline almost always has more.
MENU_ITEM_MAX_WORDS = 3
# One or two short lines above the text may be the headline and a date; a menu
# is longer.
MENU_MIN_RUN = 3
# A credit or a loader is one short line; a long line is a caption worth keeping.
CHROME_MAX_CHARS = 120

CHROME_PATTERNS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(pattern, re.IGNORECASE)
    for pattern in (
        r"loader|loading(\s*(\.\.\.|…))?",
        r"skip to (the )?(main )?content",
        r"advertisement|sponsored( content)?",
        # "Photo: Reuters", "Image credit: AP", "Photos | AFP", "Photo - Getty" (any dash)
        r"(photo|image|picture|pic)s?( credits?)?\s*[:|\u2013\u2014-]\s*\S.*",
        # "Image credit Getty Images", "Photo by Jane Doe", "Photo courtesy of NATO"
        r"(photo|image|picture)s?\s+(credits?|courtesy|by|via|source)\b.*",
        r"(credits?|source)\s*:\s*(getty|reuters|ap|afp|shutterstock|epa|anadolu)\b.*",
    )
)

# Closing quotes count: a quoted sentence ends inside them ("...," he said.")
_SENTENCE_END = re.compile("[.!?\u2026:;\"'\u201d\u2019\u00bb]\\s*$")
_NUMBERED = re.compile(r"^\s*(\d{1,3}|[a-zA-Z]|[ivxlcIVXLC]{1,6})[.)]\s+\S")
_CITATION = re.compile(r"^\s*\(.*\)\s*$")


def _key(line: str) -> str:
    return " ".join(line.split()).casefold()


def _is_protected(line: str) -> bool:
    return bool(_SENTENCE_END.search(line) or _NUMBERED.match(line) or _CITATION.match(line))


def _is_chrome(line: str) -> bool:
    stripped = line.strip()
    if len(stripped) > CHROME_MAX_CHARS:
        return False
    return any(pattern.fullmatch(stripped) for pattern in CHROME_PATTERNS)


def _is_menu_item(line: str) -> bool:
    words = line.split()
    return 0 < len(words) <= MENU_ITEM_MAX_WORDS and not _is_protected(line)


def _edge_run(indices: list[int], boilerplate: list[bool]) -> list[int]:
    """Non-blank line indices of the boilerplate run at one edge of the text."""
    run: list[int] = []
    for index in indices:
        if not boilerplate[index]:
            break
        run.append(index)
    return run


def clean_boilerplate(text: str) -> tuple[str, CleaningReport]:
    """Remove page chrome, repeated navigation and edge menus from ``text``.

    Parameters
    ----------
    text : str
        Text with ``\\n`` line ends (normalise first).

    Returns
    -------
    cleaned : str
        The text without boilerplate lines; ``text`` itself when nothing matched.
    report : CleaningReport
        Lines and characters removed, counts per rule (``"chrome"``,
        ``"repeated"``, ``"menu"``) and up to ``MAX_SAMPLES`` removed lines.

    Examples
    --------
    >>> page = "loader\\nHome\\nAnalysis\\nTeam\\n\\nWe should act now.\\n\\nHome\\nHome\\n"
    >>> cleaned, report = clean_boilerplate(page)
    >>> cleaned
    'We should act now.'
    >>> report.reasons
    {'chrome': 1, 'repeated': 3, 'menu': 2}
    """
    lines = text.split("\n")
    keys = [_key(line) for line in lines]
    blank = [not key for key in keys]
    counts = Counter(key for key in keys if key)

    reason: list[str | None] = [None] * len(lines)
    for index, line in enumerate(lines):
        if blank[index] or _is_protected(line):
            continue
        if _is_chrome(line):
            reason[index] = "chrome"
        elif len(keys[index]) <= REPEATED_MAX_CHARS and counts[keys[index]] >= REPEATED_MIN_COUNT:
            reason[index] = "repeated"

    boilerplate = [
        reason[i] is not None or (not blank[i] and _is_menu_item(lines[i]))
        for i in range(len(lines))
    ]
    non_blank = [i for i in range(len(lines)) if not blank[i]]
    leading = _edge_run(non_blank, boilerplate)
    trailing = _edge_run(non_blank[::-1], boilerplate) if len(leading) < len(non_blank) else []
    for run in (leading, trailing):
        if len(run) >= MENU_MIN_RUN:
            for index in run:
                if reason[index] is None:
                    reason[index] = "menu"

    report = CleaningReport()
    # Removing every line means the rules misread the text: keep it as it came.
    if not any(reason) or all(reason[i] for i in non_blank):
        return text, report

    kept: list[str] = []
    # (index in ``kept`` of the line that followed, reason, line) per removed line.
    removed: list[tuple[int, str, str]] = []
    for index, line in enumerate(lines):
        why = reason[index]
        if why is None:
            kept.append(line)
            continue
        removed.append((len(kept), why, line))
        report.removed_lines += 1
        report.reasons[why] = report.reasons.get(why, 0) + 1
        report.note_sample(line)

    cleaned, starts = _collapse_blank_lines(kept)
    report.removed_chars = len(text) - len(cleaned)
    report.removed = [[starts[following], why, line] for following, why, line in removed]
    return cleaned, report


def _collapse_blank_lines(lines: list[str]) -> tuple[str, list[int]]:
    """Join ``lines`` with at most one blank line between paragraphs, none at the ends.

    Also returns, for each of ``lines`` (and one past the last), the offset in the
    result of the first kept line at or after it.
    """
    out: list[str] = []
    # Index in ``out`` of the first line kept at or after each input line.
    next_out: list[int] = []
    for line in lines:
        if not line.strip():
            if out and out[-1] != "":
                out.append("")
            next_out.append(len(out))
            continue
        next_out.append(len(out))
        out.append(line)
    while out and out[-1] == "":
        out.pop()
    next_out.append(len(out))
    offsets = [0]
    for line in out:
        offsets.append(offsets[-1] + len(line) + 1)
    total = max(offsets[-1] - 1, 0)
    # A blank line is kept only between two non-blank ones, so an input blank line
    # points at the blank line itself: move it on to the line after.
    starts = []
    for index in next_out:
        while index < len(out) and out[index] == "":
            index += 1
        starts.append(min(offsets[index], total) if index < len(out) else total)
    return "\n".join(out), starts
