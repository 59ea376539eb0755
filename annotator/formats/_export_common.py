"""Helpers the multi-file exporters share: safe file names and the sets of a document."""

from __future__ import annotations

import hashlib
import re
import zipfile
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from annotator.formats.records import AnnotationRecord, DocumentRecord

#: Folder (brat, AIF) or file stem (CoNLL) of the gold standard; annotators go
#: under ``annotators/`` so that a user called "gold" cannot clash with it.
GOLD_FOLDER = "gold"
ANNOTATORS_FOLDER = "annotators"

_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}")
_UNSAFE_CHAR = re.compile(r"[^A-Za-z0-9._@+-]")
# Windows refuses these as file names whatever the extension.
_RESERVED = re.compile(r"(con|prn|aux|nul|com\d|lpt\d)(\..*)?", re.IGNORECASE)


def safe_file_stem(name: str) -> str:
    """A file name stem for ``name`` that is safe in a zip and on every file system.

    A name of letters, digits and ``._@+-`` (not starting with ``.``, at most
    100 characters) is kept as it is; any other name is replaced by its safe
    characters plus the first 8 hex digits of its SHA-1, so two different
    names never share a file.

    Examples
    --------
    >>> safe_file_stem("brief-171")
    'brief-171'
    >>> safe_file_stem("../etc/passwd")
    'etcpasswd-e96c47ea'
    """
    if _SAFE.fullmatch(name) and not name.endswith(".") and not _RESERVED.fullmatch(name):
        return name
    digest = hashlib.sha1(name.encode("utf-8")).hexdigest()[:8]
    kept = _UNSAFE_CHAR.sub("", name).strip(".")[:80]
    return f"{kept}-{digest}" if kept else digest


def annotation_sets(record: DocumentRecord) -> Iterator[tuple[str, AnnotationRecord]]:
    """``(folder, annotation)`` for the gold (``gold``) then each annotator
    (``annotators/<safe name>``), in record order."""
    if record.gold is not None:
        yield GOLD_FOLDER, record.gold
    for annotation in record.annotations:
        yield f"{ANNOTATORS_FOLDER}/{safe_file_stem(annotation.annotator)}", annotation


class AppendingFiles:
    """Text files written a piece at a time, by relative path, with few open at once.

    A class of hundreds of annotators has a file each; keeping them all open
    could run out of file descriptors, so at most ``MAX_OPEN_FILES`` stay
    open and the others are reopened for appending when written again.
    """

    MAX_OPEN_FILES = 32

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self._open: OrderedDict[str, TextIO] = OrderedDict()
        self._seen: set[str] = set()

    def is_new(self, name: str) -> bool:
        return name not in self._seen

    def write(self, name: str, data: str) -> None:
        fh = self._open.get(name)
        if fh is None:
            path = self.folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            mode = "a" if name in self._seen else "w"
            fh = open(path, mode, encoding="utf-8", newline="\n")  # noqa: SIM115 (cached)
            self._seen.add(name)
            self._open[name] = fh
            while len(self._open) > self.MAX_OPEN_FILES:
                _, oldest = self._open.popitem(last=False)
                oldest.close()
        else:
            self._open.move_to_end(name)
        fh.write(data)

    def names(self) -> list[str]:
        return sorted(self._seen)

    def close(self) -> None:
        while self._open:
            _, fh = self._open.popitem()
            fh.close()

    def __enter__(self) -> AppendingFiles:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


#: Zip members carry this date, so that the same data gives the same archive bytes.
ZIP_DATE_TIME = (1980, 1, 1, 0, 0, 0)


class FolderSink:
    """Files written whole, by relative path, into a folder."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self._made: set[Path] = set()

    def write_text(self, name: str, text: str) -> None:
        path = self.folder / name
        if path.parent not in self._made:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._made.add(path.parent)
        with open(path, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)


class ZipSink:
    """Files written whole, by relative path, as members of an open ``zipfile.ZipFile``.

    Writing members straight into the archive spares one file per member on
    disk, which costs more than the compression on slow file systems.
    """

    def __init__(self, archive: zipfile.ZipFile):
        self.archive = archive

    def write_text(self, name: str, text: str) -> None:
        info = zipfile.ZipInfo(name, date_time=ZIP_DATE_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        self.archive.writestr(info, text.encode("utf-8"))
