"""brat export: a collection of ``.txt``/``.ann`` pairs per annotation set source.

Layout::

    gold/annotation.conf            the project's schema for brat (imports back as the schema)
    gold/<document>.txt             canonical text, UTF-8, \\n line ends
    gold/<document>.ann             the gold standard's spans, relations, attributes, notes
    annotators/<name>/annotation.conf
    annotators/<name>/<document>.txt / .ann

Each folder is a complete brat collection (brat looks for ``annotation.conf``
in the collection's folder), and importing one folder into Warrant gives the
same spans and relations back: offsets are code points, which brat counts too
(see :mod:`annotator.formats.brat`). The ``.ann`` lines come from
:func:`annotator.formats.brat.write_brat`; spans whose ids are all brat ids
(``T<n>``) are written in the order of their numbers, and relations
(``R<n>``) likewise, which is the order brat itself writes, so a brat
collection imported and exported again gives the same ``.ann`` bytes.

Only submitted work: brat has no place for how far an annotator got, so an
export holds the annotation sets that annotators submitted and the gold; a set
still assigned or in progress is left out (by ``annotator.services.exports``,
whose summary counts them), and an empty ``.ann`` means "found no argument".
The canonical JSONL export keeps every set with its status. (No README goes in
the collection: brat, and Warrant's importer, would take a ``README.txt`` for
a document.)
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from annotator.formats._export_common import FolderSink, ZipSink, annotation_sets, safe_file_stem
from annotator.formats.brat import write_brat
from annotator.formats.brat_conf import write_annotation_conf
from annotator.formats.records import AnnotationRecord, DocumentRecord
from annotator.formats.schema import SchemaSpec

__all__ = ["brat_ann", "write_brat_collection"]

_NUMBERED = re.compile(r"[TR](\d+)")


def _by_number(items: list, prefix: str) -> list:
    numbers = [_NUMBERED.fullmatch(item.id) for item in items]
    if all(match and item.id[0] == prefix for match, item in zip(numbers, items, strict=True)):
        return sorted(items, key=lambda item: int(item.id[1:]))
    return items


def brat_ann(text: str, annotation: AnnotationRecord) -> str:
    """The ``.ann`` file of one annotation set, brat ids in number order.

    Examples
    --------
    >>> from annotator.formats.records import SpanRecord
    >>> a = AnnotationRecord(spans=[SpanRecord("T2", 4, 7, "Claim"),
    ...                             SpanRecord("T1", 0, 3, "Reason")])
    >>> brat_ann("Act now", a).splitlines()
    ['T1\\tReason 0 3\\tAct', 'T2\\tClaim 4 7\\tnow']
    """
    ordered = AnnotationRecord(
        annotator=annotation.annotator,
        status=annotation.status,
        spans=_by_number(list(annotation.spans), "T"),
        relations=_by_number(list(annotation.relations), "R"),
    )
    return write_brat(text, ordered)


def write_brat_collection(
    records: Iterable[DocumentRecord],
    sink: FolderSink | ZipSink,
    *,
    schema: SchemaSpec,
) -> None:
    """Write every annotation set of ``records`` as brat into ``sink``.

    Parameters
    ----------
    records : iterable of DocumentRecord
    sink : FolderSink or ZipSink
        Where the files go (an empty folder, or an open zip archive).
    schema : SchemaSpec
        The project's schema, written as each folder's ``annotation.conf``
        (:func:`annotator.formats.brat_conf.write_annotation_conf`), which imports
        back to the same schema.

    Raises
    ------
    ValueError
        From :func:`write_brat`, when a label or attribute cannot be written in brat.
    """
    conf = write_annotation_conf(schema)
    made: set[str] = set()
    for record in records:
        stem = safe_file_stem(record.external_id)
        for where, annotation in annotation_sets(record):
            if where not in made:
                sink.write_text(f"{where}/annotation.conf", conf)
                made.add(where)
            sink.write_text(f"{where}/{stem}.txt", record.text)
            sink.write_text(f"{where}/{stem}.ann", brat_ann(record.text, annotation))
