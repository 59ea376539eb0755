"""Helpers shared by the readers: decoding, document ids from file names, titles."""

from __future__ import annotations

import re
import unicodedata
from pathlib import PurePosixPath

from annotator.formats.records import FormatError

# A title is shown in lists and page headers; longer first lines are cut.
TITLE_MAX_CHARS = 200

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
    """The first non-empty line, trimmed and cut to ``TITLE_MAX_CHARS``."""
    for line in text.split("\n"):
        line = line.strip()
        if line:
            return clip_title(line)
    return ""


def clip_title(title: str) -> str:
    """Collapse whitespace and cut ``title`` to ``TITLE_MAX_CHARS``."""
    return " ".join(title.split())[:TITLE_MAX_CHARS].rstrip()
