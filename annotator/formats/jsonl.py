"""Canonical JSONL: one document per line, lossless (../DESIGN.md, "Canonical JSONL").

A line (version 2; its JSON Schema is ``docs/jsonl-schema.json``)::

    {"format": "warrant/2", "id": "brief-171", "title": "...", "text": "...",
     "meta": {"split": "train"},
     "annotations": [{"annotator": "alice", "status": "submitted", "due": "2031-05-17",
                      "spans": [{"id": "T1", "start": 0, "end": 42, "label": "Claim",
                                 "text": "...", "attributes": {"stance": "for"}}],
                      "relations": [{"id": "R1", "source": "T2", "target": "T1",
                                     "type": "supports", "attributes": {}}]}],
     "gold": {"final": true, "spans": [], "relations": []}}

Version 2 adds ``format``, the gold's ``final`` mark (a gold the file marks
``submitted`` without saying is final), a set's ``due`` date and relations'
``attributes``. Lines without ``format`` are version 1 and read as before; a
document's split, when the corpus has one, is ``meta.split``.

Reading is strict, because a silently misread offset corrupts a dataset: every
key is known, every type is checked, ``0 <= start < end <= len(text)``, a
span's ``text`` (redundant) must equal the document text at its offsets, span
and relation ids are unique within an annotation set, relations join spans of
the same set, and document ids are unique within the file. A span may also
carry ``note`` (a string). ``gold`` may be ``null`` or absent.

CRLF and CR in ``text`` are normalised to ``\\n`` and the offsets moved with
them; spans' ``text`` is checked against the text as written in the file. The
text is never cleaned. Records read here always carry ``SpanRecord.text``, the
canonical text at the span's offsets, so ``read_jsonl(dump_document(r))`` gives
``r`` back for any record read from a file.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Iterator

from annotator.formats._common import decode_utf8
from annotator.formats.bounded_json import JSONTooDeep, json_loads
from annotator.formats.records import (
    AnnotationRecord,
    DocumentRecord,
    FormatError,
    OffsetMove,
    RelationRecord,
    SpanRecord,
)
from annotator.text.newlines import OffsetMap, normalize_newlines

__all__ = ["dump_document", "dump_jsonl", "read_jsonl"]

#: A byte order mark some editors put first; the file is read without it.
_BOM_BYTES = b"\xef\xbb\xbf"
#: The ``format`` field of every line this module writes.
FORMAT = "warrant/2"
_DOCUMENT_KEYS = ("format", "id", "title", "text", "meta", "annotations", "gold")
_ANNOTATION_KEYS = ("annotator", "status", "due", "final", "spans", "relations")
_SPAN_KEYS = ("id", "start", "end", "label", "text", "attributes", "note")
_RELATION_KEYS = ("id", "source", "target", "type", "attributes")
_RELATION_REQUIRED = ("id", "source", "target", "type")


class _LineError(Exception):
    """A problem in one JSONL line; becomes a FormatError with file and line."""


def _lines(data: bytes) -> Iterator[tuple[bytes, int]]:
    """``data.split(b"\\n")`` one line at a time, each with the number of bytes read
    once it is: a 100 MB file is neither copied into a list of lines nor decoded
    whole beside its records."""
    start = 0
    while (end := data.find(b"\n", start)) >= 0:
        yield data[start:end], end + 1
        start = end + 1
    yield data[start:], len(data)


def read_jsonl(
    data: bytes, *, name: str, progress: Callable[[int], None] | None = None
) -> list[DocumentRecord]:
    """Read canonical JSONL.

    Parameters
    ----------
    data : bytes
        The file as uploaded (UTF-8, optional byte order mark).
    name : str
        File name, used in errors.
    progress : callable, optional
        Called after each line with the number of bytes of ``data`` read so
        far (throttle it: it is called once a line).

    Returns
    -------
    list of DocumentRecord
        One record per non-blank line, in file order; ``source_format`` is
        ``"jsonl"``, ``original`` the line's bytes and ``original_name`` ``name``.

    Raises
    ------
    FormatError
        On the first invalid line, naming the file, the line and (for a span)
        the span id.

    Examples
    --------
    >>> line = '{"id": "b1", "text": "We act.", "annotations": [{"annotator": "ann",'
    >>> line += ' "spans": [{"id": "T1", "start": 0, "end": 6, "label": "Claim"}]}]}'
    >>> [record] = read_jsonl(line.encode(), name="x.jsonl")
    >>> record.annotations[0].spans[0].text
    'We act'
    """
    bom = len(_BOM_BYTES) if data.startswith(_BOM_BYTES) else 0
    records: list[DocumentRecord] = []
    first_line_of: dict[str, int] = {}
    for number, (raw, read) in enumerate(_lines(data), start=1):
        if progress is not None:
            progress(read)
        if number == 1:
            raw = raw[bom:]
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            decode_utf8(data, name=name)  # raises FormatError naming the file and the byte
            raise
        if not line.strip():
            continue
        try:
            record = _read_document(line)
        except _LineError as error:
            raise FormatError(str(error), file=name, line=number) from None
        if record.external_id in first_line_of:
            raise FormatError(
                f"duplicate document id {record.external_id!r} "
                f"(first on line {first_line_of[record.external_id]})",
                file=name,
                line=number,
            )
        first_line_of[record.external_id] = number
        record.original = raw.rstrip(b"\r")
        record.original_name = name
        record.line = number
        records.append(record)
    if not records:
        raise FormatError("the file holds no documents", file=name)
    return records


def _refuse_constant(value: str):
    raise _LineError(f"{value} is not allowed in JSON")


def _no_duplicate_keys(pairs):
    result = {}
    for key, value in pairs:
        if key in result:
            raise _LineError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _read_document(line: str) -> DocumentRecord:
    try:
        value = json_loads(
            line, object_pairs_hook=_no_duplicate_keys, parse_constant=_refuse_constant
        )
    except json.JSONDecodeError as error:
        raise _LineError(f"invalid JSON: {error.msg} (column {error.colno})") from None
    except JSONTooDeep as error:
        raise _LineError(f"the line {error}") from None
    where = "document"
    _check_object(value, where, _DOCUMENT_KEYS, required=("id", "text"))
    if "format" in value and value["format"] != FORMAT:
        raise _LineError(f"format {value['format']!r} is not one this Warrant reads ({FORMAT})")
    external_id = _string(value, "id", where, required=True)
    if not external_id:
        raise _LineError("document id is empty")
    where = f"document {external_id!r}"
    original_text = _string(value, "text", where, required=True)
    title = _string(value, "title", where)
    meta = {} if value.get("meta") is None else value["meta"]
    if not isinstance(meta, dict):
        raise _LineError(f"{where}: meta must be an object")
    text, offsets = normalize_newlines(original_text)

    annotations_value = [] if value.get("annotations") is None else value["annotations"]
    if not isinstance(annotations_value, list):
        raise _LineError(f"{where}: annotations must be a list")
    moved: list[OffsetMove] = []
    annotations = [
        _read_annotation(item, f"annotations[{index}]", original_text, text, offsets, moved)
        for index, item in enumerate(annotations_value)
    ]
    gold_value = value.get("gold")
    gold = None
    if gold_value is not None:
        gold = _read_annotation(gold_value, "gold", original_text, text, offsets, moved)
    return DocumentRecord(
        external_id=external_id,
        text=text,
        title=title,
        meta=meta,
        annotations=annotations,
        gold=gold,
        source_format="jsonl",
        moved=moved,
    )


def _read_annotation(
    value, where: str, original_text: str, text: str, offsets: OffsetMap,
    moved: list[OffsetMove],
) -> AnnotationRecord:
    _check_object(value, where, _ANNOTATION_KEYS, required=())
    is_gold = where == "gold"
    annotation = AnnotationRecord(
        annotator=_string(value, "annotator", where),
        status=_string(value, "status", where) or "submitted",
        due=_string(value, "due", where),
    )
    if annotation.annotator:
        where = f"{where} ({annotation.annotator})"
    if annotation.due:
        try:
            dt.date.fromisoformat(annotation.due)
        except ValueError:
            raise _LineError(f"{where}: due {annotation.due!r} is not a date (YYYY-MM-DD)") \
                from None
    final = value.get("final")
    if final is not None:
        if not is_gold:
            raise _LineError(f"{where}: only the gold has a final mark")
        if not isinstance(final, bool):
            raise _LineError(f"{where}: final must be true or false")
        annotation.final = final
    for key in ("spans", "relations"):
        if not isinstance(value.get(key, []), list):
            raise _LineError(f"{where}: {key} must be a list")

    for item in value.get("spans", []):
        span = _read_span(item, where, original_text, text, offsets)
        if (span.start, span.end) != (item["start"], item["end"]):
            moved.append(OffsetMove(annotation.annotator, span.id, item["start"], item["end"],
                                    span.start, span.end, "CRLF line ends became \\n"))
        if any(existing.id == span.id for existing in annotation.spans):
            raise _LineError(f"{where}: duplicate span id {span.id!r}")
        annotation.spans.append(span)
    span_ids = {span.id for span in annotation.spans}
    relation_ids: set[str] = set()
    for item in value.get("relations", []):
        _check_object(item, f"{where} relation", _RELATION_KEYS, required=_RELATION_REQUIRED)
        relation = RelationRecord(
            **{
                key: _string(item, key, f"{where} relation", required=True)
                for key in _RELATION_REQUIRED
            }
        )
        attributes = item.get("attributes", {})
        if not isinstance(attributes, dict):
            raise _LineError(f"{where}: relation {relation.id} attributes must be an object")
        relation.attributes = attributes
        if relation.id in relation_ids:
            raise _LineError(f"{where}: duplicate relation id {relation.id!r}")
        relation_ids.add(relation.id)
        for role in ("source", "target"):
            if getattr(relation, role) not in span_ids:
                raise _LineError(
                    f"{where}: relation {relation.id} {role} {getattr(relation, role)!r} "
                    "is not a span of this annotation set"
                )
        annotation.relations.append(relation)
    return annotation


def _read_span(value, where: str, original_text: str, text: str, offsets: OffsetMap):
    _check_object(value, f"{where} span", _SPAN_KEYS, required=("id", "start", "end", "label"))
    span_id = _string(value, "id", f"{where} span", required=True)
    where = f"{where} span {span_id}"
    start, end = value["start"], value["end"]
    for key, offset in (("start", start), ("end", end)):
        if isinstance(offset, bool) or not isinstance(offset, int):
            raise _LineError(f"{where}: {key} must be an integer, not {offset!r}")
    if not 0 <= start < end <= len(original_text):
        raise _LineError(
            f"{where}: offsets ({start}, {end}) are outside the text "
            f"({len(original_text)} characters) or empty"
        )
    label = _string(value, "label", where, required=True)
    if not label:
        raise _LineError(f"{where}: label is empty")
    given = value.get("text")
    if given is not None:
        if not isinstance(given, str):
            raise _LineError(f"{where}: text must be a string")
        if given != original_text[start:end]:
            raise _LineError(
                f"{where}: text {_clip(given)!r} does not match the document text at "
                f"({start}, {end}) {_clip(original_text[start:end])!r}"
            )
    attributes = value.get("attributes", {})
    if not isinstance(attributes, dict):
        raise _LineError(f"{where}: attributes must be an object")
    new_start, new_end = offsets.map(start), offsets.map(end)
    return SpanRecord(
        id=span_id,
        start=new_start,
        end=new_end,
        label=label,
        text=text[new_start:new_end],
        attributes=attributes,
        note=_string(value, "note", where),
    )


def _check_object(value, where: str, allowed: tuple[str, ...], required: Iterable[str]) -> None:
    if not isinstance(value, dict):
        raise _LineError(f"{where} must be a JSON object")
    unknown = [key for key in value if key not in allowed]
    if unknown:
        raise _LineError(f"{where}: unknown key {unknown[0]!r} (allowed: {', '.join(allowed)})")
    for key in required:
        if key not in value:
            raise _LineError(f"{where}: missing key {key!r}")


def _string(value: dict, key: str, where: str, *, required: bool = False) -> str:
    item = value.get(key)
    if item is None and not required:
        return ""
    if not isinstance(item, str):
        raise _LineError(f"{where}: {key} must be a string, not {type(item).__name__}")
    return item


def _clip(value: str, limit: int = 40) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


# --- writing ------------------------------------------------------------------


_LINE_BREAKERS = (("\u2028", "\\u2028"), ("\u2029", "\\u2029"), ("\x85", "\\u0085"))


def _span_object(span: SpanRecord, text: str) -> dict:
    item = {
        "id": span.id,
        "start": span.start,
        "end": span.end,
        "label": span.label,
        # Redundant on purpose: a reader can check the offsets with it.
        "text": text[span.start : span.end],
        "attributes": span.attributes,
    }
    if span.note:
        item["note"] = span.note
    return item


def _annotation_object(annotation: AnnotationRecord, text: str, *, gold: bool) -> dict:
    item: dict = {}
    # The gold of a document has no annotator and needs no status unless set.
    if not gold or annotation.annotator:
        item["annotator"] = annotation.annotator
    if not gold or annotation.status != "submitted":
        item["status"] = annotation.status
    if annotation.due:
        item["due"] = annotation.due
    if gold:
        item["final"] = (annotation.status == "submitted" if annotation.final is None
                         else annotation.final)
    item["spans"] = [_span_object(span, text) for span in annotation.spans]
    item["relations"] = [
        {"id": r.id, "source": r.source, "target": r.target, "type": r.type,
         "attributes": r.attributes}
        for r in annotation.relations
    ]
    return item


def dump_document(record: DocumentRecord) -> str:
    """Return one canonical JSONL line (no trailing newline) for ``record``.

    Keys come in the order of ../DESIGN.md; non-ASCII characters are written as
    they are. ``original``, ``original_name``, ``source_format`` and
    ``cleaning`` describe the upload, not the document, and are not written.

    Parameters
    ----------
    record : DocumentRecord
        A document whose span offsets point into ``record.text``.

    Returns
    -------
    str
        The line; ``read_jsonl`` of it gives the same document back.

    Examples
    --------
    >>> line = dump_document(DocumentRecord(external_id="b1", text="Act 👍"))
    >>> line[:58]
    '{"format":"warrant/2","id":"b1","title":"","text":"Act 👍",'
    >>> line[58:]
    '"meta":{},"annotations":[],"gold":null}'
    """
    document = {
        "format": FORMAT,
        "id": record.external_id,
        "title": record.title,
        "text": record.text,
        "meta": record.meta,
        "annotations": [
            _annotation_object(annotation, record.text, gold=False)
            for annotation in record.annotations
        ],
        "gold": None
        if record.gold is None
        else _annotation_object(record.gold, record.text, gold=True),
    }
    return _encode_line(document)


def _encode_line(document: dict) -> str:
    line = json.dumps(document, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    # Python's str.splitlines() and some editors break lines at these; they can
    # only occur inside JSON strings, where the escape means the same character.
    for char, escape in _LINE_BREAKERS:
        line = line.replace(char, escape)
    return line


def dump_jsonl(records: Iterable[DocumentRecord]) -> str:
    """Return a whole JSONL file: one :func:`dump_document` line per record."""
    return "".join(f"{dump_document(record)}\n" for record in records)
