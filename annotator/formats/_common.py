"""Helpers shared by the readers: decoding, document ids from file names, titles."""

from __future__ import annotations

import re
import unicodedata
from pathlib import PurePosixPath

from annotator.formats.records import FormatError
from annotator.text.titles import TITLE_MAX_CHARS, clip_title, pick_title

__all__ = [
    "TITLE_MAX_CHARS",
    "base_name",
    "clip_title",
    "decode_utf8",
    "external_id_from_name",
    "first_line_title",
    "stem",
]

_BOM = "\ufeff"
_SLUG_DROP = re.compile(r"[^\w\s.-]")
_SLUG_DASH = re.compile(r"[-\s]+")


def decode_utf8(data: bytes, *, name: str) -> str:
    """Decode ``data`` as UTF-8 without a byte order mark; FormatError names ``name``."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise FormatError(
            f"not valid UTF-8 (byte {error.start}: {data[error.start : error.start + 1]!r}); "
            "save the file as UTF-8 and upload it again",
            file=name,
        ) from None
    return text.removeprefix(_BOM)


def base_name(name: str) -> str:
    """The last component of a path with ``/`` or ``\\`` separators."""
    return PurePosixPath(name.replace("\\", "/")).name


def stem(name: str) -> str:
    """File name without folders and without its last extension."""
    return PurePosixPath(base_name(name)).stem


def external_id_from_name(name: str) -> str:
    """A stable document id from a file name: its stem, slugified (Django's rule).

    The same file name always gives the same id, so a re-import finds the
    document again. Unicode letters are kept, so non-Latin names stay distinct.
    """
    value = unicodedata.normalize("NFKC", stem(name))
    value = _SLUG_DROP.sub("", value.lower())
    value = _SLUG_DASH.sub("-", value).strip("-_.")
    return value or "document"


def first_line_title(text: str) -> str:
    """The first line that is not a date, byline or series line (else the first
    line), trimmed and cut to ``TITLE_MAX_CHARS``: see :mod:`annotator.text.titles`."""
    return pick_title([], text=text)[0]
