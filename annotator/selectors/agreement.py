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

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import BooleanField, Exists, OuterRef, QuerySet
from django.db.models.expressions import RawSQL

from annotator.metrics.types import AnnotatorWork, DocumentAnnotations
from annotator.metrics.types import Relation as RelationRecord
from annotator.metrics.types import Span as SpanRecord
from annotator.models import (
    AgreementDocumentRank,
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
    "agreement_run_summary",
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
    # The set's own project column (migration 0015): no join with the documents.
    sets = AnnotationSet.objects.filter(
        project=project, is_gold=False, status=AnnotationStatus.SUBMITTED
    )
    if documents is not None:
        sets = sets.filter(document__external_id__in=list(documents))
    if annotators is not None:
        sets = sets.filter(annotator__username__in=list(annotators))
    return sets.order_by()


def _fingerprint(rows: Iterable[tuple[int, int]]) -> str:
    """SHA-256 of the sorted ``(set id, version)`` pairs: what changed, not when."""
    # One update of the joined text: the same digest as an update per row, without
    # 30,000 calls into hashlib on the plan's critical path.
    return hashlib.sha256("".join(
        f"{set_id}:{version};" for set_id, version in sorted(rows)).encode()).hexdigest()


def agreement_data_version(
    *,
    project: Project,
    documents: Sequence[str] | None = None,
    annotators: Sequence[str] | None = None,
) -> str:
    """The fingerprint of the submitted sets a run with these parameters would read."""
    sets = submitted_sets(project=project, documents=documents, annotators=annotators)
    if connection.vendor == "postgresql":
        # The same SHA-256 as _fingerprint, computed where the rows are: the page
        # that asks "changed since the run?" no longer carries 30,000 rows into
        # Python and hashes them there (issue 12).
        sql, params = sets.values("id", "version").query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT encode(sha256(convert_to(coalesce(string_agg("
                "s.id::text || ':' || s.version::text || ';', '' ORDER BY s.id), ''), "
                f"'UTF8')), 'hex') FROM ({sql}) AS s",
                params,
            )
            return cursor.fetchone()[0]
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
        by_doc = _read_documents(project, set_rows)
    return AgreementData(
        documents=list(by_doc.values()),
        data_version=data_version,
        annotators=sorted({username for _, _, username, _ in set_rows}),
        document_pks={doc.id: pk for pk, doc in by_doc.items()},
    )


#: Sets whose spans and relations are fetched by one query: bounds the rows held
#: at once (40,000 spans of 40 per set) whatever the size of the run.
READ_SETS_AT_ONCE = 1000


def _fetch(queryset: QuerySet) -> list[tuple]:
    """The rows of a ``values_list`` queryset, fetched at once by a plain cursor:
    Django's row-by-row iteration cost more than the query for 100,000 rows."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _read_documents(project: Project, set_rows: list[tuple]) -> dict:
    """Document pk -> DocumentAnnotations of the sets ``set_rows`` (id, document id,
    username, version), in the project's document order."""
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

    set_ids = sorted(work_of_set)
    for begin in range(0, len(set_ids), READ_SETS_AT_ONCE):
        batch = set_ids[begin:begin + READ_SETS_AT_ONCE]
        spans = _fetch(
            Span.objects.filter(annotation_set__in=batch).order_by()
            .values_list("annotation_set_id", "start", "end", "label_id", "id")
        )
        # A set's spans by start, longest first, then label and id.
        spans = sorted(
            (set_id, start, -end, label_names[label_id], span_id)
            for set_id, start, end, label_id, span_id in spans
        )
        for set_id, start, minus_end, label, span_id in spans:
            work_of_set[set_id].spans.append(SpanRecord(str(span_id), start, -minus_end, label))
        del spans
        for set_id, source_id, target_id, type_id in _fetch(
            Relation.objects.filter(annotation_set__in=batch).order_by()
            .values_list("annotation_set_id", "source_id", "target_id", "type_id")
        ):
            work_of_set[set_id].relations.append(
                RelationRecord(str(source_id), str(target_id), type_names[type_id])
            )
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
        # The documents come with their sets (one query): position, id, external id.
        set_rows = _fetch(sets.values_list(
            "document__position", "document_id", "document__external_id",
            "annotator__username", "id", "version",
        ))
        labels, types = _used_labels_and_types(project, sets)
    set_rows.sort()  # the project's order (position, id), then annotator
    names = sorted({row[3] for row in set_rows})
    scope = json.dumps([unit, names, labels, types, CHUNK_FORMAT])
    chunks: list[dict] = []
    current: list[list] = []  # [document id, external id, [(username, set id, version)]]
    for _, doc_id, external_id, username, set_id, version in set_rows:
        if current and current[-1][0] == doc_id:
            current[-1][2].append((username, set_id, version))
            continue
        if current and (doc_id // chunk_documents != current[0][0] // chunk_documents
                        or len(current) >= chunk_documents):
            chunks.append(_chunk(scope, current))
            current = []
        current.append([doc_id, external_id, [(username, set_id, version)]])
    if current:
        chunks.append(_chunk(scope, current))
    return {
        "unit": unit,
        "data_version": _fingerprint((row[4], row[5]) for row in set_rows),
        "annotators": names,
        "labels": labels,
        "types": types,
        "documents": sum(chunk["documents"] for chunk in chunks),
        "chunks": chunks,
    }


#: The form of a chunk's stored sums (``metrics.pooling.ChunkSums``), part of every
#: chunk's key: chunks stored in an older form are read again, and forgotten.
CHUNK_FORMAT = 2


def _used_labels_and_types(project: Project, sets: QuerySet) -> tuple[list[str], list[str]]:
    """Names of the span labels and relation types that ``sets`` use, sorted.

    One EXISTS per label and type of the schema (a handful), each answered from
    the span's or relation's index on its label or type, instead of reading
    every span and relation of the project (seconds at 100,000 briefs).
    """
    set_ids = sets.values("id")
    labels = SpanLabel.objects.filter(project=project).filter(
        Exists(Span.objects.filter(label=OuterRef("pk"), annotation_set__in=set_ids))
    )
    types = RelationType.objects.filter(project=project).filter(
        Exists(Relation.objects.filter(type=OuterRef("pk"), annotation_set__in=set_ids))
    )
    return (sorted(set(labels.values_list("name", flat=True))),
            sorted(set(types.values_list("name", flat=True))))


def _chunk(scope: str, docs: list[list]) -> dict:
    """A chunk of the plan: its key hashes the scope and its documents' sets."""
    return {
        "key": hashlib.sha256(json.dumps([scope, docs]).encode()).hexdigest(),
        "documents": len(docs),
        "sets": [[set_id, version] for _, _, sets in docs for _, set_id, version in sets],
    }


def _current_sets(sets: list[list[int]]) -> list[tuple]:
    """The sets of a chunk (``sets``: [set id, version] pairs from the plan) as rows
    (id, document id, username, version); ValueError when one is no longer submitted
    at that version: the plan is out of date, and a new run reads the new data."""
    wanted = {set_id: version for set_id, version in sets}
    rows = _fetch(
        _among(AnnotationSet.objects.filter(status=AnnotationStatus.SUBMITTED), "id", wanted)
        .values_list("id", "document_id", "annotator__username", "version")
    )
    if {set_id: version for set_id, _, _, version in rows} != wanted:
        raise ValueError("submitted work changed while the run was computed; a new run "
                         "follows the new submissions")
    return rows


def agreement_chunk_documents(*, project: Project, sets: list[list[int]]) -> list:
    """The documents of a chunk (``sets``: [set id, version] pairs from the plan) as
    metrics records, in the project's order.

    Raises ValueError when a set is no longer submitted at that version: the plan
    is out of date, and a new run reads the new data.
    """
    with _Snapshot():
        return list(_read_documents(project, _current_sets(sets)).values())


def _of_sets(model, set_ids: list[int]) -> QuerySet:
    """The rows of ``model`` (spans or relations) in the sets ``set_ids``."""
    return _among(model.objects.order_by(), "annotation_set", set_ids)


def _among(rows: QuerySet, name: str, ids) -> QuerySet:
    """``rows`` whose field ``name`` (a key) is one of ``ids``. On PostgreSQL the ids go
    as one array (``= ANY``): Django and psycopg spent a quarter of a second per query
    on 3,000 placeholders of ``IN``."""
    if connection.vendor != "postgresql":
        return rows.filter(**{f"{name}__in": list(ids)})
    model = rows.model
    column = f'"{model._meta.db_table}"."{model._meta.get_field(name).column}"'
    return rows.filter(RawSQL(f"{column} = ANY(%s)", [list(ids)],
                              output_field=BooleanField()))


def agreement_document_pks(*, project_id: int, external_ids: list[str]) -> dict[str, int]:
    """The ids of the project's documents ``external_ids`` (those that still exist), by
    external id: a chunk's 1,000 documents as one array, not 1,000 placeholders."""
    return dict(_fetch(_among(Document.objects.filter(project_id=project_id), "external_id",
                              external_ids).values_list("external_id", "pk")))


def _integers(queryset: QuerySet, sizes: str):
    """The rows of a ``values_list`` queryset of integer columns, as an ``(n, width)``
    int64 array in no particular order; ``sizes`` gives each column's size in bytes in
    the database ("8" a bigint, "4" an integer), e.g. "8448".

    On PostgreSQL the database packs them into one ``bytea`` of big-endian integers
    (``string_agg`` of ``int8send`` and ``int4send``) that NumPy reads as it is, instead
    of a Python tuple per row: 120,000 spans cost the worker some 20 ms instead of
    100-140 ms. An integer column is sent as it is stored, not cast to bigint: the
    spans of a chunk cost PostgreSQL 54 ms instead of 70.
    """
    import numpy as np

    width = len(sizes)
    if connection.vendor != "postgresql":
        return np.array(_fetch(queryset), dtype=np.int64).reshape(-1, width)
    sql, params = queryset.query.sql_with_params()
    names = [f"c{k}" for k in range(width)]
    packed = " || ".join(f"int{size}send({name})" for size, name in zip(sizes, names,
                                                                          strict=True))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT string_agg({packed}, '') FROM ({sql}) AS q({', '.join(names)})",
                       params)
        (packed_rows,) = cursor.fetchone()
    rows = np.frombuffer(packed_rows or b"", dtype=[(name, f">i{size}") for size, name in zip(
        sizes, names, strict=True)])
    out = np.empty((len(rows), width), dtype=np.int64)
    for k, name in enumerate(names):
        out[:, k] = rows[name]
    return out


def _sizes(model, names: Sequence[str]) -> str:
    """The sizes in bytes of the integer fields ``names`` of ``model`` in the database,
    for :func:`_integers`: "4" for an integer column, "8" for a bigint (keys included)."""
    sizes = []
    for name in names:
        field = model._meta.get_field(name)
        field = field.target_field if field.is_relation else field
        sizes.append("8" if field.get_internal_type() in ("BigAutoField", "BigIntegerField",
                                                          "PositiveBigIntegerField") else "4")
    return "".join(sizes)


def _lookup(keys, values: dict):
    """``values[k]`` for each ``k`` of the integer array ``keys``, -1 where missing."""
    import numpy as np

    known = np.array(sorted(values), dtype=np.int64)
    if not len(known):
        return np.full(len(keys), -1, dtype=np.int64)
    mapped = np.array([values[k] for k in known.tolist()], dtype=np.int64)
    at = np.minimum(np.searchsorted(known, keys), len(known) - 1)
    return np.where(known[at] == keys, mapped[at], -1)


def agreement_chunk_columns(*, project: Project, plan: dict, sets: list[list[int]]):
    """The documents of a chunk as ``metrics.report.ChunkColumns``: the same content as
    :func:`agreement_chunk_documents`, read as arrays (no object per span).

    ``plan`` gives the run's annotators, labels and types (their order is the
    columns' indexes). Four queries: the sets, the documents, the spans and the
    relations, each fetched at once (a chunk is bounded by the plan), the spans and
    relations as packed integers (:func:`_integers`).

    Raises ValueError when a set is no longer submitted at that version, or when
    a span or relation has a label, type or endpoint outside the run's scope.
    """
    import numpy as np

    from annotator.metrics.report import ChunkColumns

    with _Snapshot():
        set_rows = _current_sets(sets)
        doc_rows = _fetch(
            _among(Document.objects.filter(project=project), "id", {r[1] for r in set_rows})
            .order_by("position", "id").values_list("id", "external_id", "text")
        )
        set_ids = [r[0] for r in set_rows]
        span = _integers(_of_sets(Span, set_ids).values_list(
            "annotation_set_id", "start", "end", "label_id", "id"), _sizes(Span, (
                "annotation_set", "start", "end", "label", "id")))
        rel = _integers(_of_sets(Relation, set_ids).values_list(
            "annotation_set_id", "source_id", "target_id", "type_id"), _sizes(Relation, (
                "annotation_set", "source", "target", "type")))
        label_names = dict(SpanLabel.objects.filter(project=project).values_list("id", "name"))
        type_names = dict(RelationType.objects.filter(project=project)
                          .values_list("id", "name"))
    # Sets by document (the project's order), then annotator.
    doc_at = {doc_id: k for k, (doc_id, _, _) in enumerate(doc_rows)}
    annotator_at = {name: k for k, name in enumerate(plan["annotators"])}
    set_rows.sort(key=lambda r: (doc_at[r[1]], annotator_at[r[2]]))
    set_at = {r[0]: k for k, r in enumerate(set_rows)}

    def index_of(names: dict, scope: list[str]) -> dict:
        at = {name: k for k, name in enumerate(scope)}
        return {pk: at.get(name, -1) for pk, name in names.items()}

    span_set = _lookup(span[:, 0], set_at)
    span_label = _lookup(span[:, 3], index_of(label_names, plan["labels"]))
    if (span_label < 0).any():
        raise ValueError("a span's label is not among the run's labels; a new run follows")
    # A set's spans by start, longest first, then label and id (as agreement_data).
    order = np.lexsort((span[:, 4], span_label, -span[:, 2], span[:, 1], span_set))
    span, span_set, span_label = span[order], span_set[order], span_label[order]
    rel_set = _lookup(rel[:, 0], set_at)
    rel_type = _lookup(rel[:, 3], index_of(type_names, plan["types"]))
    by_id = np.argsort(span[:, 4])
    ends = []
    for column in (1, 2):
        at = by_id[np.minimum(np.searchsorted(span[by_id, 4], rel[:, column]),
                              max(len(span) - 1, 0))] if len(span) else np.zeros(0, np.int64)
        if len(rel) and (not len(span) or (span[at, 4] != rel[:, column]).any()
                         or (span_set[at] != rel_set).any()):
            raise ValueError("a relation names a span of another set")
        ends.append(at)
    if (rel_type < 0).any():
        raise ValueError("a relation's type is not among the run's types; a new run follows")
    order = np.argsort(rel_set, kind="stable")
    return ChunkColumns(
        doc_ids=[r[1] for r in doc_rows], texts=[r[2] for r in doc_rows],
        set_doc=np.array([doc_at[r[1]] for r in set_rows], dtype=np.int64),
        set_annotator=np.array([annotator_at[r[2]] for r in set_rows], dtype=np.int64),
        set_spans=np.bincount(span_set, minlength=len(set_rows)).astype(np.int64),
        span_start=span[:, 1].copy(), span_end=span[:, 2].copy(), span_label=span_label,
        span_id=span[:, 4].copy(), rel_set=rel_set[order], rel_source=ends[0][order],
        rel_target=ends[1][order], rel_type=rel_type[order],
    )


def agreement_submitted_annotators(*, project: Project) -> list[str]:
    """Usernames of everyone with at least one submitted set in the project.

    Asked of each user (does one submitted set exist?), which the index
    ``assignment_project_progress`` answers at once, instead of collecting the
    names of 30,000 submitted sets to keep 300 distinct ones (issue 12).
    """
    submitted = AnnotationSet.objects.filter(
        project=project, is_gold=False, status=AnnotationStatus.SUBMITTED,
        annotator=OuterRef("pk"),
    )
    return list(
        get_user_model()
        .objects.filter(Exists(submitted))
        .order_by("username")
        .values_list("username", flat=True)
    )


def agreement_runs(*, project: Project) -> QuerySet[AgreementRun]:
    """The project's runs, newest first."""
    return AgreementRun.objects.filter(project=project).order_by("-created_at", "-id")


def agreement_run_latest(
    *, project: Project, finished: bool = False, unit: str | None = None, report: bool = True
) -> AgreementRun | None:
    """The newest run of the project; with ``finished``, the newest one that is done.

    Only a finished run comes with its report and intervals (megabytes for a
    large project; without the report when ``report`` is False: the readers of
    ``selectors.agreement_report`` read it in batches); the newest run of any
    status is for its status.
    """
    runs = agreement_runs(project=project)
    if finished:
        runs = runs.filter(status=JobStatus.DONE, report__isnull=False).defer(
            "plan", *(() if report else ("report",)))
    else:
        runs = runs.defer("report", "intervals")
    if unit is not None:
        runs = runs.filter(parameters__unit=unit)
    return runs.first()


def agreement_run_summary(*, project: Project) -> AgreementRun | None:
    """The newest finished run without its report and plan (megabytes on a large
    project): the page reads ``run.report_summary`` (the report without
    ``by_document``), and the documents from ``AgreementDocumentRank``.

    ``report_summary`` is None for a run finished before it was stored (or
    restored from a backup): ``services.agreement.agreement_run_rank`` stores it.
    """
    return (
        agreement_runs(project=project)
        .filter(status=JobStatus.DONE, report__isnull=False)
        .defer("report", "plan")
        .first()
    )


class RankedDocuments:
    """A finished run's ranked documents as a sequence for a paginator, by ``rank``
    (most disagreement first) or by ``position`` (the report's order): its length is
    the report's count and a slice is a range of either, read by its ``(run, ...)``
    index, so the last page costs what the first does. Positions must be filled for
    ``"report"`` (``services.agreement_reports.agreement_report_ready``); ``figures``
    says whether each row brings its report entry (~2 KB) too."""

    ORDERINGS = {"rank": ("rank", 1), "report": ("position", 0)}
    FIELDS = ("rank", "position", "external_id", "disagreement", "alpha", "span_f1",
              "relation_f1", "document__id", "document__title")

    def __init__(self, run: AgreementRun, count: int, ordering: str = "rank", *,
                 figures: bool = True):
        self.run, self.count, self.figures = run, count, figures
        self.column, self.first = self.ORDERINGS[ordering]

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, part: slice) -> list[AgreementDocumentRank]:
        start = (part.start or 0) + self.first
        stop = (self.count if part.stop is None else part.stop) + self.first
        return list(
            AgreementDocumentRank.objects.filter(
                run=self.run, **{f"{self.column}__gte": start, f"{self.column}__lt": stop}
            ).select_related("document").only(
                *self.FIELDS, *(("figures",) if self.figures else ())
            ).order_by(self.column)
        )


def agreement_ranked_figures(*, run: AgreementRun, document: Document) -> dict | None:
    """``document``'s entry of ``run``'s report, from its stored rank (None if unranked)."""
    return (
        AgreementDocumentRank.objects.filter(run=run, document=document)
        .values_list("figures", flat=True)
        .first()
    )


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


def agreement_report_document(run, *, version: str, report: dict | None = None) -> dict:
    """A finished run's report with what it needs to be read later: the bootstrap
    intervals, the run's id and times, Warrant's version and the conventions.

    The same dict for the API and ``manage.py agreement --json``. ``report`` is the
    run's report when it is not ``run.report``: ``selectors.agreement_report`` gives
    one whose ``by_document`` is read as it is written.
    """
    report = dict((run.report if report is None else report) or {})
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
