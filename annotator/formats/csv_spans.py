"""CSV export: one row per span, for spreadsheets and ``pandas.read_csv``.

Columns (``CSV_COLUMNS``): ``document`` (the document id), ``annotator`` (the
annotator's username, or ``gold`` for the gold standard), ``span_id``,
``label``, ``start``, ``end`` (code points into the document's canonical text,
``start`` inclusive, ``end`` exclusive), ``text`` (the covered text),
``attributes`` (a JSON object) and ``note``.

The file is UTF-8 without a byte order mark, comma-separated, quoted where
needed (RFC 4180, Python's ``csv`` module in its ``excel`` dialect), with
``\\n`` line ends; a span's text may hold line breaks inside its quotes.
Relations are not in this file: use JSONL, brat, AIF or the Hugging Face
export for them.

Only submitted work: the file has no status column, so an export holds the
spans of the annotation sets that annotators submitted and of the gold; a set
still assigned or in progress is left out (by ``annotator.services.exports``,
whose summary counts them). The canonical JSONL export keeps every set with
its status.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from typing import TextIO

from annotator.formats.records import AnnotationRecord, DocumentRecord

__all__ = ["CSV_COLUMNS", "GOLD_ANNOTATOR", "span_rows", "write_csv"]

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
#: What the ``annotator`` column says for the gold standard.
GOLD_ANNOTATOR = "gold"


def _annotation_sets(record: DocumentRecord) -> Iterator[tuple[str, AnnotationRecord]]:
    if record.gold is not None:
        yield GOLD_ANNOTATOR, record.gold
    for annotation in record.annotations:
        yield annotation.annotator, annotation


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
                json.dumps(span.attributes, ensure_ascii=False, sort_keys=True),
                span.note,
            )


def write_csv(records: Iterable[DocumentRecord], fh: TextIO) -> None:
    """Write the header and one row per span of every record to ``fh`` (opened with ``newline=''``
    or ``newline='\\n'``)."""
    writer = csv.writer(fh, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for record in records:
        writer.writerows(span_rows(record))
