"""CSV export: a spans file and a relations file, for ``pandas.read_csv``.

The export is two files (in a zip, or a folder):

``spans.csv`` (``CSV_COLUMNS``): one row per span. ``document`` (the document
id), ``annotator`` (the annotator's username, or ``gold`` for the gold
standard), ``span_id``, ``label``, ``start``, ``end`` (code points into the
document's canonical text, ``start`` inclusive, ``end`` exclusive), ``text``
(the covered text), ``attributes`` (a JSON object) and ``note``.

``relations.csv`` (``RELATION_COLUMNS``): one row per relation. ``document``,
``annotator``, ``relation_id``, ``type``, ``source_span_id`` and
``target_span_id`` (the ``span_id`` of its source and target in ``spans.csv``)
and ``attributes`` (a JSON object). A span id is unique within one document's
set of one annotator, so the two files join on ``(document, annotator,
span_id)``::

    spans = pd.read_csv("spans.csv", keep_default_na=False, dtype=str)
    relations = pd.read_csv("relations.csv", keep_default_na=False, dtype=str)
    key = ["document", "annotator"]
    pairs = (relations
             .merge(spans.add_prefix("source_"), left_on=key + ["source_span_id"],
                    right_on=["source_document", "source_annotator", "source_span_id"])
             .merge(spans.add_prefix("target_"), left_on=key + ["target_span_id"],
                    right_on=["target_document", "target_annotator", "target_span_id"]))

Both files are UTF-8 without a byte order mark, comma-separated, quoted where
needed (RFC 4180, Python's ``csv`` module in its ``excel`` dialect), with
``\\n`` line ends; a span's text may hold line breaks inside its quotes.
Every text is written exactly as it is: this is data for pandas, not a sheet
for a spreadsheet (the spreadsheet downloads neutralise formulas,
:mod:`annotator.text.spreadsheet`; this export must not change a span's text).

Only submitted work: the files have no status column, so an export holds the
annotation sets that annotators submitted and the gold; a set still assigned
or in progress is left out (by ``annotator.services.exports``, whose summary
counts them). The canonical JSONL export keeps every set with its status.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TextIO

from annotator.formats.records import AnnotationRecord, DocumentRecord

__all__ = [
    "CSV_COLUMNS",
    "GOLD_ANNOTATOR",
    "RELATIONS_NAME",
    "RELATION_COLUMNS",
    "SPANS_NAME",
    "relation_rows",
    "span_rows",
    "write_csv_files",
]

CSV_COLUMNS = (
    "document",
    "annotator",
    "span_id",
    "label",
    "start",
    "end",
    "text",
    "attributes",
    "note",
)
RELATION_COLUMNS = (
    "document",
    "annotator",
    "relation_id",
    "type",
    "source_span_id",
    "target_span_id",
    "attributes",
)
#: The two files of the export.
SPANS_NAME = "spans.csv"
RELATIONS_NAME = "relations.csv"
#: What the ``annotator`` column says for the gold standard.
GOLD_ANNOTATOR = "gold"


def _annotation_sets(record: DocumentRecord) -> Iterator[tuple[str, AnnotationRecord]]:
    if record.gold is not None:
        yield GOLD_ANNOTATOR, record.gold
    for annotation in record.annotations:
        yield annotation.annotator, annotation


def _json(attributes: dict) -> str:
    return json.dumps(attributes, ensure_ascii=False, sort_keys=True)


def span_rows(record: DocumentRecord) -> Iterator[tuple]:
    """Yield one row (a tuple in ``CSV_COLUMNS`` order) per span of ``record``.

    The gold comes first, then the annotators in record order; spans in record order.

    Examples
    --------
    >>> from annotator.formats.records import AnnotationRecord, SpanRecord
    >>> doc = DocumentRecord("b1", "We act now.", gold=AnnotationRecord(
    ...     spans=[SpanRecord("T1", 0, 6, "Claim", attributes={"sure": True})]))
    >>> next(span_rows(doc))
    ('b1', 'gold', 'T1', 'Claim', 0, 6, 'We act', '{"sure": true}', '')
    """
    for who, annotation in _annotation_sets(record):
        for span in annotation.spans:
            yield (
                record.external_id,
                who,
                span.id,
                span.label,
                span.start,
                span.end,
                record.text[span.start : span.end],
                _json(span.attributes),
                span.note,
            )


def relation_rows(record: DocumentRecord) -> Iterator[tuple]:
    """Yield one row (a tuple in ``RELATION_COLUMNS`` order) per relation of ``record``.

    The sets come in the order of :func:`span_rows`; relations in record order.

    Examples
    --------
    >>> from annotator.formats.records import AnnotationRecord, RelationRecord, SpanRecord
    >>> doc = DocumentRecord("b1", "We act now.", gold=AnnotationRecord(
    ...     spans=[SpanRecord("T1", 0, 6, "Claim"), SpanRecord("T2", 7, 10, "Reason")],
    ...     relations=[RelationRecord("R1", "T2", "T1", "supports")]))
    >>> next(relation_rows(doc))
    ('b1', 'gold', 'R1', 'supports', 'T2', 'T1', '{}')
    """
    for who, annotation in _annotation_sets(record):
        for relation in annotation.relations:
            yield (
                record.external_id,
                who,
                relation.id,
                relation.type,
                relation.source,
                relation.target,
                _json(relation.attributes),
            )


def _writer(fh: TextIO):
    return csv.writer(fh, lineterminator="\n")


def write_csv_files(records: Iterable[DocumentRecord], folder: Path) -> tuple[int, int]:
    """Write ``spans.csv`` and ``relations.csv`` into ``folder``, a record at a time.

    Returns
    -------
    (int, int)
        The span rows and relation rows written (headers not counted).
    """
    spans = relations = 0
    with (
        open(Path(folder) / SPANS_NAME, "w", encoding="utf-8", newline="\n") as span_fh,
        open(Path(folder) / RELATIONS_NAME, "w", encoding="utf-8", newline="\n") as rel_fh,
    ):
        span_writer, relation_writer = _writer(span_fh), _writer(rel_fh)
        span_writer.writerow(CSV_COLUMNS)
        relation_writer.writerow(RELATION_COLUMNS)
        for record in records:
            for row in span_rows(record):
                span_writer.writerow(row)
                spans += 1
            for row in relation_rows(record):
                relation_writer.writerow(row)
                relations += 1
    return spans, relations
