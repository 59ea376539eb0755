"""Characters that PostgreSQL cannot store in a text column or in jsonb.

PostgreSQL refuses NUL (U+0000) in text and jsonb, and a lone UTF-16
surrogate (U+D800-U+DFFF, which Python strings can hold after decoding a JSON
escape such as ``"\\ud83d"``) cannot be encoded as UTF-8 at all. Input is
checked for them before it is written, so the error names the input instead
of surfacing as a database failure.
"""

from __future__ import annotations

import re

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def first_unstorable(text: str) -> int | None:
    """Index of the first NUL or lone surrogate in ``text``, or None.

    >>> first_unstorable("fine 😀")
    >>> first_unstorable("bad\\x00")
    3
    """
    match = _UNSTORABLE.search(text)
    return match.start() if match else None


def unstorable_in(value: object) -> str | None:
    """The first string inside a JSON-like value that holds an unstorable character."""
    if isinstance(value, str):
        return value if first_unstorable(value) is not None else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = unstorable_in(key) or unstorable_in(item)
            if found is not None:
                return found
    elif isinstance(value, list | tuple):
        for item in value:
            found = unstorable_in(item)
            if found is not None:
                return found
    return None
