"""Reads for the annotation page: which set a user may open, their queue, the
text cut into segments, and the argument outline with its warnings.

The segmenting and the outline work on plain tuples, not model instances, so
that a 20,000-word brief with 1,000 spans opens within the page's time budget
(benchmarks/annotate_page.py).
"""

from __future__ import annotations

import functools
import itertools
import json
import re
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import NamedTuple

from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Aggregate, JSONField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import JSONObject
from django.utils import timezone

from annotator.models import (
    AnnotationSet,
    AnnotationStatus,
    Document,
    Membership,
    Project,
    Relation,
    RelationType,
    Span,
    SpanLabel,
)
from annotator.prepared import model_from_row, prepared_cursor, select_columns

from .grading import grade_lock
from .permissions import has_permission, require_permission

# ----------------------------------------------------------------------------- access


@dataclass(frozen=True)
class SetAccess:
    """The set a page shows and whether this user may change it there."""

    annotation_set: AnnotationSet
    own: bool
    editable: bool
    #: Why the user's own set is closed for a grade (``grading.grade_lock``), or None.
    closed: str | None = None


def readable_set_filter(*, user, project: Project) -> Q:
    """Who reads which annotation set: the one rule, as a filter on ``AnnotationSet``.

    Every exit that reveals a set's contents or existence asks it, through
    :func:`readable_sets_in_project` (or :func:`readable_sets`,
    :func:`set_readable`): the pages, the API, every export (its format and
    scope only narrow it further), the agreement page's side-by-side view,
    curation and feedback. A member reads

    * their own sets, always;
    * every set, gold included, with ``annotation_set.view_any`` (managers,
      curators);
    * in a project that is not blind, every annotator's set (not the gold);
    * once grades are released, with ``feedback.view``, the final gold of a
      brief whose own set they submitted: their feedback shows it.

    A non-member or an anonymous user reads nothing. The caller narrows to
    the project (or a document) itself.
    """
    if user is None or not has_permission(user, project, "project.view"):
        return Q(pk__in=[])
    if has_permission(user, project, "annotation_set.view_any"):
        return Q()
    visible = Q(annotator=user)
    if not project.blind:
        visible |= Q(is_gold=False)
    if project.grades_released and has_permission(user, project, "feedback.view"):
        submitted = AnnotationSet.objects.filter(
            annotator=user, is_gold=False, status=AnnotationStatus.SUBMITTED
        ).values("document_id")
        visible |= Q(is_gold=True, gold_final=True, document_id__in=submitted)
    return visible


def readable_sets_in_project(*, user, project: Project) -> QuerySet[AnnotationSet]:
    """Every set of ``project`` that ``user`` may read (:func:`readable_set_filter`)."""
    return AnnotationSet.objects.filter(project=project).filter(
        readable_set_filter(user=user, project=project)
    )


def readable_sets(*, user, project: Project, document: Document) -> QuerySet[AnnotationSet]:
    """The sets of ``document`` that ``user`` may read (:func:`readable_set_filter`)."""
    return AnnotationSet.objects.filter(document=document).filter(
        readable_set_filter(user=user, project=project)
    )


def readable_annotators(
    *, user, project: Project, document: Document, among: list[str] | None = None
) -> list[str]:
    """The usernames whose sets of ``document`` ``user`` may read (optionally only those
    ``among``): the annotators a side-by-side view of the document may show."""
    sets = readable_sets(user=user, project=project, document=document).filter(is_gold=False)
    if among is not None:
        sets = sets.filter(annotator__username__in=list(among))
    return sorted(sets.values_list("annotator__username", flat=True))


def set_readable(*, user, project: Project, annotation_set: AnnotationSet) -> bool:
    """Whether ``user`` may read ``annotation_set`` (:func:`readable_set_filter`)."""
    return readable_sets(user=user, project=project, document=annotation_set.document_id) \
        .filter(pk=annotation_set.pk).exists()


#: The filters of the bulk API and the project's set list, with what each takes.
SET_FILTERS = {
    "annotator": "usernames, comma-separated",
    "status": "assigned, in_progress or submitted, comma-separated",
    "gold": "true (the gold only) or false (annotators' sets only)",
    "split": "the documents' split (meta.split: train, dev, test…), comma-separated",
    "document": "document ids (the imported id, as in exports), comma-separated",
}


def filter_sets(
    sets: QuerySet[AnnotationSet], *, annotator: list[str] | None = None,
    status: list[str] | None = None, gold: bool | None = None,
    split: list[str] | None = None, document: list[str] | None = None,
) -> QuerySet[AnnotationSet]:
    """``sets`` narrowed by the bulk API's filters (None: not filtered)."""
    if annotator is not None:
        sets = sets.filter(annotator__username__in=annotator)
    if status is not None:
        sets = sets.filter(status__in=status)
    if gold is not None:
        sets = sets.filter(is_gold=gold)
    if split is not None:
        sets = sets.filter(document__meta__split__in=split)
    if document is not None:
        sets = sets.filter(document__external_id__in=document)
    return sets


def filter_documents(
    documents: QuerySet[Document], *, split: list[str] | None = None,
    document: list[str] | None = None,
) -> QuerySet[Document]:
    if split is not None:
        documents = documents.filter(meta__split__in=split)
    if document is not None:
        documents = documents.filter(external_id__in=document)
    return documents


def annotation_set_access(
    *, user, project: Project, document: Document, set_id: int | None = None
) -> SetAccess | None:
    """The annotation set of ``document`` that ``user`` opens, or None when there is none.

    Without ``set_id`` that is the user's own set. With it, another person's set
    (or the gold set) opens read-only for roles with ``annotation_set.view_any``;
    in a project that is not blind, every member may also read the others' sets.
    Raises PermissionDenied when the user may not see it.
    """
    require_permission(user, project, "document.view")
    sets = AnnotationSet.objects.filter(document=document).select_related(
        "document__project", "annotator"
    )
    wanted = {"annotator": user} if set_id is None else {"pk": set_id}
    aset = sets.filter(**wanted).first()
    if aset is None:
        return None
    own = aset.annotator_id == user.pk
    if not own and not set_readable(user=user, project=project, annotation_set=aset):
        raise PermissionDenied("this annotation set belongs to someone else")
    closed = grade_lock(aset, timezone.localdate()) if own else None
    editable = (
        own
        and closed is None
        and aset.status != AnnotationStatus.SUBMITTED
        and has_permission(user, project, "annotation_set.annotate")
    )
    return SetAccess(annotation_set=aset, own=own, editable=editable, closed=closed)


def annotation_set_editable(*, user, project: Project, document: Document) -> AnnotationSet:
    """The user's own set of ``document``, for a write; PermissionDenied otherwise.

    A submitted set is returned too: the services refuse its edits with a
    message the user can act on (reopen it).
    """
    require_permission(user, project, "annotation_set.annotate")
    aset = (
        AnnotationSet.objects.filter(document=document, annotator=user)
        .select_related("annotator")
        .first()
    )
    if aset is None:
        raise PermissionDenied("you have no annotation set for this brief")
    return aset


class _JSONArray(Aggregate):
    """The rows' values as one JSON array: jsonb_agg on PostgreSQL, json_group_array on SQLite."""

    function = "JSONB_AGG"
    output_field = JSONField()

    def as_sqlite(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, function="JSON_GROUP_ARRAY", **extra)


# A span label's fields, all plain values: what a write reads of the schema.
_LABEL_FIELDS = ("id", "project_id", "name", "colour", "hotkey", "description", "position",
                 "attributes")
# The models' default ordering starts with the project, which joins the project
# table to sort rows that all share one; within a project this is the same order.
SCHEMA_ORDER = ("position", "name")


def project_span_labels(project: Project) -> dict[int, SpanLabel]:
    """The project's span labels by id, in palette order: one query per request at most
    (none after :func:`own_annotation_set`, which brings them along)."""
    labels = getattr(project, "_span_labels_by_id", None)
    if labels is None:
        rows = project.span_labels.order_by(*SCHEMA_ORDER)
        labels = project._span_labels_by_id = {lab.pk: lab for lab in rows}
    return labels


def own_annotation_set(*, user, slug: str, document_id: int) -> AnnotationSet | None:
    """The user's own set of a document, with its document, project, annotator and the
    project's span labels, in one query.

    The fast path of the annotation page's writes (issue 3 asks for a save under 5 ms).
    It checks no permission itself: it fetches the user's role in the project
    with the row and hands it to the permission matrix (the per-request cache
    of ``permissions.project_role``), so that the caller's ``has_permission``
    calls cost no further query. None when there is no such set (unknown
    project or document, or no set of this user's): the caller then takes the
    long way, which answers with the right 404 or 403.
    """
    if user is None or not user.is_authenticated:
        return None
    read_with_user = getattr(user, "_warrant_own_set", None)  # user_with_own_set's
    if read_with_user is not None:
        del user._warrant_own_set  # used once: a later read is a fresh one
    if read_with_user is not None and read_with_user[0] == (slug, int(document_id)):
        aset = read_with_user[1]
    elif connection.vendor == "postgresql":
        aset = _own_set_in_sql(user, slug, document_id)
    else:
        aset = _own_set_orm(user, slug, document_id)
    if aset is None:
        return None
    aset.annotator = user
    project = aset.document.project
    # What permissions.project_role would have fetched with a query of its own.
    roles = getattr(user, "_warrant_roles", None)
    if roles is None:
        roles = user._warrant_roles = {}
    roles.setdefault(project.pk, aset.member_role)
    label_rows = aset.label_rows
    if isinstance(label_rows, str):  # JSON a cursor left as its text
        label_rows = json.loads(label_rows)
    rows = sorted(label_rows or [], key=lambda row: (row["position"], row["name"]))
    for row in rows:  # SQLite's json_object nests a JSON column as its text
        if isinstance(row["attributes"], str):
            row["attributes"] = json.loads(row["attributes"])
    project._span_labels_by_id = {row["id"]: SpanLabel(**row) for row in rows}
    return aset


# What a write reads of the set's document and project: not the upload, its cleaning log
# or the guidelines, which can be large.
_OWN_SET_DEFERRED = {Document: ("original", "cleaning"), Project: ("guidelines",)}


@functools.cache
def _own_set_sql(user: str = "%s") -> tuple[str, tuple]:
    """:func:`_own_set_in_sql`'s statement, and per model the fields it reads and their
    converters (what Django's compiler would apply), in the statement's column order.
    ``user``: the user's id in it, a parameter (given twice: the role's, then the set's
    annotator, around the document's id and the project's slug) or an outer column."""
    q = connection.ops.quote_name
    parts, columns = [], []
    for model, alias in ((AnnotationSet, "s"), (Document, "d"), (Project, "p")):
        fields = [f for f in model._meta.concrete_fields
                  if f.attname not in _OWN_SET_DEFERRED.get(model, ())]
        converters = [
            connection.ops.get_db_converters(f.get_col(model._meta.db_table))
            + f.get_db_converters(connection) for f in fields
        ]
        parts.append((model, [f.attname for f in fields], converters))
        columns += [f"{alias}.{q(f.column)}" for f in fields]
    labels = ", ".join(f"'{name}', l.{q(name)}" for name in _LABEL_FIELDS)
    sql = (
        f"SELECT {', '.join(columns)},"
        f" (SELECT m.role FROM {q(Membership._meta.db_table)} m"
        f" WHERE m.project_id = d.project_id AND m.user_id = {user} LIMIT 1),"
        # json, not jsonb: the rows are read once, and building jsonb (its keys sorted and
        # deduplicated) took 0.2 ms of this statement's 0.4 against json's 0.07.
        f" (SELECT JSON_AGG(JSON_BUILD_OBJECT({labels})) FROM {q(SpanLabel._meta.db_table)} l"
        " WHERE l.project_id = d.project_id)"
        f" FROM {q(AnnotationSet._meta.db_table)} s"
        f" JOIN {q(Document._meta.db_table)} d ON d.id = s.document_id"
        f" JOIN {q(Project._meta.db_table)} p ON p.id = d.project_id"
        f" WHERE s.document_id = %s AND p.slug = %s AND s.annotator_id = {user} LIMIT 1"
    )
    return sql, tuple(parts)


def _own_set_in_sql(user, slug: str, document_id: int) -> AnnotationSet | None:
    """:func:`own_annotation_set`'s query on PostgreSQL, written out: the same row as the
    ORM's (:func:`_own_set_orm`) without compiling it on every write, which took most of
    its ~2.7 ms (issue 12.5), and prepared (annotator.prepared)."""
    sql, _ = _own_set_sql()
    with prepared_cursor() as cursor:
        cursor.execute(sql, [user.pk, document_id, slug, user.pk])
        row = cursor.fetchone()
    return None if row is None else _own_set_from_row(row)


@dataclass
class OwnSetWanted:
    """The set a write of the annotation page is about, while its view runs (web/annotate.py,
    ``writes_own_set``): the request's user is then read with that set in one statement,
    with the session too when the session's row knows its user (web/sessions.py), else
    on its own (:func:`user_with_own_set`). ``user``: the user the session's read brought
    along, for the authentication backend to take once Django has the session's word for
    whose it is."""

    slug: str
    document_id: int
    user: object = None


OWN_SET_WANTED: ContextVar[OwnSetWanted | None] = ContextVar("warrant_own_set_wanted",
                                                             default=None)


def own_set_columns(user: str) -> str:
    """The columns of the user's own set of :attr:`OwnSetWanted`'s document (its document,
    project, role and labels), for a ``LEFT JOIN LATERAL (...)`` whose outer query holds
    the user's id as ``user``; its parameters: the document's id and the project's slug;
    :func:`own_set_on_user` reads them back."""
    return _own_set_sql(user)[0]


def own_set_on_user(user, rest, wanted: OwnSetWanted) -> None:
    """Give ``user`` the set whose columns (:func:`own_set_columns`) are ``rest`` (all None:
    no set), for :func:`own_annotation_set` to take instead of reading it."""
    aset = None if rest[0] is None else _own_set_from_row(rest)
    user._warrant_own_set = ((wanted.slug, int(wanted.document_id)), aset)


@functools.cache
def _user_with_own_set_sql(user_model) -> tuple[str, list[str], list[list]]:
    q = connection.ops.quote_name
    columns, names, converters = select_columns(user_model, "u")
    sql = (f"SELECT {columns}, x.* FROM {q(user_model._meta.db_table)} u"
           f" LEFT JOIN LATERAL ({own_set_columns('u.' + q(user_model._meta.pk.column))}) x"
           f" ON TRUE WHERE u.{q(user_model._meta.pk.column)} = %s")
    return sql, names, converters


def user_with_own_set(user_model, user_id, wanted: OwnSetWanted):
    """The user ``user_id`` (None if there is none) and, on it for
    :func:`own_annotation_set`, their own set of the document with its role and labels:
    the user's read and the set's in one prepared statement on PostgreSQL, one round trip
    fewer on every write of the annotation page (issue 12.5). The set is only a
    candidate: ``own_annotation_set`` hands it to the same permission checks as its own
    read, and Django drops the user (and the set with it) when the session does not
    verify."""
    sql, names, converters = _user_with_own_set_sql(user_model)
    with prepared_cursor() as cursor:
        cursor.execute(sql, [wanted.document_id, wanted.slug, user_id])
        row = cursor.fetchone()
    if row is None:
        return None
    user = model_from_row(user_model, names, converters, row[:len(names)])
    own_set_on_user(user, row[len(names):], wanted)
    return user


def _own_set_from_row(row) -> AnnotationSet:
    """The set, its document and project, role and label rows from :func:`_own_set_sql`'s
    row."""
    _, parts = _own_set_sql()
    made, at = [], 0
    for model, names, converters in parts:
        made.append(model_from_row(model, names, converters, row[at:at + len(names)]))
        at += len(names)
    aset, document, project = made
    document.project = project
    aset.document = document
    aset.member_role, aset.label_rows = row[at], row[at + 1]
    return aset


def _own_set_orm(user, slug: str, document_id: int) -> AnnotationSet | None:
    role = Membership.objects.filter(project=OuterRef("document__project"), user=user)
    labels = (
        SpanLabel.objects.filter(project=OuterRef("document__project")).order_by()
        .values("project").annotate(rows=_JSONArray(JSONObject(**{f: f for f in _LABEL_FIELDS})))
        .values("rows")
    )
    rows = (
        AnnotationSet.objects.filter(
            document_id=document_id, document__project__slug=slug, annotator=user
        )
        .select_related("document__project")
        # The upload and its cleaning log can be large; a write needs the text only.
        .defer("document__original", "document__cleaning", "document__project__guidelines")
        .annotate(member_role=Subquery(role.order_by().values("role")[:1]),
                  label_rows=Subquery(labels))
        .order_by()[:1]  # one at most (one set per annotator per document); no sort needed
    )
    return next(iter(rows), None)


def span_relations(span: Span) -> list[Relation]:
    """The relations that start or end at ``span``, by id, with their types and both ends'
    labels: read once per request (a relabel's schema check, then the span editor)."""
    relations = getattr(span, "_relations_read", None)
    if relations is None:
        relations = span._relations_read = list(
            Relation.objects.filter(Q(source=span) | Q(target=span))
            .select_related("type", "source__label", "target__label")
            .order_by("id")  # the default ordering's, without joining the set's tables
        )
    return relations


def document_sets(*, user, project: Project, document: Document) -> list[AnnotationSet]:
    """The sets of a document ``user`` may open read-only (:func:`readable_sets`)."""
    return list(readable_sets(user=user, project=project, document=document)
                .select_related("annotator"))


# ----------------------------------------------------------------------------- queue


def annotation_queue(*, user, project: Project) -> list[AnnotationSet]:
    """The user's own annotation sets in the project, in the order of the documents."""
    if not user.is_authenticated:
        return []
    return list(
        AnnotationSet.objects.filter(document__project=project, annotator=user, is_gold=False)
        .select_related("document")
        .only("id", "status", "document_id", "document__title", "document__position",
              "document__external_id")
        .order_by("document__position", "document_id")
    )


def annotation_queue_next(
    *, queue: list[AnnotationSet], current_document_id: int
) -> AnnotationSet | None:
    """The next set of ``queue`` after the current document that is not submitted yet.

    The search wraps around to the start of the queue; None when everything
    else is submitted.
    """
    index = next(
        (i for i, s in enumerate(queue) if s.document_id == current_document_id), -1
    )
    ordered = queue[index + 1:] + queue[: max(index, 0)]
    return next((s for s in ordered if s.status != AnnotationStatus.SUBMITTED), None)


# ----------------------------------------------------------------------------- contents


# Plain rows, as tuples: a long brief has thousands, built on every save.
class SpanRow(NamedTuple):
    id: int
    label_id: int
    start: int
    end: int


class RelationRow(NamedTuple):
    id: int
    source_id: int
    target_id: int
    type_id: int


def set_spans(annotation_set: AnnotationSet, start: int | None = None,
              end: int | None = None) -> list[SpanRow]:
    """The set's spans in text order, optionally only those overlapping ``[start, end)``."""
    rows = Span.objects.filter(annotation_set=annotation_set)
    if start is not None and end is not None:
        rows = rows.filter(start__lt=end, end__gt=start)
    return [
        SpanRow(*row)
        for row in rows.order_by("start", "-end", "id").values_list("id", "label_id", "start",
                                                                      "end")
    ]


def _contents_sql() -> str:
    """Both tables' id columns in one UNION ALL (the relations' with their type's name)."""
    q = connection.ops.quote_name
    span, relation, rtype = (m._meta.db_table for m in (Span, Relation, RelationType))
    return (
        f"SELECT 0, id, label_id, {q('start')}, {q('end')}, '' FROM {q(span)}"
        " WHERE annotation_set_id = %s"
        f" UNION ALL SELECT 1, r.id, r.source_id, r.target_id, r.type_id, t.name"
        f" FROM {q(relation)} r JOIN {q(rtype)} t ON t.id = r.type_id"
        " WHERE r.annotation_set_id = %s"
    )


def set_contents(
    annotation_set: AnnotationSet,
) -> tuple[list[SpanRow], list[RelationRow], dict[int, str]]:
    """The set's spans (in text order), relations (by id) and the names of the relation
    types they use, read in one query.

    The annotation page reads all three on every save. One UNION ALL costs one round
    trip instead of three, and written out it costs no query building: on a save, the
    ORM's compiling of this one query took more time than running it (issue 12.5).
    """
    span_rows, relation_rows, type_names = [], [], {}
    with connection.cursor() as cursor:
        cursor.execute(_contents_sql(), [annotation_set.pk, annotation_set.pk])
        for kind, *row, name in cursor.fetchall():
            if kind:
                relation_rows.append(row)
                type_names[row[3]] = name
            else:
                span_rows.append(row)
    span_rows.sort(key=lambda r: (r[2], -r[3], r[0]))
    relation_rows.sort()
    return (list(map(SpanRow._make, span_rows)), list(map(RelationRow._make, relation_rows)),
            type_names)


# ----------------------------------------------------------------------------- segments

# The text is sent in blocks of about this many characters, cut at a line end
# or a space, so that a save re-renders only the blocks it touches.
BLOCK_CHARS = 1500
_CUT = re.compile(r"\n|\s")


def text_blocks(text: str) -> list[tuple[int, int]]:
    """Cut ``text`` into consecutive ``(start, end)`` ranges of about BLOCK_CHARS.

    Each block ends just after a newline (or else a whitespace character) at or
    beyond BLOCK_CHARS; the blocks cover the text exactly.
    """
    blocks = []
    start = 0
    n = len(text)
    while start < n:
        if n - start <= BLOCK_CHARS:
            blocks.append((start, n))
            break
        newline = text.find("\n", start + BLOCK_CHARS)
        cut = newline + 1 if 0 <= newline < start + 2 * BLOCK_CHARS else -1
        if cut < 0:
            match = _CUT.search(text, start + BLOCK_CHARS)
            cut = match.end() if match else n
        blocks.append((start, cut))
        start = cut
    return blocks or [(0, 0)]


@dataclass
class Segment:
    """A run of text covered by the same spans; ``lanes`` maps lane → span."""

    start: int
    end: int
    lanes: dict[int, SpanRow] = field(default_factory=dict)
    starting: list[SpanRow] = field(default_factory=list)


def segments(text: str, block: tuple[int, int], spans: list[SpanRow]) -> list[Segment]:
    """Split a block at every span boundary; give each span a lane (underline row).

    Design note. Lanes are assigned greedily in (start, -end) order, the
    classic interval-colouring that uses as many lanes as the deepest overlap:
    an enclosing span gets a lower lane than what it encloses, so nested and
    crossing spans each keep their own line all along the block. Lanes are per
    block, which lets a save re-render only the blocks it touches.
    """
    b0, b1 = block
    inside = sorted(
        (s for s in spans if s.start < b1 and s.end > b0), key=lambda s: (s.start, -s.end, s.id)
    )
    lane_of: dict[int, int] = {}
    lane_ends: list[int] = []
    for span in inside:
        start = max(span.start, b0)
        for lane, lane_end in enumerate(lane_ends):
            if lane_end <= start:
                lane_ends[lane] = span.end
                break
        else:
            lane = len(lane_ends)
            lane_ends.append(span.end)
        lane_of[span.id] = lane
    cuts = {b0, b1}
    for span in inside:
        cuts.add(max(span.start, b0))
        cuts.add(min(span.end, b1))
    points = sorted(cuts)
    starts_at: dict[int, list[SpanRow]] = {}
    ends_at: dict[int, list[SpanRow]] = {}
    for span in inside:
        starts_at.setdefault(max(span.start, b0), []).append(span)
        ends_at.setdefault(min(span.end, b1), []).append(span)
    active: dict[int, SpanRow] = {}
    out = []
    for a, b in itertools.pairwise(points):
        for span in ends_at.get(a, ()):
            active.pop(lane_of[span.id], None)
        starting = [s for s in starts_at.get(a, ()) if s.start == a]
        for span in starts_at.get(a, ()):
            active[lane_of[span.id]] = span
        out.append(Segment(a, b, dict(active), starting))
    return out


# ----------------------------------------------------------------------------- outline


@dataclass(frozen=True)
class OutlineRow:
    """One line of the outline: a span at a depth, linked to its parent by ``via``."""

    span_id: int
    depth: int
    via: str = ""  # relation type name to the parent ("" for a root)
    attack: bool = False
    repeat: bool = False  # shown in full elsewhere in the outline


@dataclass(frozen=True)
class Warning:
    message: str
    span_ids: tuple[int, ...] = ()


@dataclass
class Outline:
    rows: list[OutlineRow]
    unlinked: list[int]
    warnings: list[Warning]


MAJOR_CLAIM, REASON, EVIDENCE = "MajorClaim", "Reason", "Evidence"
ATTACK_TYPES = frozenset({"attacks"})


def argument_outline(
    spans: list[SpanRow],
    relations: list[RelationRow],
    label_names: dict[int, str],
    type_names: dict[int, str],
) -> Outline:
    """The brief's argument as a tree, built from the relations, and its warnings.

    A relation ``source → target`` puts the source under the target (a reason
    under the claim it supports, evidence under the reason). Roots are the
    major claims, then any other span that points at nothing but is pointed
    at. Every other span that takes part in no relation is listed as unlinked.
    A span reachable from several parents is shown in full under the first and
    marked as a repeat under the others, which also keeps cycles finite.

    Warnings (they never block a submission): no major claim; a reason that
    supports nothing; evidence linked to nothing; a cycle.
    """
    by_id = {s.id: s for s in spans}
    children: dict[int, list[RelationRow]] = {}
    outgoing: dict[int, list[RelationRow]] = {}
    for rel in relations:
        outgoing.setdefault(rel.source_id, []).append(rel)
    # Children in the order of their text, sorted once (stable: ties keep relation order).
    for rel in sorted(relations, key=lambda r: by_id[r.source_id].start):
        children.setdefault(rel.target_id, []).append(rel)
    label = {s.id: label_names.get(s.label_id, "") for s in spans}
    schema_labels = set(label_names.values())

    linked = set(children) | set(outgoing)
    roots = [s.id for s in spans if label[s.id] == MAJOR_CLAIM]
    roots += [s.id for s in spans if s.id in children and s.id not in outgoing
              and label[s.id] != MAJOR_CLAIM]

    rows: list[OutlineRow] = []
    shown: set[int] = set()

    def walk(root: int) -> None:
        stack = [(root, 0, "", False)]
        while stack:
            span_id, depth, via, attack = stack.pop()
            if span_id in shown:
                rows.append(OutlineRow(span_id, depth, via, attack, repeat=True))
                continue
            shown.add(span_id)
            rows.append(OutlineRow(span_id, depth, via, attack))
            for rel in reversed(children.get(span_id, ())):
                name = type_names.get(rel.type_id, "")
                stack.append((rel.source_id, depth + 1, name, name in ATTACK_TYPES))

    for root in roots:
        if root not in shown:
            walk(root)
    # Spans caught only in a cycle are reachable from no root: show them too.
    for span in spans:
        if span.id in linked and span.id not in shown:
            walk(span.id)
    unlinked = [s.id for s in spans if s.id not in linked]

    warnings: list[Warning] = []
    if MAJOR_CLAIM in schema_labels and not any(label[s.id] == MAJOR_CLAIM for s in spans):
        warnings.append(Warning("No major claim: mark the brief's headline claim."))
    if REASON in schema_labels:
        for s in spans:
            if label[s.id] == REASON and s.id not in outgoing:
                warnings.append(Warning("A reason that supports nothing.", (s.id,)))
    if EVIDENCE in schema_labels:
        for s in spans:
            if label[s.id] == EVIDENCE and s.id not in outgoing:
                warnings.append(Warning("Evidence linked to nothing.", (s.id,)))
    # Only a span with links both in and out can be on a cycle: Tarjan walks those alone.
    looped = set(children) & set(outgoing)
    inner = {n: [r for r in outgoing[n] if r.target_id in looped] for n in looped}
    for cycle in _cycles(inner, [s.id for s in spans if s.id in looped]):
        warnings.append(Warning("A cycle: these spans support each other in a loop.", cycle))
    return Outline(rows=rows, unlinked=unlinked, warnings=warnings)


def _cycles(outgoing: dict[int, list[RelationRow]], nodes: list[int]) -> list[tuple[int, ...]]:
    """One cycle per strongly connected component with a loop (Tarjan 1972, iterative)."""
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    on_stack: set[int] = set()
    stack: list[int] = []
    found: list[tuple[int, ...]] = []
    counter = 0
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(outgoing.get(root, ())))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            advanced = False
            for rel in edges:
                nxt = rel.target_id
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(outgoing.get(nxt, ()))))
                    advanced = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(tuple(sorted(component)))
    return found
