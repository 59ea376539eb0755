"""A finished agreement run's report for its readers, streamed (issue 12, point 1).

The report of a 10,000-brief project is 19 MB of JSON, ~210 MB at 100,000
(near PostgreSQL's limit for one jsonb value), nearly all of it the figures of
each document (``by_document``). The download, the API, ``manage.py agreement
--json`` and the backup no longer decode it: they write the same JSON from the
run's ``report_summary`` (the report without ``by_document``) and its
``AgreementDocumentRank`` rows, read ``REPORT_BATCH`` at a time by the
``(run, position)`` index, so that a reader holds one batch and its queries grow
only with the number of batches.

The output is the one the stored report gave, key for key and in the same
order: the report's keys as the database gives them back (PostgreSQL's jsonb
orders an object's keys by their length in bytes, then bytewise; SQLite keeps
them as written, ``by_document`` after ``overall``), and ``by_document``'s
documents in the order of their ``position`` (the pooling writes it with the ranks,
``services.agreement_reports`` fills it by the same rule for older runs).
``tests/selectors/test_agreement_report.py`` checks it byte for byte against the
report of one reading in process, stored whole and read back.

A run stores its report without ``by_document`` and keeps its ranks as long as the
run is kept. A run without a summary or ranks (finished before they existed, or
before every finished run kept its ranks) is read from its stored report as
before, which then still holds ``by_document``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.db import connection
from django.db.models import Count, Q
from django.db.models.functions import Collate

from annotator.models import AgreementDocumentRank, AgreementRun

__all__ = [
    "REPORT_BATCH",
    "AgreementReportGone",
    "LazyObject",
    "agreement_report_chunks",
    "agreement_report_of",
    "agreement_run_ranked",
    "json_chunks",
    "jsonb_key_order",
]

#: Documents read and written at once: one query and about 2 MB of JSON (a
#: document's figures are ~2 KB), whatever the size of the run.
REPORT_BATCH = 1000


class AgreementReportGone(LookupError):
    """The run's per-document figures are no longer kept (neither ranks nor a stored
    ``by_document``): a run finished before every run kept its ranks, whose ranks a
    newer run replaced and whose report was then stored without them."""

    def __init__(self, run_id: int):
        super().__init__(
            f"the per-document figures of agreement run #{run_id} are no longer kept "
            "(a newer run of the project replaced them); read the newest run's report"
        )


class LazyObject:
    """A JSON object whose members are read as it is written.

    ``members`` is called once, when the object is written, and yields
    ``(key, value)`` pairs; ``empty`` says whether it yields none (an empty object
    is written ``{}`` whatever the indent, as ``json`` writes it).
    """

    def __init__(self, members: Callable[[], Iterable[tuple[str, Any]]], *, empty: bool):
        self.members, self.empty = members, empty


#: Stands for the lazy object while the rest of the document is encoded.
_SENTINEL = "\ue000warrant-lazy-object\ue000"


def _with_sentinel(value: Any, found: list[LazyObject]) -> Any:
    """``value`` with its LazyObject replaced by the sentinel (copies only the
    containers on the way to it; the report's summary is a few kilobytes)."""
    if isinstance(value, LazyObject):
        found.append(value)
        return _SENTINEL
    if isinstance(value, dict):
        return {key: _with_sentinel(item, found) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_with_sentinel(item, found) for item in value]
    return value


def json_chunks(value: Any, encoder: json.JSONEncoder, *, batch: int | None = None
                ) -> Iterator[str]:
    """The text of ``encoder.encode(value)``, in pieces, where ``value`` may hold one
    :class:`LazyObject`: its members are encoded ``batch`` at a time as they are read.

    The pieces joined are exactly what ``encoder`` gives for ``value`` with the lazy
    object replaced by a dict of its members (same separators, indent, escaping and
    key sorting inside the members; the members themselves come in their order).
    """
    batch = batch or REPORT_BATCH
    found: list[LazyObject] = []
    text = encoder.encode(_with_sentinel(value, found))
    if not found:
        yield text
        return
    if len(found) > 1:
        raise ValueError("json_chunks writes at most one lazy object")
    lazy = found[0]
    marker = encoder.encode(_SENTINEL)
    head, sentinels, tail = text.partition(marker)
    if not sentinels or marker in tail:
        raise ValueError("the lazy object's placeholder is not unique in the document")
    yield head
    if lazy.empty:
        yield "{}"
        yield tail
        return
    if encoder.indent is None:
        inner, close = "", ""
    else:
        indent = encoder.indent if isinstance(encoder.indent, str) else " " * encoder.indent
        line = head[head.rfind("\n") + 1:]
        base = line[:len(line) - len(line.lstrip())]
        inner, close = "\n" + base + indent, "\n" + base
    encode, item, key = encoder.encode, encoder.item_separator, encoder.key_separator
    pieces, first = ["{"], True
    for name, member in lazy.members():
        member_text = encode(member)
        if inner:
            member_text = member_text.replace("\n", inner)
        pieces.append(("" if first else item) + inner + encode(name) + key + member_text)
        first = False
        if len(pieces) >= batch:
            yield "".join(pieces)
            pieces = []
    pieces.append(close + "}")
    yield "".join(pieces)
    yield tail


# --- The report of a run ---------------------------------------------------------------


def jsonb_key_order(key: str) -> tuple[int, bytes]:
    """Where PostgreSQL's jsonb puts an object's key: shorter (in bytes) first, then
    bytewise (``lengthCompareJsonbStringValue`` in its ``jsonb_util.c``)."""
    data = key.encode("utf-8")
    return len(data), data


def _report_keys(run: AgreementRun, summary: dict) -> list[str]:
    """The keys of the stored report, in the order the database gives them back."""
    keys = list(summary)
    if connection.vendor == "postgresql":
        return sorted([*keys, "by_document"], key=jsonb_key_order)
    # SQLite keeps keys as written: the stored report's own order while it holds
    # by_document (its writers put it after overall, or last), else after overall as
    # metrics.report builds a report. Read by SQLite, not decoded here.
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT j.key FROM {AgreementRun._meta.db_table} AS a, "
                       "json_each(a.report) AS j WHERE a.id = %s ORDER BY j.id", [run.pk])
        stored = [key for (key,) in cursor.fetchall()]
    if "by_document" in stored and set(stored) == {*keys, "by_document"}:
        return stored
    at = keys.index("overall") + 1 if "overall" in keys else len(keys)
    return [*keys[:at], "by_document", *keys[at:]]


def agreement_run_ranked(run: AgreementRun) -> tuple[int, int]:
    """How many rank rows ``run`` has, and how many of them have no position yet."""
    counts = AgreementDocumentRank.objects.filter(run=run).aggregate(
        ranked=Count("id"), unplaced=Count("id", filter=Q(position__isnull=True)))
    return counts["ranked"], counts["unplaced"]


def _ranked_documents(run: AgreementRun, expected: int,
                      batch: int) -> Iterator[tuple[str, dict]]:
    """``(external id, figures)`` of every ranked document of ``run``, by position,
    ``batch`` rows a query. Raises RuntimeError (the stream breaks off rather than end
    short) when the rows are not ``expected`` many: a newer run replaced them."""
    last, seen = -1, 0
    while True:
        rows = list(
            AgreementDocumentRank.objects.filter(run=run, position__gt=last)
            .order_by("position").values_list("position", "external_id", "figures")[:batch]
        )
        for _, external_id, figures in rows:
            yield external_id, figures
        seen += len(rows)
        if len(rows) < batch:
            break
        last = rows[-1][0]
    if seen != expected:
        raise RuntimeError(f"agreement run #{run.pk} has {seen} ranked documents, its "
                           f"report {expected}: its ranks changed while it was read")


def _documents_by_id(run: AgreementRun, expected: int,
                     batch: int) -> Iterator[tuple[str, dict]]:
    """``(external id, figures)`` of every ranked document of ``run``, in the order of
    Python's ``sorted`` on the ids (code points: bytewise in UTF-8), by one query read
    ``batch`` rows at a time (a server-side cursor on PostgreSQL, which keeps it inside
    the caller's transaction). For a writer that sorts keys (the backup)."""
    ranks = AgreementDocumentRank.objects.filter(run=run)
    by_id = Collate("external_id", "C") if connection.vendor == "postgresql" else "external_id"
    seen = 0
    for external_id, figures in (ranks.order_by(by_id).values_list("external_id", "figures")
                                 .iterator(chunk_size=batch)):
        seen += 1
        yield external_id, figures
    if seen != expected:
        raise RuntimeError(f"agreement run #{run.pk} has {seen} ranked documents, its "
                           f"report {expected}: its ranks changed while it was read")


def agreement_report_of(run: AgreementRun, *, batch: int | None = None,
                        by_id: bool = False) -> dict | None:
    """The stored report of the finished ``run`` (None if it has none), with
    ``by_document`` a :class:`LazyObject` read from the run's ranks when the run has
    its summary and placed ranks (``services.agreement_reports.agreement_report_ready``
    sees to that); otherwise the stored report itself (decoded whole, as before).
    With ``by_id``, the documents come sorted by id, and need no positions.

    Raises AgreementReportGone when neither holds the documents' figures.
    """
    summary = run.report_summary
    if summary is not None:
        ranked, unplaced = agreement_run_ranked(run)
        if ranked == summary.get("documents", -1) and (by_id or not unplaced):
            read = _documents_by_id if by_id else _ranked_documents
            members = LazyObject(lambda: read(run, ranked, batch or REPORT_BATCH),
                                 empty=not ranked)
            return {key: members if key == "by_document" else summary[key]
                    for key in _report_keys(run, summary)}
    report = AgreementRun.objects.filter(pk=run.pk).values_list("report", flat=True).first()
    if report is not None and "by_document" not in report:
        raise AgreementReportGone(run.pk)
    return report


def agreement_report_chunks(run: AgreementRun, *, version: str, encoder: json.JSONEncoder,
                            batch: int | None = None) -> Iterator[str]:
    """The text of ``encoder.encode(agreement_report_document(run, version=version))``
    in pieces, ``by_document`` read ``batch`` documents at a time (see the module).

    The run's summary and ranks are checked here, before the first piece: a run whose
    figures are gone raises AgreementReportGone now, not halfway through a download.
    """
    from annotator.selectors.agreement import agreement_report_document

    report = agreement_report_of(run, batch=batch)
    document = agreement_report_document(run, version=version, report=report)
    return json_chunks(document, encoder, batch=batch)
