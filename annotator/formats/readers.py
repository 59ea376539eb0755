"""Read uploads, files and folders into document records, whatever their format.

Dispatch is on the file extension (``SUPPORTED_EXTENSIONS``): ``.txt``, ``.md``
/ ``.markdown``, ``.html`` / ``.htm`` (one document each), ``.jsonl`` (canonical
JSONL, many documents), annotated pairs (one document each) and ``.zip`` archives
of these. A ``.txt`` is read with the annotation file of the same name beside it
(in the same folder, archive folder or upload batch), and as plain text when there
is none:

- ``foo.txt`` + ``foo.ann`` - brat standoff (:mod:`annotator.formats.brat`);
- ``foo.txt`` + ``foo.ann.json`` - CDCP (:mod:`annotator.formats.cdcp`);
- ``foo.txt`` + ``foo.xml`` - arg-microtexts ``<arggraph>`` (:mod:`annotator.formats.microtexts`).

A brat pair takes the schema of the nearest ``annotation.conf`` in its folder or
above (:mod:`annotator.formats.brat_conf`; the import applies it).

An annotation file without its ``.txt`` is an error, and so is a ``.txt`` with more
than one of them. ``.ann.json`` and ``.xml`` are in ``PAIRED_EXTENSIONS``, read
only beside their ``.txt``: a lone ``.json`` is unsupported, as before. The ``.txt``
of a pair is never cleaned (its annotations count offsets in it).

A ``.pdf`` (:mod:`annotator.formats.pdf`) and a ``.docx``
(:mod:`annotator.formats.word`) are one document each, like a ``.txt``.

Containers (folders, archives) are read in name order, recursively; inside
them, hidden files (a path part starting with ``.``), ``__MACOSX/`` and files
of unsupported types are skipped, while a file given by name with an
unsupported type is an error. Errors inside an archive name the member as
``archive.zip/member/path``.

Archives are untrusted: they are read from memory with the bounds below, and an
archive that breaks one of them, or holds an absolute path, a ``..`` part or a
member that is not a regular file (a symbolic link, a device, a FIFO), is
refused whole before any member is read.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import re
import stat
import time
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path, PurePosixPath

from annotator.formats._common import decode_utf8, folder_roles
from annotator.formats.bounded_json import JSONTooDeep, json_loads
from annotator.formats.brat import read_brat
from annotator.formats.brat_conf import CONF_NAME, read_annotation_conf
from annotator.formats.cdcp import read_cdcp
from annotator.formats.doccano import looks_like_doccano, read_doccano
from annotator.formats.jsonl import read_jsonl
from annotator.formats.labelstudio import looks_like_labelstudio, read_labelstudio
from annotator.formats.microtexts import read_microtext
from annotator.formats.pdf import read_pdf
from annotator.formats.plaintext import read_html, read_markdown, read_text
from annotator.formats.records import DocumentRecord, FormatError
from annotator.formats.word import read_docx
from annotator.formats.xmi import TYPESYSTEM_NAME, read_xmi

__all__ = [
    "MAX_COMPRESSION_RATIO",
    "MAX_JOB_DOCUMENTS",
    "MAX_UNCOMPRESSED_BYTES",
    "MAX_UPLOAD_DOCUMENTS",
    "MAX_ZIP_MEMBERS",
    "MAX_ZIP_NESTING",
    "PAIRED_EXTENSIONS",
    "RATIO_CHECK_MIN_BYTES",
    "SUPPORTED_EXTENSIONS",
    "read_paths",
    "read_upload",
    "read_uploads",
]

SUPPORTED_EXTENSIONS: frozenset[str] = frozenset(
    {".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx", ".jsonl", ".ann", ".zip",
     ".json", ".xmi"}
)
# Annotation files read only with the .txt of the same name beside them. Kept apart
# from SUPPORTED_EXTENSIONS because ``.json`` and ``.xml`` alone are not documents.
PAIRED_EXTENSIONS: frozenset[str] = frozenset({".ann.json", ".xml"})

# A corpus of briefs is text: 200 MiB holds tens of thousands of them, and an
# import holds its whole archive in memory, so more is refused.
MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
# Each member becomes at least one document row; a class corpus has hundreds.
MAX_ZIP_MEMBERS = 10_000
# Prose deflates 3-10x; a member that shrinks more than 100x is repeated bytes,
# the signature of a zip bomb ...
MAX_COMPRESSION_RATIO = 100
# ... but a small file of repeated lines may compress that well honestly.
RATIO_CHECK_MIN_BYTES = 1024 * 1024
# One archive may hold archives (one per class), but no deeper.
MAX_ZIP_NESTING = 1
# An upload imported in the request is one transaction of a few seconds: like an
# archive's members, its documents number hundreds; a JSONL of a million one-line
# records is refused before it is parsed.
MAX_UPLOAD_DOCUMENTS = 10_000
# An import on the worker (a big upload, services.import_jobs) has no request's
# timeout: a whole big project (the scale target is 100,000 briefs) in one file.
MAX_JOB_DOCUMENTS = 200_000
# Reading reports its progress at most this often (seconds): a job writes it to its
# row, and its page polls once a second.
PROGRESS_INTERVAL = 0.25

_READERS = {
    ".txt": read_text,
    ".md": read_markdown,
    ".markdown": read_markdown,
    ".html": read_html,
    ".htm": read_html,
    ".pdf": read_pdf,
    ".docx": read_docx,
}
# Annotation file extension (read by _read_pair) -> what the file is called in errors.
_ANNOTATION_FILES = {
    ".ann": "a brat .ann file",
    ".ann.json": "a CDCP .ann.json file",
    ".xml": "an arg-microtexts .xml file",
}
_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:")


def _extension(name: str) -> str:
    """The lower-cased extension; ``.ann.json`` counts as one."""
    lowered = name.lower()
    if lowered.endswith(".ann.json"):
        return ".ann.json"
    return PurePosixPath(lowered.replace("\\", "/")).suffix


def _basename(name: str) -> str:
    return PurePosixPath(name.replace("\\", "/")).name


def _known(name: str) -> bool:
    if _basename(name).lower() == CONF_NAME:
        return True
    extension = _extension(name)
    return extension in SUPPORTED_EXTENSIONS or extension in PAIRED_EXTENSIONS


def _stem(name: str) -> str:
    """``name`` without its extension (as :func:`_extension` reads it), folders kept."""
    return name[: len(name) - len(_extension(name))]


def _size(count: int) -> str:
    mib = 1024 * 1024
    return f"{count // mib} MiB" if count >= mib else f"{count} bytes"


def _describe_supported() -> str:
    paired = ", ".join(sorted(PAIRED_EXTENSIONS))
    return f"{', '.join(sorted(SUPPORTED_EXTENSIONS))}; beside a .txt: {paired}"


class _Throttled:
    """``report(value)``, called at most once per ``interval`` seconds (the first time always)."""

    def __init__(self, report: Callable[[float], None], interval: float) -> None:
        self.report, self.interval, self.last = report, interval, None

    def __call__(self, value: float) -> None:
        now = time.monotonic()
        if self.last is None or now - self.last >= self.interval:
            self.last = now
            self.report(value)


class _Budget:
    """Bytes left to decompress for one top-level archive and its nested archives."""

    def __init__(self) -> None:
        self.remaining = MAX_UNCOMPRESSED_BYTES


def read_upload(name: str, data: bytes, *, clean: bool = True) -> list[DocumentRecord]:
    """Read one uploaded file.

    Parameters
    ----------
    name : str
        The file's name; its extension chooses the reader.
    data : bytes
        The file as uploaded.
    clean : bool
        Remove web-page boilerplate from documents without offsets.

    Returns
    -------
    list of DocumentRecord
        The documents, in order (one, or many for JSONL and archives).

    Raises
    ------
    FormatError
        On an unsupported extension, a lone ``.ann`` (upload it with its
        ``.txt`` through :func:`read_uploads` or in a ``.zip``), unsafe or
        oversized archives, and any reader's error.
    """
    return read_uploads([(name, data)], clean=clean)


def read_uploads(
    files: Sequence[tuple[str, bytes]], *, clean: bool = True,
    max_documents: int = MAX_UPLOAD_DOCUMENTS,
    progress: Callable[[float], None] | None = None,
    progress_interval: float | None = None,
) -> list[DocumentRecord]:
    """Read files uploaded together; ``foo.txt`` and its annotation file among them pair.

    Parameters
    ----------
    files : sequence of (str, bytes)
        ``(name, content)`` of every uploaded file.
    clean : bool
        Remove web-page boilerplate from documents without offsets.
    max_documents : int
        More documents than this are refused (a JSONL before it is parsed).
    progress : callable, optional
        Called with the share (0 to 1) of the files' bytes read so far, at most
        once per ``progress_interval`` seconds: within a JSONL line by line, for
        the other files (and archives) as each is read.
    progress_interval : float, optional
        Seconds between two calls of ``progress`` (``PROGRESS_INTERVAL`` by default).

    Returns
    -------
    list of DocumentRecord
        The documents, sorted by file name.

    Raises
    ------
    FormatError
        As :func:`read_upload`.
    """
    contents: dict[str, bytes] = {}
    for name, data in files:
        if name in contents:
            raise FormatError("uploaded twice", file=name)
        contents[name] = data
        if _extension(name) == ".jsonl" and data.count(b"\n") > max_documents:
            raise FormatError(
                f"more than {max_documents:,} lines; at most {max_documents:,} "
                "documents are read from one upload",
                file=name,
            )
    on_bytes = None
    if progress is not None:
        total = max(sum(len(data) for data in contents.values()), 1)
        throttled = _Throttled(progress, PROGRESS_INTERVAL if progress_interval is None
                               else progress_interval)
        on_bytes = lambda read: throttled(min(read / total, 1.0))  # noqa: E731
    records = _read_group(contents, clean=clean, strict=True, depth=0, budget=None,
                          progress=on_bytes)
    if len(records) > max_documents:
        raise FormatError(
            f"the upload holds {len(records):,} documents; at most "
            f"{max_documents:,} are read from one upload"
        )
    return records


def read_paths(paths: Sequence[str | os.PathLike], *, clean: bool = True) -> list[DocumentRecord]:
    """Read local files and folders.

    A folder is read recursively in name order: annotated pairs and every file of
    a supported type, hidden files and folders skipped. A ``.txt`` given by name
    is read with the annotation file beside it (``.ann``, ``.ann.json``, ``.xml``),
    and an annotation file given by name with the ``.txt`` beside it.

    Parameters
    ----------
    paths : sequence of str or PathLike
        Files and folders, read in the order given.
    clean : bool
        Remove web-page boilerplate from documents without offsets.

    Returns
    -------
    list of DocumentRecord
        The documents.

    Raises
    ------
    FormatError
        On a missing path, an unsupported file given by name, and any reader's error.
    """
    records: list[DocumentRecord] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            contents = _folder_contents(path)
            if not contents:
                raise FormatError(
                    f"no documents found (supported: {_describe_supported()})", file=str(path)
                )
            records += _read_group(contents, clean=clean, strict=False, depth=0, budget=None)
        elif path.is_file():
            contents = {str(path): _read_local(path)}
            for partner in _partners(path):
                contents[str(partner)] = _read_local(partner)
            records += _read_group(contents, clean=clean, strict=True, depth=0, budget=None)
        else:
            raise FormatError("no such file or folder", file=str(path))
    return records


def _partners(path: Path) -> list[Path]:
    """The files beside ``path`` that it pairs with: annotation files of a ``.txt``, or the
    ``.txt`` of an annotation file."""
    extension = _extension(path.name)
    stem = _stem(path.name)
    if extension == ".txt":
        candidates = [path.with_name(stem + suffix) for suffix in _ANNOTATION_FILES]
    elif extension in _ANNOTATION_FILES:
        candidates = [path.with_name(stem + ".txt")]
    else:
        return []
    return [candidate for candidate in candidates if candidate.is_file()]


def _read_local(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise FormatError(f"cannot read: {error.strerror}", file=str(path)) from None


def _is_hidden(parts: Sequence[str]) -> bool:
    return any(part.startswith(".") or part == "__MACOSX" for part in parts)


def _folder_contents(folder: Path) -> dict[str, bytes]:
    contents: dict[str, bytes] = {}
    for directory, subfolders, files in os.walk(folder):
        subfolders[:] = sorted(name for name in subfolders if not _is_hidden([name]))
        for name in sorted(files):
            if _is_hidden([name]) or not _known(name):
                continue
            path = Path(directory) / name
            contents[str(path)] = _read_local(path)
    return contents


def _read_group(
    contents: dict[str, bytes],
    *,
    clean: bool,
    strict: bool,
    depth: int,
    budget: _Budget | None,
    progress: Callable[[int], None] | None = None,
) -> list[DocumentRecord]:
    """Read files that sit together; ``strict`` refuses unsupported names; ``progress``
    is called with the bytes read so far (files in the order read)."""
    pairs, leftovers = _pair_files(contents)
    entries: list[tuple[str, str | None]] = [(txt, ann) for txt, ann in pairs]
    entries += [(name, None) for name in leftovers]
    entries.sort(key=lambda entry: entry[0])

    records: list[DocumentRecord] = []
    confs: dict[str, dict | None] = {}
    read = 0
    for name, ann_name in entries:
        if progress is not None:
            progress(read)
            read += len(contents[name]) + (len(contents[ann_name]) if ann_name else 0)
        if _basename(name).lower() in (TYPESYSTEM_NAME.lower(), CONF_NAME):
            continue  # read with the .xmi files / the brat collection beside it
        if ann_name is not None:
            record = _with_folder_roles(_read_pair(contents, name, ann_name), ann_name)
            if record.source_format == "brat":
                _with_conf(record, contents, ann_name, confs)
            records.append(record)
            continue
        extension = _extension(name)
        if extension in _ANNOTATION_FILES:
            txt_name = PurePosixPath(_stem(name).replace("\\", "/")).name + ".txt"
            raise FormatError(
                f"{_ANNOTATION_FILES[extension]} needs its text file {txt_name} beside it "
                "(upload both, or a .zip of them)",
                file=name,
            )
        if extension not in SUPPORTED_EXTENSIONS:
            if strict:
                raise FormatError(
                    f"unsupported file type {extension or '(none)'!r} "
                    f"(supported: {_describe_supported()})",
                    file=name,
                )
            continue
        data = contents[name]
        if extension == ".jsonl":
            in_file = None
            if progress is not None:
                def in_file(n: int, before: int = read - len(data)) -> None:
                    progress(before + n)
            records += [_with_folder_roles(r, name)
                        for r in _read_any_jsonl(data, name, progress=in_file)]
        elif extension == ".xmi":
            ts_name = _typesystem_for(contents, name)
            record = read_xmi(data, contents[ts_name], xmi_name=name, ts_name=ts_name)
            records.append(_with_folder_roles(record, name))
        elif extension == ".json":
            # A Label Studio export; any other JSON in a folder or archive is not ours.
            if strict or _is_labelstudio(data):
                records += read_labelstudio(data, name=name)
        elif extension == ".zip":
            records += _read_zip(name, data, clean=clean, depth=depth, budget=budget or _Budget())
        else:
            records.append(_READERS[extension](data, name=name, clean=clean))
    return records


def _nearest(contents: dict[str, bytes], name: str, wanted: str) -> str | None:
    """The file called ``wanted`` beside ``name`` or in the nearest folder above it."""
    folder = PurePosixPath(name.replace("\\", "/")).parent
    by_lower = {key.replace("\\", "/").lower(): key for key in contents}
    for place in (folder, *folder.parents):
        found = by_lower.get(str(place / wanted).lower().removeprefix("./"))
        if found is not None:
            return found
    return None


def _with_conf(record: DocumentRecord, contents: dict[str, bytes], ann_name: str,
               confs: dict[str, dict | None]) -> None:
    """Give a brat record the schema of its collection's ``annotation.conf``: the nearest
    one in its folder or above, as brat looks for it (brat's configuration page)."""
    conf_name = _nearest(contents, ann_name, CONF_NAME)
    if conf_name is None:
        return
    if conf_name not in confs:
        text = decode_utf8(contents[conf_name], name=conf_name)
        confs[conf_name] = read_annotation_conf(text, name=conf_name)
    if confs[conf_name] is not None:
        record.schema, record.schema_source = confs[conf_name], conf_name


def _typesystem_for(contents: dict[str, bytes], xmi_name: str) -> str:
    """The ``TypeSystem.xml`` nearest an ``.xmi``: beside it, or in a folder above it."""
    found = _nearest(contents, xmi_name, TYPESYSTEM_NAME)
    if found is not None:
        return found
    raise FormatError(
        f"a UIMA CAS XMI needs its {TYPESYSTEM_NAME} beside it (upload both, or a .zip of "
        "INCEpTION's export)", file=xmi_name,
    )


def _is_labelstudio(data: bytes) -> bool:
    try:
        return looks_like_labelstudio(json_loads(data.decode("utf-8-sig")))
    except (UnicodeDecodeError, json.JSONDecodeError, JSONTooDeep):
        return False


def _read_any_jsonl(
    data: bytes, name: str, *, progress: Callable[[int], None] | None = None
) -> list[DocumentRecord]:
    """Canonical JSONL or doccano's, told apart by the first line's keys."""
    first = next((line for line in data.split(b"\n", 64)[:64] if line.strip()), b"")
    try:
        value = json_loads(first.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError, JSONTooDeep):
        value = None  # read_jsonl names the problem
    if looks_like_doccano(value):
        return read_doccano(data, name=name)
    return read_jsonl(data, name=name, progress=progress)


def _with_folder_roles(record: DocumentRecord, name: str) -> DocumentRecord:
    """The record as its folders place it: a split (kept in ``meta``), and for a brat
    ``.ann`` under ``annotators/<name>/`` that annotator's set (``gold/``: the gold)."""
    annotator, _gold, split = folder_roles(name)
    if split and "split" not in record.meta:
        record.meta = {**record.meta, "split": split}
    if annotator and record.gold is None:
        record.annotations = [
            dataclasses.replace(a, annotator=annotator) if not a.annotator else a
            for a in record.annotations
        ]
    return record


def _pair_files(names) -> tuple[list[tuple[str, str]], list[str]]:
    """Split names into ``(txt, annotation file)`` pairs and the rest, like
    :func:`annotator.formats.brat.pair_brat_files` but for every ``_ANNOTATION_FILES`` type.

    A ``.txt`` with two annotation files of its name beside it is refused: which
    one holds its annotations is not ours to guess.
    """
    names = list(dict.fromkeys(names))
    by_stem: dict[str, dict[str, str]] = {}
    for name in names:
        extension = _extension(name)
        if extension == ".txt" or extension in _ANNOTATION_FILES:
            by_stem.setdefault(_stem(name.replace("\\", "/")), {})[extension] = name
    pairs: list[tuple[str, str]] = []
    paired: set[str] = set()
    for found in by_stem.values():
        annotations = [found[extension] for extension in _ANNOTATION_FILES if extension in found]
        if ".txt" not in found or not annotations:
            continue
        if len(annotations) > 1:
            listed = ", ".join(PurePosixPath(a.replace("\\", "/")).name for a in annotations)
            raise FormatError(
                f"more than one annotation file beside this text ({listed}); keep one",
                file=found[".txt"],
            )
        pairs.append((found[".txt"], annotations[0]))
        paired.update((found[".txt"], annotations[0]))
    leftovers = sorted(name for name in names if name not in paired)
    return sorted(pairs), leftovers


def _read_pair(contents: dict[str, bytes], txt_name: str, ann_name: str) -> DocumentRecord:
    txt, ann = contents[txt_name], contents[ann_name]
    extension = _extension(ann_name)
    if extension == ".ann":
        return read_brat(txt, ann, txt_name=txt_name, ann_name=ann_name)
    if extension == ".ann.json":
        return read_cdcp(txt, ann, txt_name=txt_name, ann_name=ann_name)
    return read_microtext(txt, ann, txt_name=txt_name, xml_name=ann_name)


# What a member's Unix file type is, when it is not a regular file.
_SPECIAL_FILES = (
    (stat.S_ISLNK, "a symbolic link"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a device"),
    (stat.S_ISSOCK, "a socket"),
)
_UNIX = 3  # ZipInfo.create_system of an archive made on Unix (APPNOTE.TXT 4.4.2)


def _special_file_kind(info: zipfile.ZipInfo) -> str | None:
    """"a symbolic link", "a FIFO", … for a member that is not a regular file, else None.

    Archives made on Unix keep the file's ``st_mode`` in the high 16 bits of the
    external attributes (Info-ZIP's convention); a symlink's data is its target
    path, which would otherwise import as a document. Archives from other
    systems carry no file type: their members are files.
    """
    if info.create_system != _UNIX:
        return None
    mode = info.external_attr >> 16
    return next((kind for test, kind in _SPECIAL_FILES if test(mode)), None)


def _read_zip(
    name: str, data: bytes, *, clean: bool, depth: int, budget: _Budget
) -> list[DocumentRecord]:
    if depth > MAX_ZIP_NESTING:
        raise FormatError(
            f"archives nested more than {MAX_ZIP_NESTING} deep are not read", file=name
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError):
        raise FormatError("not a valid .zip archive", file=name) from None

    with archive:
        members = [info for info in archive.infolist() if not info.is_dir()]
        if len(members) > MAX_ZIP_MEMBERS:
            raise FormatError(
                f"the archive holds {len(members)} files; at most {MAX_ZIP_MEMBERS} are read",
                file=name,
            )
        wanted: list[zipfile.ZipInfo] = []
        seen: set[str] = set()
        for info in members:
            member = info.filename
            where = f"{name}/{member}"
            parts = member.replace("\\", "/").split("/")
            if member.startswith(("/", "\\")) or _WINDOWS_DRIVE.match(member):
                raise FormatError("absolute path in archive, refused", file=where)
            if ".." in parts:
                raise FormatError("'..' in an archive path, refused", file=where)
            if member in seen:
                raise FormatError("the archive holds this path twice", file=where)
            special = _special_file_kind(info)
            if special:
                raise FormatError(f"{special}, not a regular file: refused", file=where)
            seen.add(member)
            if _is_hidden(parts) or not _known(member):
                continue
            if info.file_size >= RATIO_CHECK_MIN_BYTES and (
                info.file_size > MAX_COMPRESSION_RATIO * max(info.compress_size, 1)
            ):
                raise FormatError(
                    f"compressed {info.file_size // max(info.compress_size, 1)}:1 "
                    f"(more than {MAX_COMPRESSION_RATIO}:1), refused as a possible zip bomb",
                    file=where,
                )
            wanted.append(info)

        declared = sum(info.file_size for info in wanted)
        if declared > budget.remaining:
            raise FormatError(
                f"the archive unpacks to more than {_size(MAX_UNCOMPRESSED_BYTES)}",
                file=name,
            )
        contents: dict[str, bytes] = {}
        for info in wanted:
            where = f"{name}/{info.filename}"
            try:
                # zipfile stops at the declared size, so a lying header cannot
                # make this read more than the budget that was checked above.
                content = archive.read(info)
            except RuntimeError:
                raise FormatError("encrypted archive members are not read", file=where) from None
            except NotImplementedError:
                raise FormatError("unsupported compression method", file=where) from None
            except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:
                raise FormatError(f"damaged archive member: {error}", file=where) from None
            budget.remaining -= len(content)
            contents[where] = content

    if not contents:
        raise FormatError(
            f"no documents found in the archive (supported: {_describe_supported()})", file=name
        )
    return _read_group(contents, clean=clean, strict=False, depth=depth + 1, budget=budget)
