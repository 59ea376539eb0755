"""CDCP (Cornell eRulemaking Corpus, Park & Cardie 2018): ``id.txt`` + ``id.ann.json``.

``id.ann.json`` holds ``prop_labels[i]`` (value, testimony, policy, fact,
reference), ``prop_offsets[i] = [start, end)`` in code points of ``id.txt``,
``reasons`` and ``evidences`` as lists of ``[[first, last], target]`` with
0-based proposition indices, and ``url`` mapping a proposition index (a string)
to the URL replaced by ``__URL__`` in the text (corpus ``readme.txt``, section 3).

Mapping to Warrant, decided here:

- each proposition becomes a span ``T<i+1>`` labelled with its CDCP label;
  propositions tile the text and carry the spaces between them, so each span is
  trimmed of leading and trailing whitespace (spans then start and end on tokens,
  which agreement by token and exact-match F1 expect);
- a replaced URL becomes the span attribute ``{"url": ...}``;
- a reason or evidence link from the range ``[first, last]`` becomes one relation
  per proposition of the range (``reason`` / ``evidence``, source -> target),
  because a Warrant relation joins two spans; ids ``R1...`` in file order. When
  the range holds several propositions, their relations share the attribute
  ``{"group": "<key>-<n>"}`` (the n-th link of ``reasons`` or ``evidences``), so
  that the link can be put together again;
- every span whose offsets the trimming moved is listed (``DocumentRecord.moved``)
  for the import report.

Like brat and JSONL, this text arrives with offsets: it is never cleaned, and
CRLF is normalised with offsets moved.
"""

from __future__ import annotations

import json

from annotator.formats._common import decode_utf8, external_id_from_name, first_line_title
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
from annotator.text.tokens import trim_whitespace

__all__ = ["RELATION_TYPES", "read_cdcp"]

# CDCP key -> Warrant relation type.
RELATION_TYPES = {"reasons": "reason", "evidences": "evidence"}


def read_cdcp(
    txt_bytes: bytes, ann_bytes: bytes, *, txt_name: str, ann_name: str
) -> DocumentRecord:
    """Read one CDCP comment and its propositions.

    Parameters
    ----------
    txt_bytes, ann_bytes : bytes
        ``id.txt`` and ``id.ann.json`` as uploaded.
    txt_name, ann_name : str
        Their names, for the document id and errors.

    Returns
    -------
    DocumentRecord
        One annotation set (annotator ``""``, status ``"submitted"``);
        ``source_format`` ``"cdcp"``, ``original`` the ``.txt`` bytes.

    Raises
    ------
    FormatError
        If the JSON is malformed, an offset is outside the text, a proposition
        is only whitespace, or a link names a missing proposition.
    """
    original_text = decode_utf8(txt_bytes, name=txt_name)
    text, offsets = normalize_newlines(original_text)
    try:
        data = json_loads(decode_utf8(ann_bytes, name=ann_name))
    except json.JSONDecodeError as error:
        raise FormatError(f"invalid JSON: {error.msg}", file=ann_name, line=error.lineno) from None
    except JSONTooDeep as error:
        raise FormatError(f"the file {error}", file=ann_name) from None
    if not isinstance(data, dict):
        raise FormatError("expected a JSON object", file=ann_name)

    labels = data.get("prop_labels")
    positions = data.get("prop_offsets")
    if not isinstance(labels, list) or not isinstance(positions, list):
        raise FormatError("prop_labels and prop_offsets must be lists", file=ann_name)
    if len(labels) != len(positions):
        raise FormatError(
            f"{len(labels)} prop_labels but {len(positions)} prop_offsets", file=ann_name
        )
    urls = data.get("url") or {}
    if not isinstance(urls, dict):
        raise FormatError("url must be an object", file=ann_name)

    spans: list[SpanRecord] = []
    moved: list[OffsetMove] = []
    for index, (label, position) in enumerate(zip(labels, positions, strict=True)):
        span_id = f"T{index + 1}"
        if (
            not isinstance(label, str)
            or not label
            or not isinstance(position, list)
            or len(position) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in position)
        ):
            raise FormatError(
                f"proposition {index} ({span_id}): expected a label and [start, end]",
                file=ann_name,
            )
        start, end = position
        if not 0 <= start < end <= len(original_text):
            raise FormatError(
                f"proposition {index} ({span_id}) [{start}, {end}] is outside the text "
                f"({len(original_text)} characters) or empty",
                file=ann_name,
            )
        try:
            given = start, end
            start, end = trim_whitespace(text, offsets.map(start), offsets.map(end))
        except ValueError:
            raise FormatError(
                f"proposition {index} ({span_id}) holds only whitespace", file=ann_name
            ) from None
        if (start, end) != given:
            moved.append(OffsetMove("", span_id, *given, start, end,
                                    "whitespace at the ends trimmed"
                                    if (offsets.map(given[0]), offsets.map(given[1])) == given
                                    else "CRLF line ends and whitespace"))
        attributes = {"url": urls[str(index)]} if str(index) in urls else {}
        spans.append(SpanRecord(span_id, start, end, label, text[start:end], attributes))

    relations: list[RelationRecord] = []
    for key, relation_type in RELATION_TYPES.items():
        links = data.get(key) or []
        if not isinstance(links, list):
            raise FormatError(f"{key} must be a list", file=ann_name)
        for number, link in enumerate(links, start=1):
            sources, target = _link(link, key, len(spans), ann_name)
            group = {"group": f"{key}-{number}"} if len(sources) > 1 else {}
            for source in sources:
                relations.append(
                    RelationRecord(
                        f"R{len(relations) + 1}", f"T{source + 1}", f"T{target + 1}",
                        relation_type, dict(group),
                    )
                )

    return DocumentRecord(
        external_id=external_id_from_name(txt_name),
        text=text,
        title=first_line_title(text),
        annotations=[AnnotationRecord(annotator="", spans=spans, relations=relations)],
        original=txt_bytes,
        original_name=txt_name,
        source_format="cdcp",
        moved=moved,
    )


def _link(link, key: str, count: int, ann_name: str) -> tuple[range, int]:
    try:
        (first, last), target = link
        values = (first, last, target)
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            raise TypeError
    except (TypeError, ValueError):
        raise FormatError(
            f"{key}: expected [[first, last], target], got {link!r}", file=ann_name
        ) from None
    if not (0 <= first <= last < count and 0 <= target < count):
        raise FormatError(
            f"{key}: link {link!r} names a proposition outside 0..{count - 1}", file=ann_name
        )
    return range(first, last + 1), target
