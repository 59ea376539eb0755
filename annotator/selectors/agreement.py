"""Read what agreement runs need: submitted annotation sets as plain data, and runs.

Loading is a fixed handful of ``values_list`` queries whatever the project's
size (sets, documents, labels, relation types, spans, relations): no query per
document or per set, and no model instance per span. On the benchmark project
(1,000 briefs x 3 annotators x 40 spans and 20 relations) it takes well under a
second on SQLite.

The rows are read in one transaction so that they are one consistent snapshot
(PostgreSQL: REPEATABLE READ; SQLite: a read transaction in WAL mode), and the
``data_version`` fingerprint is computed from the same rows: a run records the
exact data it saw, and two runs with the same fingerprint and parameters saw the
same annotations.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

from django.db import connection, transaction
from django.db.models import QuerySet

from annotator.metrics.types import AnnotatorWork, DocumentAnnotations
from annotator.metrics.types import Relation as RelationRecord
from annotator.metrics.types import Span as SpanRecord
from annotator.models import (
    AgreementRun,
    AnnotationSet,
    AnnotationStatus,
    Document,
    JobStatus,
    Project,
    Relation,
    RelationType,
    Span,
    SpanLabel,
)

__all__ = [
    "ACTIVE_STATUSES",
    "REPORT_FIGURES",
    "AgreementData",
    "agreement_data",
    "agreement_data_version",
    "agreement_document_comparison",
    "agreement_run_active",
    "agreement_run_latest",
    "agreement_runs",
    "agreement_submitted_annotators",
]

#: Statuses of a run that is still working: pages poll these.
ACTIVE_STATUSES = (JobStatus.PENDING, JobStatus.RUNNING)
#: The report's headline figures as pages and the command line show them:
#: (label, path into ``overall`` or a document's figures, key of its bootstrap interval).
REPORT_FIGURES = [
    ("Krippendorff's alpha (nominal)", ("krippendorff_alpha",), "krippendorff_alpha"),
    ("Cohen's kappa (mean over pairs)", ("cohen_kappa",), "cohen_kappa"),
    ("Fleiss' kappa", ("fleiss_kappa",), "fleiss_kappa"),
    ("Unitizing alpha", ("unitizing_alpha",), "unitizing_alpha"),
    ("Span F1, exact", ("span_f1", "exact"), "span_f1_exact"),
    ("Span F1, overlap", ("span_f1", "overlap"), "span_f1_overlap"),
    ("Span F1, Jaccard ≥ 0.5", ("span_f1", "jaccard50"), "span_f1_jaccard50"),
    ("Relation F1", ("relation_f1",), "relation_f1"),
]


@dataclass
class AgreementData:
    """What one run computes on.

    ``documents`` are in the project's document order; a document's ``id`` is
    its external id (the id of the canonical JSONL, and the key of the report's
    ``by_document``). ``document_pks`` maps that id back to the database row.
    """

    documents: list[DocumentAnnotations]
    data_version: str
    annotators: list[str]
    document_pks: dict[str, int] = field(default_factory=dict)

    @property
    def set_count(self) -> int:
        return sum(len(doc.work) for doc in self.documents)


def submitted_sets(
    *,
    project: Project,
    documents: Sequence[str] | None = None,
    annotators: Sequence[str] | None = None,
) -> QuerySet[AnnotationSet]:
    """The submitted, non-gold annotation sets of a project, optionally a subset.

    ``documents`` are external ids, ``annotators`` usernames; ``None`` means all.
    """
    sets = AnnotationSet.objects.filter(
        document__project=project, is_gold=False, status=AnnotationStatus.SUBMITTED
    )
    if documents is not None:
        sets = sets.filter(document__external_id__in=list(documents))
    if annotators is not None:
        sets = sets.filter(annotator__username__in=list(annotators))
    return sets.order_by()


def _fingerprint(rows: Iterable[tuple[int, int]]) -> str:
    """SHA-256 of the sorted ``(set id, version)`` pairs: what changed, not when."""
    digest = hashlib.sha256()
    for set_id, version in sorted(rows):
        digest.update(f"{set_id}:{version};".encode())
    return digest.hexdigest()


def agreement_data_version(
    *,
    project: Project,
    documents: Sequence[str] | None = None,
    annotators: Sequence[str] | None = None,
) -> str:
    """The fingerprint of the submitted sets a run with these parameters would read."""
    sets = submitted_sets(project=project, documents=documents, annotators=annotators)
    return _fingerprint(sets.values_list("id", "version"))


class _Snapshot:
    """A read-only transaction that sees one snapshot of the database.

    On PostgreSQL the isolation level must be set before the first query of the
    transaction, so it is only raised when this block opens the transaction
    (not inside a caller's, as in the test suite's per-test transaction).
    """

    def __enter__(self):
        self._opens = not connection.in_atomic_block
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        if self._opens and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        return self

    def __exit__(self, *exc):
        return self._atomic.__exit__(*exc)


def agreement_data(
    *,
    project: Project,
    documents: Sequence[str] | None = None,
    annotators: Sequence[str] | None = None,
) -> AgreementData:
    """Read the submitted annotation sets of ``project`` as metrics records.

    Parameters
    ----------
    project : Project
    documents : sequence of str, optional
        External ids of the documents to cover; all documents when None.
    annotators : sequence of str, optional
        Usernames of the annotators to cover; all annotators when None.

    Returns
    -------
    AgreementData
        One ``DocumentAnnotations`` per document that has at least one
        submitted set in the selection, in the project's document order. Span
        ids are the database ids as strings, so relations can name them.
    """
    with _Snapshot():
        sets = submitted_sets(project=project, documents=documents, annotators=annotators)
        set_rows = list(sets.values_list("id", "document_id", "annotator__username", "version"))
        data_version = _fingerprint((set_id, version) for set_id, _, _, version in set_rows)
        if not set_rows:
            return AgreementData(documents=[], data_version=data_version, annotators=[])
        by_doc = _read_documents(project, set_rows, sets.values("id"))
    return AgreementData(
        documents=list(by_doc.values()),
        data_version=data_version,
        annotators=sorted({username for _, _, username, _ in set_rows}),
        document_pks={doc.id: pk for pk, doc in by_doc.items()},
    )


def _read_documents(project: Project, set_rows: list[tuple], set_ids) -> dict:
    """Document pk -> DocumentAnnotations of the sets ``set_rows`` (id, document id,
    username, version), in the project's document order; ``set_ids`` the same sets
    as a queryset of ids or a list."""
    doc_ids = {doc_id for _, doc_id, _, _ in set_rows}
    doc_rows = list(
        Document.objects.filter(project=project, pk__in=doc_ids)
        .order_by("position", "id")
        .values_list("id", "external_id", "text")
    )
    label_names = dict(SpanLabel.objects.filter(project=project).values_list("id", "name"))
    type_names = dict(RelationType.objects.filter(project=project).values_list("id", "name"))

    # One AnnotatorWork per set, reached from the set's id.
    work_of_set: dict[int, AnnotatorWork] = {}
    by_doc: dict[int, DocumentAnnotations] = {}
    for doc_id, external_id, text in doc_rows:
        by_doc[doc_id] = DocumentAnnotations(id=external_id, text=text)
    for set_id, doc_id, username, _version in sorted(set_rows, key=lambda r: r[2]):
        work = AnnotatorWork()
        work_of_set[set_id] = work
        by_doc[doc_id].work[username] = work

    for span_id, set_id, start, end, label_id in (
        Span.objects.filter(annotation_set__in=set_ids)
        .order_by()
        .values_list("id", "annotation_set_id", "start", "end", "label_id")
        .iterator(chunk_size=10_000)
    ):
        work_of_set[set_id].spans.append(
            SpanRecord(str(span_id), start, end, label_names[label_id])
        )
    for set_id, source_id, target_id, type_id in (
        Relation.objects.filter(annotation_set__in=set_ids)
        .order_by()
        .values_list("annotation_set_id", "source_id", "target_id", "type_id")
        .iterator(chunk_size=10_000)
    ):
        work_of_set[set_id].relations.append(
            RelationRecord(str(source_id), str(target_id), type_names[type_id])
        )
    for work in work_of_set.values():
        work.spans.sort(key=lambda s: (s.start, -s.end, s.label, int(s.id)))
    return by_doc


# --- Runs in chunks (issue 12, points 4 and 7) ---------------------------------------


def agreement_plan(
    *,
    project: Project,
    unit: str,
    chunk_documents: int,
    documents: Sequence[str] | None = None,
    annotators: Sequence[str] | None = None,
) -> dict:
    """What a run reads, cut into chunks of documents, each with its fingerprint.

    Returns a JSON-able plan: ``data_version`` (as :func:`agreement_data_version`),
    ``annotators``, ``labels`` and ``types`` (the run's scope, as
    ``metrics.pooling.scope_of`` finds them in the data), ``documents`` (their
    number) and ``chunks``: consecutive documents in the project's order, cut
    where ``pk // chunk_documents`` changes so that a chunk keeps its documents
    when others are added, each ``{"key", "sets": [[set id, version], ...]}``.
    A chunk's ``key`` changes when any of its submitted sets does (or the scope).
    """
    with _Snapshot():
        sets = submitted_sets(project=project, documents=documents, annotators=annotators)
        set_rows = list(sets.values_list("id", "document_id", "annotator__username", "version"))
        names = sorted({username for _, _, username, _ in set_rows})
        labels = sorted(
            Span.objects.filter(annotation_set__in=sets.values("id"))
            .order_by().values_list("label__name", flat=True).distinct()
        )
        types = sorted(
            Relation.objects.filter(annotation_set__in=sets.values("id"))
            .order_by().values_list("type__name", flat=True).distinct()
        )
        doc_rows = list(
            Document.objects.filter(project=project, pk__in={r[1] for r in set_rows})
            .order_by("position", "id")
            .values_list("id", "external_id")
        )
    sets_of: dict[int, list[tuple]] = {}
    for set_id, doc_id, username, version in set_rows:
        sets_of.setdefault(doc_id, []).append((username, set_id, version))
    scope = json.dumps([unit, names, labels, types])
    chunks: list[dict] = []
    current: list[tuple] = []
    digest = None
    for doc_id, external_id in doc_rows:
        bucket = doc_id // chunk_documents
        if current and (bucket != current[0][0] // chunk_documents
                        or len(current) >= chunk_documents):
            chunks.append(_chunk(current, digest, sets_of))
            current = []
        if not current:
            digest = hashlib.sha256(scope.encode())
        current.append((doc_id, external_id))
        digest.update(json.dumps([doc_id, external_id, sorted(sets_of[doc_id])]).encode())
    if current:
        chunks.append(_chunk(current, digest, sets_of))
    return {
        "unit": unit,
        "data_version": _fingerprint((r[0], r[3]) for r in set_rows),
        "annotators": names,
        "labels": labels,
        "types": types,
        "documents": len(doc_rows),
        "chunks": chunks,
    }


def _chunk(docs: list[tuple], digest, sets_of: dict) -> dict:
    return {
        "key": digest.hexdigest(),
        "documents": len(docs),
        "sets": [[set_id, version] for doc_id, _ in docs
                 for _, set_id, version in sorted(sets_of[doc_id])],
    }


def agreement_chunk_documents(*, project: Project, sets: list[list[int]]) -> list:
    """The documents of a chunk (``sets``: [set id, version] pairs from the plan) as
    metrics records, in the project's order.

    Raises ValueError when a set is no longer submitted at that version: the plan
    is out of date, and a new run reads the new data.
    """
    wanted = {set_id: version for set_id, version in sets}
    with _Snapshot():
        rows = list(
            AnnotationSet.objects.filter(pk__in=list(wanted), status=AnnotationStatus.SUBMITTED)
            .values_list("id", "document_id", "annotator__username", "version")
        )
        current = {set_id: version for set_id, _, _, version in rows}
        if current != wanted:
            raise ValueError("submitted work changed while the run was computed; a new run "
                             "follows the new submissions")
        return list(_read_documents(project, rows, list(wanted)).values())


def agreement_submitted_annotators(*, project: Project) -> list[str]:
    """Usernames of everyone with at least one submitted set in the project."""
    return list(
        submitted_sets(project=project)
        .values_list("annotator__username", flat=True)
        .distinct()
        .order_by("annotator__username")
    )


def agreement_runs(*, project: Project) -> QuerySet[AgreementRun]:
    """The project's runs, newest first."""
    return AgreementRun.objects.filter(project=project).order_by("-created_at", "-id")


def agreement_run_latest(
    *, project: Project, finished: bool = False, unit: str | None = None
) -> AgreementRun | None:
    """The newest run of the project; with ``finished``, the newest one that is done.

    Only a finished run comes with its report and intervals (megabytes for a
    large project); the newest run of any status is for its status.
    """
    runs = agreement_runs(project=project)
    if finished:
        runs = runs.filter(status=JobStatus.DONE, report__isnull=False)
    else:
        runs = runs.defer("report", "intervals")
    if unit is not None:
        runs = runs.filter(parameters__unit=unit)
    return runs.first()


def agreement_run_active(*, project: Project) -> AgreementRun | None:
    """The newest pending or running run, without its (large) report."""
    return (
        agreement_runs(project=project)
        .filter(status__in=ACTIVE_STATUSES)
        .defer("report", "intervals")
        .first()
    )


# --- The side-by-side view of one document ---------------------------------------------


@dataclass
class Segment:
    """A stretch of text over which every annotator's labels stay the same."""

    start: int
    end: int
    text: str
    labels: dict[str, tuple[str, ...]]  # annotator -> sorted labels covering it
    disagree: bool


@dataclass
class DocumentComparison:
    document: Document
    annotators: list[str]
    segments: list[Segment]
    colours: dict[str, str]

    @property
    def disagreements(self) -> list[Segment]:
        return [seg for seg in self.segments if seg.disagree]


def agreement_document_comparison(
    *, project: Project, document: Document, annotators: Sequence[str] | None = None
) -> DocumentComparison:
    """Where the annotators of one document agree and disagree, stretch by stretch.

    The text is cut at every span boundary of every annotator; within a
    stretch each annotator's set of covering labels is constant. A stretch is a
    disagreement when those sets differ between annotators and the stretch
    holds a visible character (differences over whitespace alone are not
    shown: neither unit of the report counts them between tokens, and they are
    noise to a reader).
    """
    data = agreement_data(project=project, documents=[document.external_id], annotators=annotators)
    colours = dict(SpanLabel.objects.filter(project=project).values_list("name", "colour"))
    if not data.documents:
        return DocumentComparison(document, [], [], colours)
    record = data.documents[0]
    text = record.text
    names = sorted(record.work)
    cuts = {0, len(text)}
    for work in record.work.values():
        for span in work.spans:
            cuts.update((span.start, span.end))
    bounds = sorted(c for c in cuts if 0 <= c <= len(text))
    # One sweep over the cuts: at each cut, the spans that start there join each
    # annotator's active labels and those that end there leave (a span covers a
    # stretch exactly when it is active at the stretch's start).
    opens: dict[str, dict[int, list[str]]] = {name: {} for name in names}
    closes: dict[str, dict[int, list[str]]] = {name: {} for name in names}
    for name in names:
        for span in record.work[name].spans:
            opens[name].setdefault(span.start, []).append(span.label)
            closes[name].setdefault(span.end, []).append(span.label)
    active: dict[str, Counter] = {name: Counter() for name in names}
    segments = []
    for start, end in pairwise(bounds):
        labels = {}
        for name in names:
            counts = active[name]
            for label in closes[name].get(start, ()):
                counts[label] -= 1
            for label in opens[name].get(start, ()):
                counts[label] += 1
            labels[name] = tuple(sorted(label for label, n in counts.items() if n > 0))
        piece = text[start:end]
        disagree = len(set(labels.values())) > 1 and not piece.isspace()
        segments.append(Segment(start, end, piece, labels, disagree))
    return DocumentComparison(document, names, segments, colours)


#: How every report is computed, said in the report itself (docs/agreement.md gives
#: the formulas and references).
REPORT_CONVENTIONS = {
    "token": "units are maximal runs of non-whitespace (\\S+); a unit's category for one "
             "annotator is the labels of the spans that overlap it, sorted and joined with "
             "'+', or 'O'",
    "char": "units are characters, whitespace included; a unit's category is as for tokens",
    "pooling": "overall pools every document (units and span pairs summed across "
               "documents), not a mean of per-document scores; a pairwise figure's value is "
               "the mean over pairs",
    "ci_method": "percentile bootstrap over documents, resampled with replacement",
}


def agreement_report_document(run, *, version: str) -> dict:
    """A finished run's report with what it needs to be read later: the bootstrap
    intervals, the run's id and times, Warrant's version and the conventions.

    The same dict for the API and ``manage.py agreement --json``.
    """
    report = dict(run.report or {})
    parameters = run.parameters if isinstance(run.parameters, dict) else {}
    unit = report.get("unit", parameters.get("unit", "token"))
    intervals = run.intervals or {}
    resamples = intervals.get("n_resamples") if isinstance(intervals, dict) else None

    def when(moment):
        return moment.isoformat() if moment else None

    report["intervals"] = run.intervals
    report["run"] = {
        "id": run.pk,
        "automatic": run.automatic,
        "requested_at": when(run.created_at),
        "started_at": when(run.started_at),
        "finished_at": when(run.finished_at),
    }
    report["warrant_version"] = version
    report["conventions"] = {
        "unit": unit,
        "units": REPORT_CONVENTIONS.get(unit, ""),
        "pooling": REPORT_CONVENTIONS["pooling"],
        "ci_method": REPORT_CONVENTIONS["ci_method"],
        "confidence": intervals.get("confidence", 0.95) if isinstance(intervals, dict) else 0.95,
        "resamples": resamples,
        "undefined": "a value that is mathematically undefined is null",
        "reference": "docs/agreement.md",
    }
    return report
