"""Label Studio's JSON export of text tasks: spans (``labels``) and relations, read into records.

The file is a list of tasks, as Label Studio documents "Label Studio JSON format
of annotated tasks" (https://labelstud.io/guide/task_format, and the export
guide ``docs/source/guide/export.md`` of HumanSignal/label-studio 1.13): each
task has ``data`` (the text under the key the labelling config names, ``text``
by default), and ``annotations``, each with ``completed_by`` (a user id, or a
user object with an ``email``), ``was_cancelled``, ``ground_truth`` and a
``result`` list. A result of ``type`` ``labels`` is a span: ``id``,
``value.start``, ``value.end``, ``value.text``, ``value.labels``; a result of
``type`` ``relation`` links two results by ``from_id`` and ``to_id`` with
``labels`` (relation types) and ``direction`` (``right``, ``left`` or ``bi``).

Mapping, decided here:

- a task is a document (id ``task-<id>``); the text is ``data.text`` or the only
  string of ``data``;
- an annotation is the set of its ``completed_by`` (``labelstudio-<id>`` for a
  numeric id, the user's e-mail or username when the export holds it); a
  ``ground_truth`` annotation is the gold; a cancelled annotation is skipped;
- a span with several labels becomes one span per label (Warrant spans have one);
- a relation with several labels becomes one relation per label, with no label a
  relation of type ``related``; ``direction: left`` swaps source and target;
  ``bi`` is written as ``right`` (Warrant's undirected types are a schema matter);
- offsets: Label Studio measures the text in the browser. Each span's offsets
  are checked against its ``value.text``: in code points first, then in UTF-16
  code units (JavaScript's), and converted; a span that matches neither is a
  :class:`FormatError` naming the task and the result.

Export (:func:`labelstudio_task`), so that a team can move to Label Studio and back:
one task per document, ``data`` holding ``text``, ``title`` and ``warrant_id`` (the
document's id, which the reader takes back instead of ``task-<id>``); one annotation
per submitted set and one with ``ground_truth: true`` for the gold, each naming its
annotator in ``completed_by.username`` (and ``warrant_annotator``, which the reader
prefers: Label Studio replaces ``completed_by`` with its own users on import); span
offsets in UTF-16 code units with the ``value.text`` they cover, as Label Studio
writes them; relations ``direction: right`` with the type as their label. Span
attributes and notes have no place in a ``labels`` result: the export's summary
counts them as left out.
"""

from __future__ import annotations

import json

from annotator.formats._common import clip_title, decode_utf8, first_line_title
from annotator.formats.bounded_json import JSONTooDeep, json_loads
from annotator.formats.records import (
    AnnotationRecord,
    DocumentRecord,
    FormatError,
    OffsetMove,
    RelationRecord,
    SpanRecord,
)
from annotator.text.newlines import normalize_newlines
from annotator.text.utf16 import codepoints_to_utf16, utf16_to_codepoints

__all__ = ["labelstudio_task", "looks_like_labelstudio", "read_labelstudio"]

#: The type of a relation exported without a label.
UNLABELLED_RELATION = "related"


def looks_like_labelstudio(value: object) -> bool:
    """Whether parsed JSON is a Label Studio export: a list of tasks with ``data``."""
    return (
        isinstance(value, list) and bool(value)
        and all(isinstance(task, dict) and "data" in task for task in value)
    )


def _who(annotation: dict) -> str:
    if isinstance(annotation.get("warrant_annotator"), str) and annotation["warrant_annotator"]:
        return annotation["warrant_annotator"]
    who = annotation.get("completed_by")
    if isinstance(who, dict):
        who = who.get("email") or who.get("username") or who.get("id")
    return f"labelstudio-{who}" if isinstance(who, int) else str(who or "labelstudio")


def _text_of(task: dict, where: str, name: str) -> str:
    data = task["data"]
    if not isinstance(data, dict):
        raise FormatError(f"{where}: data must be an object", file=name)
    if isinstance(data.get("text"), str):
        return data["text"]
    strings = [v for v in data.values() if isinstance(v, str)]
    if len(strings) != 1:
        raise FormatError(f"{where}: data has no text (expected data.text)", file=name)
    return strings[0]


def _span_offsets(text: str, value: dict, where: str, name: str) -> tuple[int, int]:
    start, end, given = value.get("start"), value.get("end"), value.get("text")
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (start, end)):
        raise FormatError(f"{where}: value.start and value.end must be integers", file=name)
    if 0 <= start < end <= len(text) and (given is None or text[start:end] == given):
        return start, end
    try:
        cp_start, cp_end = utf16_to_codepoints(text, start), utf16_to_codepoints(text, end)
    except ValueError:
        cp_start = cp_end = -1
    if 0 <= cp_start < cp_end <= len(text) and (given is None or text[cp_start:cp_end] == given):
        return cp_start, cp_end
    raise FormatError(
        f"{where}: offsets ({start}, {end}) do not fit the task's text"
        + (f" (its value.text is {given[:40]!r})" if isinstance(given, str) else ""),
        file=name,
    )


def read_labelstudio(data: bytes, *, name: str) -> list[DocumentRecord]:
    """Read a Label Studio JSON export (see the module docstring).

    Raises
    ------
    FormatError
        A file that is not a list of tasks, a task without text, a span whose
        offsets do not fit its text, a relation to a result that is not a span.
    """
    try:
        tasks = json_loads(decode_utf8(data, name=name))
    except json.JSONDecodeError as exc:
        raise FormatError(f"not valid JSON: {exc.msg}", file=name, line=exc.lineno) from None
    except JSONTooDeep as exc:
        raise FormatError(f"the file {exc}", file=name) from None
    if not looks_like_labelstudio(tasks):
        raise FormatError("not a Label Studio export (a list of tasks with data)", file=name)
    records: list[DocumentRecord] = []
    for number, task in enumerate(tasks, start=1):
        task_id = task.get("id", number)
        where = f"task {task_id}"
        original = _text_of(task, where, name)
        text, offsets = normalize_newlines(original)
        annotations: list[AnnotationRecord] = []
        gold = None
        moved: list[OffsetMove] = []
        for annotation in task.get("annotations") or []:
            if not isinstance(annotation, dict) or annotation.get("was_cancelled"):
                continue
            who = _who(annotation)
            spans: list[SpanRecord] = []
            ids_of: dict[str, list[str]] = {}
            links: list[dict] = []
            for item in annotation.get("result") or []:
                if not isinstance(item, dict):
                    raise FormatError(f"{where}: a result must be an object", file=name)
                if item.get("type") == "relation":
                    links.append(item)
                    continue
                value = item.get("value") or {}
                labels = value.get("labels") or value.get("hypertextlabels")
                if item.get("type") not in ("labels", "hypertextlabels") or not labels:
                    continue  # choices, ratings, text areas: not spans
                rid = str(item.get("id") or f"r{len(ids_of) + 1}")
                start, end = _span_offsets(original, value, f"{where} result {rid}", name)
                start, end = offsets.map(start), offsets.map(end)
                for label in labels:
                    span_id = f"{rid}" if len(labels) == 1 else f"{rid}-{label}"
                    spans.append(SpanRecord(span_id, start, end, str(label), text[start:end]))
                    ids_of.setdefault(rid, []).append(span_id)
                if (start, end) != (value["start"], value["end"]):
                    moved.append(OffsetMove(who, rid, value["start"], value["end"], start, end,
                                            "UTF-16 offsets and line ends"))
            relations: list[RelationRecord] = []
            for item in links:
                source, target = str(item.get("from_id")), str(item.get("to_id"))
                if item.get("direction") == "left":
                    source, target = target, source
                for end in (source, target):
                    if end not in ids_of:
                        raise FormatError(
                            f"{where}: a relation refers to {end!r}, which is no span", file=name
                        )
                for type_name in item.get("labels") or [UNLABELLED_RELATION]:
                    for s in ids_of[source]:
                        for t in ids_of[target]:
                            relations.append(RelationRecord(
                                f"R{len(relations) + 1}", s, t, str(type_name)))
            record = AnnotationRecord(annotator="" if annotation.get("ground_truth") else who,
                                      spans=spans, relations=relations)
            if annotation.get("ground_truth") and gold is None:
                gold = record
            else:
                if not record.annotator:
                    record.annotator = who
                annotations.append(record)
        title = task.get("data", {}).get("title")
        warrant_id = task["data"].get("warrant_id")
        records.append(DocumentRecord(
            external_id=warrant_id if isinstance(warrant_id, str) and warrant_id
            else f"task-{task_id}",
            text=text,
            title=clip_title(title) if isinstance(title, str) else first_line_title(text),
            meta={"labelstudio_task": task_id},
            annotations=annotations,
            gold=gold,
            original=json.dumps(task, ensure_ascii=False).encode("utf-8"),
            original_name=name,
            source_format="labelstudio",
            moved=moved,
        ))
    return records


def labelstudio_task(record: DocumentRecord, number: int) -> dict:
    """The Label Studio task of one document (see "Export" in the module docstring).

    >>> from annotator.formats.records import SpanRecord
    >>> gold = AnnotationRecord(spans=[SpanRecord("T1", 2, 5, "Claim")])
    >>> task = labelstudio_task(DocumentRecord("b1", "👍 act", gold=gold), 1)
    >>> task["annotations"][0]["result"][0]["value"]
    {'start': 3, 'end': 6, 'text': 'act', 'labels': ['Claim']}
    """
    text = record.text
    annotations = []
    sets = [*([record.gold] if record.gold is not None else []), *record.annotations]
    for aset in sets:
        is_gold = aset is record.gold
        result: list[dict] = []
        for span in aset.spans:
            result.append({
                "id": span.id, "from_name": "label", "to_name": "text", "type": "labels",
                "origin": "manual",
                "value": {"start": codepoints_to_utf16(text, span.start),
                          "end": codepoints_to_utf16(text, span.end),
                          "text": text[span.start:span.end], "labels": [span.label]},
            })
        for relation in aset.relations:
            result.append({"from_id": relation.source, "to_id": relation.target,
                           "type": "relation", "direction": "right",
                           "labels": [relation.type]})
        who = "" if is_gold else aset.annotator
        annotations.append({
            "id": len(annotations) + 1, "completed_by": {"username": who or "gold"},
            "warrant_annotator": who, "was_cancelled": False, "ground_truth": is_gold,
            "result": result,
        })
    return {"id": number, "data": {"text": text, "title": record.title,
                                   "warrant_id": record.external_id},
            "annotations": annotations, "predictions": []}
