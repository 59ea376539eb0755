"""Lines, sentences and word tokens of a brief, with their code point offsets.

The recommenders read a brief the way its author laid it out: a line (a
paragraph, a heading, a numbered item) is never crossed by a sentence, and a
sentence ends at ``.``, ``!`` or ``?`` (with any closing quotes or brackets)
before whitespace and a capital, a digit or an opening quote or bracket, but
not after a common abbreviation ("St.", "No.", "e.g.") or an initial, nor inside
parentheses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Sentence", "lines", "sentences", "word_tokens"]

_LINE = re.compile(r"[^\n]+")
# A word, a number with its inner separators (1,200 / 8.5 / 2019-20), or one other mark.
_WORD = re.compile("\\w+(?:[.,'\u2019\\-]\\w+)*|[^\\w\\s]")
# Closing and opening quotation marks, straight and curly (\u201d \u2019, \u201c \u2018).
_END = re.compile("[.!?]+[\"'\u201d\u2019)\\]]*(?=\\s+[\"'\u201c\u2018(\\[]?[A-Z0-9])")
_ABBREVIATION_WORDS = (
    "st dr mr mrs ms prof no nos vs etc eg ie al fig figs jan feb mar apr jun jul aug sep sept "
    "oct nov dec co inc ltd jr sr gen gov rep sen approx ca cf op vol pp ed eds"
)
_ABBREVIATIONS = frozenset(_ABBREVIATION_WORDS.split())


@dataclass(frozen=True, slots=True)
class Sentence:
    """``text[start:end]``: one sentence, on line number ``line`` (0-based, non-empty lines)."""

    start: int
    end: int
    line: int
    first_in_line: bool


def lines(text: str) -> list[tuple[int, int]]:
    """The ``(start, end)`` of every line that holds more than whitespace.

    >>> lines("Title\\n\\n1. First.\\n")
    [(0, 5), (7, 16)]
    """
    out = []
    for match in _LINE.finditer(text):
        start = match.start()
        stripped = match.group()
        left = len(stripped) - len(stripped.lstrip())
        right = len(stripped.rstrip())
        if right > left:
            out.append((start + left, start + right))
    return out


def _abbreviation_before(text: str, dot: int, line_start: int) -> bool:
    word = re.search(r"(\w+(?:\.\w+)*)$", text[line_start:dot])
    if word is None:
        return False
    token = word.group(1).replace(".", "").lower()
    return token in _ABBREVIATIONS or (len(word.group(1)) == 1 and word.group(1).isupper())


def sentences(text: str) -> list[Sentence]:
    """The sentences of ``text``, line by line.

    >>> [text[s.start:s.end] for text in ["See St. Mary's (Herald, 2025). It is. 2. New"]
    ...  for s in sentences(text)]
    ["See St. Mary's (Herald, 2025).", 'It is.', '2. New']
    """
    out: list[Sentence] = []
    for number, (lo, hi) in enumerate(lines(text)):
        start = lo
        first = True
        depth = 0
        cursor = lo
        for match in _END.finditer(text, lo, hi):
            dot = match.start()
            depth += text.count("(", cursor, dot) - text.count(")", cursor, dot)
            cursor = dot
            if depth > 0 or _abbreviation_before(text, dot, lo):
                continue
            # "1. Reason" opens a numbered item: the number is not a sentence of its own.
            if text[start:dot].strip().isdigit():
                continue
            end = match.end()
            out.append(Sentence(start, end, number, first))
            first = False
            start = end
            while start < hi and text[start].isspace():
                start += 1
        if start < hi:
            out.append(Sentence(start, hi, number, first))
    return out


def word_tokens(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Word and punctuation tokens (finer than the ``\\S+`` tokens of agreement, so that a
    span can end before a full stop or a closing bracket).

    >>> text = 'fell (Herald, 2025): "no".'
    >>> [text[a:b] for a, b in word_tokens(text)]
    ['fell', '(', 'Herald', ',', '2025', ')', ':', '"', 'no', '"', '.']
    """
    return [m.span() for m in _WORD.finditer(text, start, len(text) if end is None else end)]
