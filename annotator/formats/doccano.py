"""doccano's JSONL export of sequence labelling projects, read into records.

doccano writes one JSON object a line (its documentation, "Export data", and
``backend/data_export/pipeline`` of doccano/doccano): ``text`` and either
``label``, a list of ``[start_offset, end_offset, "Label"]`` (sequence
labelling), or ``entities`` (``id``, ``label``, ``start_offset``,
``end_offset``) with ``relations`` (``id``, ``from_id``, ``to_id``, ``type``)
when the project allows relations. Other keys (``id``, ``Comments``, metadata)
are kept in ``meta``. Offsets are Python string indices, code points, as
Warrant's: doccano's backend slices the text in Python.

Mapping, decided here: a line is a document (id ``doccano-<id>``, or its line
number); its spans and relations are one annotator's set, named by
``annotator=`` (the project member the export came from) or ``doccano``.
:func:`looks_like_doccano` tells a doccano line from a canonical JSONL line
(which has ``annotations`` or ``gold``) by its keys.
"""

from __future__ import annotations

import json

from annotator.formats._common import decode_utf8, first_line_title
from annotator.formats.bounded_json import JSONTooDeep, json_loads
from annotator.formats.records import (
    AnnotationRecord,
    DocumentRecord,
    FormatError,
    RelationRecord,
    SpanRecord,
)
from annotator.text.newlines import normalize_newlines

__all__ = ["looks_like_doccano", "read_doccano"]

_OWN_KEYS = ("text", "label", "entities", "relations")


def looks_like_doccano(first: object) -> bool:
    """Whether the first object of a JSONL file is a doccano line, not canonical JSONL."""
    return (
        isinstance(first, dict) and isinstance(first.get("text"), str)
        and ("label" in first or "entities" in first)
        and not ({"annotations", "gold", "format"} & set(first))
    )


def _offset(value, where: str, name: str, line: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise FormatError(f"{where}: offsets must be integers, not {value!r}", file=name,
                          line=line)
    return value


def read_doccano(data: bytes, *, name: str, annotator: str = "doccano") -> list[DocumentRecord]:
    """Read a doccano JSONL export (see the module docstring)."""
    records: list[DocumentRecord] = []
    for number, line in enumerate(decode_utf8(data, name=name).split("\n"), start=1):
        if not line.strip():
            continue
        try:
            value = json_loads(line)
        except json.JSONDecodeError as exc:
            raise FormatError(f"invalid JSON: {exc.msg}", file=name, line=number) from None
        except JSONTooDeep as exc:
            raise FormatError(f"the line {exc}", file=name, line=number) from None
        if not looks_like_doccano(value):
            raise FormatError("not a doccano line (text with label or entities)", file=name,
                              line=number)
        original = value["text"]
        text, offsets = normalize_newlines(original)
        spans: list[SpanRecord] = []
        if "entities" in value:
            entities = [(e.get("id"), e.get("start_offset"), e.get("end_offset"), e.get("label"))
                        for e in value.get("entities") or [] if isinstance(e, dict)]
        else:
            entities = [(None, *item) for item in value.get("label") or []
                        if isinstance(item, list) and len(item) == 3]
        for index, (eid, start, end, label) in enumerate(entities, start=1):
            span_id = f"T{eid if eid is not None else index}"
            where = f"span {span_id}"
            start, end = _offset(start, where, name, number), _offset(end, where, name, number)
            if not 0 <= start < end <= len(original):
                raise FormatError(f"{where}: ({start}, {end}) is outside the text", file=name,
                                  line=number)
            start, end = offsets.map(start), offsets.map(end)
            spans.append(SpanRecord(span_id, start, end, str(label), text[start:end]))
        ids = {span.id for span in spans}
        relations: list[RelationRecord] = []
        for item in value.get("relations") or []:
            source, target = f"T{item.get('from_id')}", f"T{item.get('to_id')}"
            if source not in ids or target not in ids:
                raise FormatError(f"relation {item.get('id')} joins spans that are not here",
                                  file=name, line=number)
            relations.append(RelationRecord(f"R{item.get('id', len(relations) + 1)}", source,
                                            target, str(item.get("type"))))
        doc_id = value.get("id")
        records.append(DocumentRecord(
            external_id=f"doccano-{doc_id if doc_id is not None else number}",
            text=text,
            title=first_line_title(text),
            meta={k: v for k, v in value.items() if k not in _OWN_KEYS},
            annotations=[AnnotationRecord(annotator=annotator, spans=spans,
                                          relations=relations)],
            original=line.encode("utf-8"),
            original_name=name,
            source_format="doccano",
        ))
    if not records:
        raise FormatError("the file holds no documents", file=name)
    return records
