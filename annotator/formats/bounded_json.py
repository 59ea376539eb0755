"""JSON that nests at most ``MAX_JSON_DEPTH`` lists and objects.

Python's ``json`` parser recurses once per level: ``[[[[…]]]]`` a hundred
thousand deep raises ``RecursionError`` (a 500 page, a traceback), and a
value nested just under the recursion limit parses, then breaks whatever
handles it next (``json.dumps`` when it is stored, a recursive check). Every
way JSON comes in (an API body, a JSONL line, a schema file, a CDCP file, a
backup) reads it through :func:`json_loads`, which turns both into
:class:`JSONTooDeep`, a ``ValueError`` the caller reports in one line.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["MAX_JSON_DEPTH", "JSONTooDeep", "json_loads", "nests_too_deep"]

#: No argument data nests a tenth as deep (a document line is about eight
#: levels with attributes), and a hundred leaves room under Python's recursion
#: limit (1,000) for the code that stores and writes the value afterwards.
MAX_JSON_DEPTH = 100


class JSONTooDeep(ValueError):
    """The JSON nests lists or objects deeper than ``MAX_JSON_DEPTH``."""

    def __init__(self, limit: int = MAX_JSON_DEPTH):
        super().__init__(f"nests lists or objects more than {limit} deep")


def nests_too_deep(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether a parsed JSON value has lists or objects more than ``limit`` deep.

    Iterative, so that it cannot itself run out of stack.

    >>> nests_too_deep([[1]], limit=2), nests_too_deep([[[1]]], limit=2)
    (False, True)
    >>> nests_too_deep({"a": {"b": []}}, limit=3), nests_too_deep("[[[", limit=1)
    (False, False)
    """
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children
                     if isinstance(child, dict | list))
    return False


def json_loads(text: str | bytes, *, limit: int = MAX_JSON_DEPTH, **kwargs) -> Any:
    """``json.loads(text, **kwargs)`` that raises :class:`JSONTooDeep` for deep nesting.

    Malformed JSON still raises ``json.JSONDecodeError``.

    >>> json_loads('{"a": [1, 2]}')
    {'a': [1, 2]}
    >>> json_loads("[" * 5 + "]" * 5, limit=4)
    Traceback (most recent call last):
    ...
    annotator.formats.bounded_json.JSONTooDeep: nests lists or objects more than 4 deep
    >>> json_loads("[" * 100_000 + "]" * 100_000)
    Traceback (most recent call last):
    ...
    annotator.formats.bounded_json.JSONTooDeep: nests lists or objects more than 100 deep
    """
    try:
        value = json.loads(text, **kwargs)
    except RecursionError:
        raise JSONTooDeep(limit) from None
    if nests_too_deep(value, limit):
        raise JSONTooDeep(limit)
    return value
