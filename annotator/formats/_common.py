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


#: Folder names that say which split of a corpus a file belongs to (AbstRCT's
#: train/ and test/, "neoplasm_train", a dev/ folder...).
SPLIT_NAMES = ("train", "dev", "test", "validation", "valid", "val")
#: How far up from a file its folders are read for a split or an annotator.
_ROLE_DEPTH = 3


def folder_roles(name: str) -> tuple[str | None, bool, str | None]:
    """What a file's folders say: ``(annotator, is_gold, split)``.

    A brat export of Warrant keeps ``gold/`` and ``annotators/<name>/``; a corpus
    keeps ``train/``, ``test/`` or ``dev/`` (also as a suffix: ``neoplasm_train``).
    Only the three folders nearest the file count, so that where the corpus sits
    on a disk does not.

    >>> folder_roles("export/annotators/alice/brief-1.ann")
    ('alice', False, None)
    >>> folder_roles("abstrct/train/neoplasm_train/10561201.ann")
    (None, False, 'train')
    >>> folder_roles("gold/b.ann"), folder_roles("b.ann")
    ((None, True, None), (None, False, None))
    """
    folders = PurePosixPath(name.replace("\\", "/")).parts[:-1][-_ROLE_DEPTH:]
    annotator, gold, split = None, False, None
    for index, folder in enumerate(folders):
        if folder == "annotators" and index + 1 < len(folders):
            annotator = folders[index + 1]
        elif folder == "gold":
            gold = True
    for folder in reversed(folders):
        lowered = folder.lower()
        for candidate in SPLIT_NAMES:
            if lowered == candidate or lowered.endswith(("_" + candidate, "-" + candidate)):
                split = candidate
                break
        if split:
            break
    return annotator, gold and annotator is None, split
