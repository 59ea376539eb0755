"""Writes to an annotation set: spans, relations, status, undo.

Every write takes the version of the set the client last saw
(``expected_version``). The version is compared and bumped in one UPDATE, so
a stale tab's write is refused with :class:`ConflictError` instead of silently
overwriting newer work, and two writers can never both succeed from the same
version. The first edit moves the set from *assigned* to *in progress*; a
submitted set takes no edits until it is reopened.

Every edit is also written to the set's action log (``AnnotationAction``) with
what its inverse needs, which is how undo and redo work: undo takes the newest
action not undone yet and applies its inverse (a deleted span comes back with
its id, its relations and its creation time); redo applies again what undo took
back, until a new edit clears the way (see :func:`annotation_set_redo`). Undo
then redo, or redo then undo, leaves the set's rows as they were, byte for byte.
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, connection, transaction
from django.db.models import Case, Exists, F, IntegerField, Q, QuerySet, Subquery, Value, When
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from annotator.formats.schema import ANY_LABEL, pair_allowed
from annotator.models import (
    AnnotationSet,
    AnnotationStatus,
    Relation,
    RelationType,
    Span,
    SpanLabel,
)
from annotator.models.actions import ActionKind, AnnotationAction
from annotator.prepared import model_from_row, prepared_cursor, select_columns
from annotator.selectors.annotations import span_relations
from annotator.selectors.grading import grade_lock, grade_locked_sets, grade_locked_sql
from annotator.selectors.projects import label_spec
from annotator.text.storable import first_unstorable
from annotator.text.tokens import snap_to_words, trim_whitespace

from .agreement import agreement_after_submission
from .errors import ClosedError, ConflictError, WarrantError
from .rows import create_keeping_times

# Undo reaches back this many edits: "recent actions", not the whole history,
# so that an old undo cannot surprise a user who has long moved on.
UNDO_DEPTH = 100
# A note is a remark for a curator, not a document of its own.
MAX_NOTE_CHARS = 4000
# "Mark all matches" writes at most this many spans in one action: a search for
# "the" in a long brief is a mistake to refuse, not 5,000 spans to undo.
MAX_SPANS_PER_ACTION = 500
# A relation's attributes (a multi-source link's group) are a few flags, not a payload store.
MAX_RELATION_ATTRIBUTES = 20
MAX_RELATION_ATTRIBUTE_CHARS = 200


# --------------------------------------------------------------------------- helpers


def _bump(*, annotation_set: AnnotationSet, expected_version: int, edit: bool = True,
          unless: tuple[QuerySet, str] | None = None) -> None:
    """Compare-and-swap the set's version; an edit also starts an assigned set.

    One UPDATE does the check and the increment, so it is atomic on every
    database; on PostgreSQL it also holds the row lock until the transaction ends.
    ``unless`` is a query of rows that refuse the edit, with the refusal: checked in
    the same UPDATE (a save's round trip fewer), and raised when it is the reason.
    """
    if isinstance(expected_version, bool) or not isinstance(expected_version, int):
        raise WarrantError("expected_version must be a whole number")
    if unless is None and connection.vendor == "postgresql":
        return _bump_prepared(annotation_set, expected_version, edit)
    changes = {"version": F("version") + 1, "updated_at": timezone.now()}
    today = timezone.localdate()
    # A student's set that counts for a fixed grade is closed to every write here,
    # in the same statement as the version check (selectors.grading.grade_locked_sets).
    rows = AnnotationSet.objects.filter(pk=annotation_set.pk, version=expected_version).filter(
        ~grade_locked_sets(today)
    )
    if edit:
        changes["status"] = Case(
            When(status=AnnotationStatus.ASSIGNED, then=Value(AnnotationStatus.IN_PROGRESS)),
            default=F("status"),
        )
        changes["started_at"] = Coalesce(F("started_at"), Value(timezone.now()))
        rows = rows.exclude(status=AnnotationStatus.SUBMITTED)
    if unless is not None:
        rows = rows.filter(~Exists(unless[0]))
    if rows.update(**changes) != 1:
        _refuse(annotation_set, expected_version, unless, today)
    _bumped(annotation_set, expected_version, edit)


@functools.cache
def _bump_sql(edit: bool) -> str:
    """:func:`_bump`'s UPDATE written out for PostgreSQL, with ``{locked}`` for the
    grade-lock condition (selectors.grading.grade_locked_sql)."""
    sets = connection.ops.quote_name(AnnotationSet._meta.db_table)
    started = (f", status = CASE WHEN {sets}.status = %s THEN %s ELSE {sets}.status END,"
               f" started_at = COALESCE({sets}.started_at, %s)") if edit else ""
    return (
        f"UPDATE {sets} SET version = {sets}.version + 1, updated_at = %s{started}"
        f" WHERE {sets}.id = %s AND {sets}.version = %s"
        + (f" AND {sets}.status <> %s" if edit else "") + " AND NOT ({locked})"
    )


def _bump_statement(annotation_set: AnnotationSet, expected_version: int, edit: bool, now,
                    today) -> tuple[str, list]:
    """:func:`_bump_sql` with the grade-lock condition in, and its parameters."""
    locked, locked_params = grade_locked_sql(today)
    params = [now]
    if edit:
        params += [AnnotationStatus.ASSIGNED.value, AnnotationStatus.IN_PROGRESS.value, now]
    params += [annotation_set.pk, expected_version]
    if edit:
        params.append(AnnotationStatus.SUBMITTED.value)
    return _bump_sql(edit).replace("{locked}", locked), [*params, *locked_params]


def _bump_prepared(annotation_set: AnnotationSet, expected_version: int, edit: bool) -> None:
    """:func:`_bump` on PostgreSQL: the same UPDATE as a prepared statement, neither
    compiled by the ORM nor planned on every edit (annotator.prepared: planning the
    grade-lock condition cost more than running it, issue 12.5)."""
    now, today = timezone.now(), timezone.localdate()
    sql, params = _bump_statement(annotation_set, expected_version, edit, now, today)
    with prepared_cursor() as cursor:
        cursor.execute(sql, params)
        changed = cursor.rowcount
    if changed != 1:
        _refuse(annotation_set, expected_version, None, today)
    _bumped(annotation_set, expected_version, edit)


def _bumped(annotation_set: AnnotationSet, expected_version: int, edit: bool) -> None:
    """What a successful :func:`_bump` changed, on the caller's copy of the set."""
    annotation_set.version = expected_version + 1
    if edit and annotation_set.status == AnnotationStatus.ASSIGNED:
        annotation_set.status = AnnotationStatus.IN_PROGRESS


def _refuse(annotation_set: AnnotationSet, expected_version: int,
            unless: tuple[QuerySet, str] | list[tuple[QuerySet, str]] | None, today) -> None:
    """Raise why :func:`_bump`'s UPDATE changed no row: gone, stale, closed, refused by
    ``unless`` (a query of the rows that refuse the edit and why, or several, in order)
    or submitted."""
    current = AnnotationSet.objects.filter(pk=annotation_set.pk).values("version", "status").first()
    if current is None:
        raise WarrantError("this annotation set no longer exists")
    if current["version"] != expected_version:
        raise ConflictError(
            f"this annotation set was changed elsewhere (now version {current['version']}, "
            f"this page shows version {expected_version}): reload the page to see the newest "
            "work; your last action was not saved"
        )
    closed = grade_lock(annotation_set, today)
    if closed:
        raise ClosedError(closed)
    for rows, why in [unless] if isinstance(unless, tuple) else unless or ():
        if rows.exists():
            raise WarrantError(why)
    raise WarrantError("this annotation set is submitted: reopen it before changing it")


def _require_editable(annotation_set: AnnotationSet) -> None:
    if annotation_set.status == AnnotationStatus.SUBMITTED:
        closed = grade_lock(annotation_set, timezone.localdate())
        if closed:
            raise ClosedError(closed)
        raise WarrantError("this annotation set is submitted: reopen it before changing it")


def _log(
    *, annotation_set: AnnotationSet, user, kind: str, payload: dict
) -> AnnotationAction:
    return AnnotationAction.objects.create(
        annotation_set=annotation_set,
        user=user if user is not None and user.is_authenticated else None,
        kind=kind,
        payload=payload,
        version=annotation_set.version,
    )


def _check_storable(text: str, what: str) -> None:
    """Refuse what neither PostgreSQL nor JSON can hold: NUL and lone surrogates."""
    if first_unstorable(text) is not None:
        raise WarrantError(f"{what} holds a character that cannot be stored (NUL or a lone "
                           "UTF-16 surrogate)")


def _check_attributes(label: SpanLabel, attributes: object) -> dict:
    """A span's attributes as ``label``'s schema declares them (formats/schema.py)."""
    if isinstance(attributes, dict):
        for key, value in attributes.items():
            if isinstance(key, str):
                _check_storable(key, "an attribute name")
            if isinstance(value, str):
                _check_storable(value, f"attribute {key!r}")
    try:
        return label_spec(label).clean_attributes(attributes)
    except ValueError as exc:
        raise WarrantError(str(exc)) from None


def _attributes_kept(label: SpanLabel, attributes: dict) -> dict:
    """What of a span's attributes a new label can hold (relabelling drops the rest;
    the undo log keeps them)."""
    spec = label_spec(label)
    kept = {}
    for name, value in attributes.items():
        attribute = spec.attribute(name)
        try:
            if attribute is not None:
                kept[name] = attribute.check(value)
        except ValueError:
            continue
    return kept


def check_relation_attributes(attributes: object) -> dict:
    """A relation's free attributes: names to text, a number or yes/no."""
    if not isinstance(attributes, dict):
        raise WarrantError("attributes must be a mapping of names to values")
    if len(attributes) > MAX_RELATION_ATTRIBUTES:
        raise WarrantError(f"a relation takes at most {MAX_RELATION_ATTRIBUTES} attributes")
    clean = {}
    for key, value in attributes.items():
        if not isinstance(key, str) or not key.strip() or len(key) > 64:
            raise WarrantError(f"attribute name {key!r} must be 1-64 characters")
        if value is None or value == "":
            continue
        if not isinstance(value, str | int | float | bool):
            raise WarrantError(f"attribute {key!r} must be text, a number or true/false")
        if isinstance(value, str) and len(value) > MAX_RELATION_ATTRIBUTE_CHARS:
            raise WarrantError(
                f"attribute {key!r} is longer than {MAX_RELATION_ATTRIBUTE_CHARS} characters"
            )
        if isinstance(value, float) and not math.isfinite(value):
            raise WarrantError(f"attribute {key!r} must be a finite number")
        _check_storable(key, "an attribute name")
        if isinstance(value, str):
            _check_storable(value, f"attribute {key!r}")
        clean[key.strip()] = value
    return clean


def _check_note(note: str) -> str:
    if not isinstance(note, str):
        raise WarrantError("a note must be text")
    if len(note) > MAX_NOTE_CHARS:
        raise WarrantError(f"a note is at most {MAX_NOTE_CHARS} characters")
    _check_storable(note, "the note")
    return note.strip()


def _check_label(annotation_set: AnnotationSet, label: SpanLabel) -> None:
    if label.project_id != annotation_set.document.project_id:
        raise WarrantError(f"label {label.name!r} is not part of this project's schema")


def describe_allowed(allowed: list, type_name: str) -> str:
    """The allowed label pairs of a relation type in words, for refusals."""
    if not allowed:
        return f"the schema allows no {type_name} relation at all"
    by_source: dict[str, list[str]] = {}
    for src, tgt in allowed:
        by_source.setdefault(src, []).append(tgt)

    def name(label: str) -> str:
        return "any label" if label == ANY_LABEL else label

    def join(names: list[str]) -> str:
        names = [name(n) for n in names]
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]

    parts = [f"from {name(src)} to {join(tgts)}" for src, tgts in by_source.items()]
    return f"{type_name} may only go " + "; ".join(parts)


def relation_refusal(rtype: RelationType, source_label: str, target_label: str) -> str | None:
    """Why the schema refuses ``rtype`` from ``source_label`` to ``target_label`` (None: it allows).

    For an undirected type either direction is enough.
    """
    if pair_allowed(rtype.allowed, source_label, target_label):
        return None
    if not rtype.directed and pair_allowed(rtype.allowed, target_label, source_label):
        return None
    return (
        f"{rtype.name} cannot link {source_label} to {target_label}: "
        f"{describe_allowed(rtype.allowed, rtype.name)}"
    )


def _span_row(span: Span) -> dict:
    return {
        "id": span.pk,
        "label": span.label_id,
        "start": span.start,
        "end": span.end,
        "attributes": span.attributes,
        "note": span.note,
        "external_id": span.external_id,
        "suggested_by": span.suggested_by,
        "created_at": span.created_at.isoformat() if span.created_at else None,
    }


def _relation_row(relation: Relation) -> dict:
    return {
        "id": relation.pk,
        "source": relation.source_id,
        "target": relation.target_id,
        "type": relation.type_id,
        "attributes": relation.attributes,
        "external_id": relation.external_id,
        "created_at": relation.created_at.isoformat() if relation.created_at else None,
    }


def _snap(text: str, start: int, end: int, snap: bool) -> tuple[int, int]:
    for value in (start, end):
        if isinstance(value, bool) or not isinstance(value, int):
            raise WarrantError("span offsets must be whole numbers")
    if not 0 <= start < end <= len(text):
        raise WarrantError(f"the span {start}-{end} is outside the text (0-{len(text)})")
    try:
        return (snap_to_words if snap else trim_whitespace)(text, start, end)
    except ValueError as exc:
        raise WarrantError(str(exc)) from None


# --------------------------------------------------------------------------- spans


def span_create(
    *,
    annotation_set: AnnotationSet,
    label: SpanLabel,
    start: int,
    end: int,
    expected_version: int,
    user=None,
    snap: bool = True,
    attributes: dict | None = None,
    note: str = "",
    suggested_by: str = "",
) -> Span:
    """Mark ``[start, end)`` (code points) with ``label``.

    Whitespace at either end is always dropped; with ``snap`` the range grows
    to whole words (tokens). The same label on exactly the same text twice is
    refused. ``suggested_by`` names the recommender when the span is an accepted
    suggestion (services/suggestions.py).
    """
    _require_editable(annotation_set)
    _check_label(annotation_set, label)
    start, end = _snap(annotation_set.document.text, start, end, snap)
    attributes = _check_attributes(label, attributes or {})
    note = _check_note(note)

    def unless():  # what refuses it: the same label on the same text
        same = Span.objects.filter(annotation_set=annotation_set, start=start, end=end,
                                   label=label)
        return same, f"this text is already marked {label.name}"

    if connection.vendor == "postgresql":
        return _span_create_in_one_statement(
            annotation_set=annotation_set, label=label, start=start, end=end,
            expected_version=expected_version, user=user, attributes=attributes, note=note,
            suggested_by=suggested_by, unless=unless,
        )
    with transaction.atomic():
        _bump(annotation_set=annotation_set, expected_version=expected_version, unless=unless())
        return _span_and_log(annotation_set=annotation_set, label=label, start=start, end=end,
                             user=user, attributes=attributes, note=note,
                             suggested_by=suggested_by)


def _span_and_log(*, annotation_set, label, start, end, user, attributes, note,
                  suggested_by) -> Span:
    span = Span.objects.create(
        annotation_set=annotation_set,
        label=label,
        start=start,
        end=end,
        attributes=attributes,
        note=note,
        suggested_by=suggested_by,
    )
    _log(
        annotation_set=annotation_set,
        user=user,
        kind=ActionKind.SPAN_CREATE,
        payload={"span": span.pk, "start": start, "end": end, "label": label.name},
    )
    return span


@functools.cache
def _span_create_sql() -> str:
    """PostgreSQL: :func:`_bump`'s UPDATE (``{bump}``, :func:`_bump_statement`), the span's
    INSERT and its log row's INSERT as one statement (data-modifying CTEs), atomic without
    a transaction of its own: one round trip instead of five (BEGIN, three statements,
    COMMIT) and no ORM compiling on the hottest write (issue 12.5); prepared, so that it
    is not planned on every save (annotator.prepared). The rows inserted only when the
    UPDATE matched."""
    q = connection.ops.quote_name
    sets, spans = q(AnnotationSet._meta.db_table), q(Span._meta.db_table)
    return (
        "WITH bumped AS ({bump}" + _span_repeated_sql()
        + f" RETURNING {sets}.id, {sets}.version),"
        f" span AS (INSERT INTO {spans} (annotation_set_id, label_id, start, \"end\", attributes,"
        " note, external_id, suggested_by, created_at)"
        " SELECT bumped.id, %s, %s, %s, %s::jsonb, %s, '', %s, %s FROM bumped RETURNING id),"
        + _logged_sql("span", "jsonb_build_object('span', span.id, 'start', %s::integer,"
                      " 'end', %s::integer, 'label', %s::text)")
    )


def _logged_sql(made: str, payload: str) -> str:
    """The end of a one-statement write (:func:`_write_in_one_statement`): the log row of
    the row the CTE ``made`` inserted, with ``payload`` (its parameters after the user's
    id and the kind, before the time), and that row's id as the statement's answer."""
    actions = connection.ops.quote_name(AnnotationAction._meta.db_table)
    return (
        f" logged AS (INSERT INTO {actions} (annotation_set_id, user_id, kind, payload, version,"
        f" undone, created_at) SELECT bumped.id, %s, %s, {payload}, bumped.version, false, %s"
        f" FROM bumped, {made} RETURNING id)"
        f" SELECT {made}.id FROM {made}, logged"
    )


def _span_create_in_one_statement(*, annotation_set, label, start, end, expected_version,
                                  user, attributes, note, suggested_by, unless) -> Span:
    """:func:`span_create`'s write on PostgreSQL (:func:`_span_create_sql`); refused for
    the same reasons, with the same messages, as :func:`_bump` (which it checks first)."""
    now = timezone.now()
    row_id = _write_in_one_statement(annotation_set, expected_version, _span_create_sql(), [
        start, end, label.pk, None,
        label.pk, start, end, json.dumps(attributes), note, suggested_by, now,
        _user_id(user), ActionKind.SPAN_CREATE.value, start, end, label.name, now,
    ], now, unless)
    span = Span(id=row_id, annotation_set=annotation_set, label=label, start=start, end=end,
                attributes=attributes, note=note, external_id="", suggested_by=suggested_by,
                created_at=now)
    span._state.adding, span._state.db = False, connection.alias
    return span


def _user_id(user) -> int | None:
    return user.pk if user is not None and user.is_authenticated else None


def _write_in_one_statement(annotation_set: AnnotationSet, expected_version: int, sql: str,
                            params: list, now, unless) -> int:
    """Run a write written as one statement after :func:`_bump`'s UPDATE (``{bump}`` in
    ``sql``, an edit's, its parameters first, then ``params``), prepared; the id it
    returns, or the refusal :func:`_refuse` finds (``unless()``: the rows that refuse the
    edit, and why)."""
    if isinstance(expected_version, bool) or not isinstance(expected_version, int):
        raise WarrantError("expected_version must be a whole number")
    today = timezone.localdate()
    bump, bump_params = _bump_statement(annotation_set, expected_version, True, now, today)
    with prepared_cursor() as cursor:
        cursor.execute(sql.replace("{bump}", bump), [*bump_params, *params])
        row = cursor.fetchone()
    if row is None:
        _refuse(annotation_set, expected_version, unless(), today)
    _bumped(annotation_set, expected_version, edit=True)
    return row[0]


def span_update(
    *,
    span: Span,
    expected_version: int,
    user=None,
    label: SpanLabel | None = None,
    attributes: dict | None = None,
    note: str | None = None,
    start: int | None = None,
    end: int | None = None,
    snap: bool = False,
) -> Span:
    """Relabel a span, move its boundaries, replace its attributes or its note.

    None leaves a field as it is. New boundaries (code points) are trimmed of
    whitespace and, with ``snap``, grown to whole words as in :func:`span_create`.
    A relabel that would leave one of the span's relations outside the schema
    is refused with the reason; delete that relation first. A change that
    changes nothing is no edit: the version stays.
    """
    annotation_set = span.annotation_set
    _require_editable(annotation_set)
    fields = ("label", "start", "end", "attributes", "note")
    old = {"label": span.label_id, "start": span.start, "end": span.end,
           "attributes": span.attributes, "note": span.note}
    if label is not None and label.pk != span.label_id:
        _check_label(annotation_set, label)
        for relation in span_relations(span):
            src = label.name if relation.source_id == span.pk else relation.source.label.name
            tgt = label.name if relation.target_id == span.pk else relation.target.label.name
            why = relation_refusal(relation.type, src, tgt)
            if why:
                raise WarrantError(
                    f"cannot relabel to {label.name}: {why}; delete that relation first"
                )
        span.label = label
        if attributes is None:
            span.attributes = _attributes_kept(label, span.attributes)
    if start is not None or end is not None:
        span.start, span.end = _snap(
            annotation_set.document.text,
            span.start if start is None else start,
            span.end if end is None else end,
            snap,
        )
    if attributes is not None:
        span.attributes = _check_attributes(span.label, attributes)
    if note is not None:
        span.note = _check_note(note)
    new = {name: getattr(span, "label_id" if name == "label" else name) for name in fields}
    if new == old:
        return span
    moved = (new["start"], new["end"], new["label"]) != (old["start"], old["end"], old["label"])
    changed = [name for name in fields if new[name] != old[name]]
    payload = {"span": span.pk,
               "old": {name: old[name] for name in changed},
               "new": {name: new[name] for name in changed}}
    if connection.vendor == "postgresql":
        _span_update_in_one_statement(span, expected_version, user, moved, payload)
        return span
    with transaction.atomic():
        if moved and Span.objects.filter(annotation_set=annotation_set, start=span.start,
                                         end=span.end, label_id=span.label_id
                                         ).exclude(pk=span.pk).exists():
            raise WarrantError(f"this text is already marked {span.label.name}")
        _bump(annotation_set=annotation_set, expected_version=expected_version)
        if not Span.objects.filter(pk=span.pk, annotation_set=annotation_set).update(
                **{name: getattr(span, name) for name in changed}):
            raise WarrantError(_ALREADY_DELETED.format(what=Span._meta.verbose_name))
        _log(annotation_set=annotation_set, user=user, kind=ActionKind.SPAN_UPDATE,
             payload=payload)
    return span


# The columns :func:`span_update` writes, as :func:`_update_sql` assigns them.
_SPAN_COLUMNS = 'label_id = %s, start = %s, "end" = %s, attributes = %s::jsonb, note = %s'


@functools.cache
def _span_repeated_sql() -> str:
    """The condition that no other span of the set has a new, moved or relabelled span's
    label on its boundaries (parameters: start, end, label, the span's id, None for a new
    one)."""
    q = connection.ops.quote_name
    sets, spans = q(AnnotationSet._meta.db_table), q(Span._meta.db_table)
    return (f" AND NOT EXISTS (SELECT 1 FROM {spans} x WHERE x.annotation_set_id = {sets}.id"
            ' AND x.start = %s AND x."end" = %s AND x.label_id = %s'
            " AND x.id IS DISTINCT FROM %s)")


@functools.cache
def _update_sql(model, columns: str, condition: str = "") -> str:
    """PostgreSQL: an edit of one row of ``model`` (a span's or a relation's) as one prepared
    statement, as :func:`_span_create_sql` does for a new span: :func:`_bump`'s UPDATE
    (``{bump}``), which matches only while the row is in the set (and ``condition`` holds),
    the row's UPDATE (``columns``: its assignments) and the log row's INSERT. One round
    trip instead of five or six (BEGIN, a check, the three statements, COMMIT); nothing
    changes unless the first matched. Parameters: the bump's, the row's id, the
    condition's, the assignments', the row's id, then the log's (:func:`_logged_sql`)."""
    q = connection.ops.quote_name
    sets, table = q(AnnotationSet._meta.db_table), q(model._meta.db_table)
    return (
        "WITH bumped AS ({bump}"
        f" AND EXISTS (SELECT 1 FROM {table} x WHERE x.id = %s"
        f" AND x.annotation_set_id = {sets}.id){condition}"
        f" RETURNING {sets}.id, {sets}.version),"
        f" changed AS (UPDATE {table} x SET {columns} FROM bumped WHERE x.id = %s"
        " AND x.annotation_set_id = bumped.id RETURNING x.id),"
        + _logged_sql("changed", "%s::jsonb")
    )


def _update_in_one_statement(row: Span | Relation, expected_version: int, user, *,
                             kind: ActionKind, payload: dict, columns: str, values: list,
                             condition: tuple[str, list, tuple[QuerySet, str]] | None = None
                             ) -> None:
    """An edit of ``row`` on PostgreSQL (:func:`_update_sql`), ``values`` for ``columns``;
    refused for the same reasons, with the same messages, as the ORM's writes, and a row
    deleted behind the set's version as :func:`_delete` says. ``condition``: a further
    condition of the edit, its parameters and the refusal when it fails."""
    annotation_set = row.annotation_set
    sql, params, refusal = condition or ("", [], None)

    def unless():  # what refuses it: the row gone, or the condition
        still = type(row).objects.filter(pk=row.pk, annotation_set=annotation_set)
        gone = (AnnotationSet.objects.filter(pk=annotation_set.pk).filter(~Exists(still)),
                _ALREADY_DELETED.format(what=type(row)._meta.verbose_name))
        return [gone] if refusal is None else [gone, refusal]

    now = timezone.now()
    _write_in_one_statement(annotation_set, expected_version,
                            _update_sql(type(row), columns, sql), [
        row.pk, *params, *values, row.pk,
        _user_id(user), kind.value, json.dumps(payload), now,
    ], now, unless)


def _span_update_in_one_statement(span: Span, expected_version: int, user, moved: bool,
                                  payload: dict) -> None:
    """:func:`span_update`'s write on PostgreSQL (:func:`_update_in_one_statement`): the
    whole row as the span now is; moved or relabelled, onto no repeat of itself."""
    repeated = None
    if moved:
        same = Span.objects.filter(annotation_set=span.annotation_set, start=span.start,
                                   end=span.end, label_id=span.label_id).exclude(pk=span.pk)
        repeated = (_span_repeated_sql(), [span.start, span.end, span.label_id, span.pk],
                    (same, f"this text is already marked {span.label.name}"))
    _update_in_one_statement(
        span, expected_version, user, kind=ActionKind.SPAN_UPDATE, payload=payload,
        columns=_SPAN_COLUMNS, condition=repeated,
        values=[span.label_id, span.start, span.end, json.dumps(span.attributes), span.note])


@transaction.atomic
def spans_create(
    *,
    annotation_set: AnnotationSet,
    label: SpanLabel,
    ranges: list[tuple[int, int]],
    expected_version: int,
    user=None,
    snap: bool = True,
) -> list[Span]:
    """Mark many ranges with ``label`` in one edit, which one undo takes back whole.

    Each range is trimmed (and snapped) as in :func:`span_create`; ranges
    already marked ``label``, and repeats among them, are left out. Refused
    whole when any range is outside the text, when none is left, or beyond
    MAX_SPANS_PER_ACTION.
    """
    _require_editable(annotation_set)
    _check_label(annotation_set, label)
    if not isinstance(ranges, list | tuple) or not ranges:
        raise WarrantError("nothing to mark: give at least one range")
    if len(ranges) > MAX_SPANS_PER_ACTION:
        raise WarrantError(
            f"{len(ranges)} spans at once is more than {MAX_SPANS_PER_ACTION}: narrow the search"
        )
    text = annotation_set.document.text
    wanted: list[tuple[int, int]] = []
    for pair in ranges:
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            raise WarrantError("each range is a pair of offsets [start, end]")
        wanted.append(_snap(text, pair[0], pair[1], snap))
    lo, hi = min(a for a, _ in wanted), max(b for _, b in wanted)
    marked = set(
        Span.objects.filter(annotation_set=annotation_set, label=label, start__gte=lo,
                            end__lte=hi).order_by().values_list("start", "end")
    )
    fresh = sorted(set(wanted) - marked)
    if not fresh:
        raise WarrantError(f"every match is already marked {label.name}")
    _bump(annotation_set=annotation_set, expected_version=expected_version)
    spans = Span.objects.bulk_create(
        [Span(annotation_set=annotation_set, label=label, start=a, end=b) for a, b in fresh]
    )
    _log(
        annotation_set=annotation_set,
        user=user,
        kind=ActionKind.SPANS_CREATE,
        payload={"spans": [span.pk for span in spans], "label": label.name},
    )
    return spans


@dataclass(frozen=True)
class NewSpan:
    """A span for :func:`spans_and_relations_create`."""

    label: SpanLabel
    start: int
    end: int
    suggested_by: str = ""


@transaction.atomic
def spans_and_relations_create(
    *,
    annotation_set: AnnotationSet,
    spans: list[NewSpan],
    relations: list[tuple[Span | int, Span | int, RelationType]],
    expected_version: int,
    user=None,
) -> tuple[list[Span], list[Relation]]:
    """Add spans and relations in one edit, which one undo takes back whole.

    A relation's ends are existing spans of the set or indices into ``spans``.
    Offsets are kept as given, trimmed of whitespace (no snapping); every check of
    :func:`span_create` and :func:`relation_create` applies, and the edit is
    refused whole when one fails. Accepting suggestions writes through here.
    """
    _require_editable(annotation_set)
    if not spans and not relations:
        raise WarrantError("nothing to add")
    if len(spans) + len(relations) > MAX_SPANS_PER_ACTION:
        raise WarrantError(f"at most {MAX_SPANS_PER_ACTION} spans and relations at once")
    text = annotation_set.document.text
    wanted: list[tuple[SpanLabel, int, int, str]] = []
    for new in spans:
        _check_label(annotation_set, new.label)
        start, end = _snap(text, new.start, new.end, False)
        wanted.append((new.label, start, end, new.suggested_by))
    keys = [(label.pk, start, end) for label, start, end, _ in wanted]
    if len(set(keys)) != len(keys):
        raise WarrantError("the same span is given twice")
    if keys:
        lo, hi = min(k[1] for k in keys), max(k[2] for k in keys)
        taken = set(Span.objects.filter(annotation_set=annotation_set, start__gte=lo,
                                        end__lte=hi).values_list("label_id", "start", "end"))
        clash = next((w for w, k in zip(wanted, keys, strict=True) if k in taken), None)
        if clash is not None:
            raise WarrantError(f"this text is already marked {clash[0].name}")
    _bump(annotation_set=annotation_set, expected_version=expected_version)
    created = Span.objects.bulk_create([
        Span(annotation_set=annotation_set, label=label, start=start, end=end,
             suggested_by=suggested_by)
        for label, start, end, suggested_by in wanted
    ])

    def end_of(ref: Span | int) -> Span:
        if isinstance(ref, Span):
            if ref.annotation_set_id != annotation_set.pk:
                raise WarrantError("both spans of a relation must belong to this annotation set")
            return ref
        return created[ref]

    links: list[Relation] = []
    seen = set()
    for src_ref, tgt_ref, rtype in relations:
        source, target = end_of(src_ref), end_of(tgt_ref)
        if source.pk == target.pk:
            raise WarrantError("a span cannot be related to itself")
        if rtype.project_id != annotation_set.document.project_id:
            raise WarrantError(f"relation type {rtype.name!r} is not part of this project's "
                               "schema")
        why = relation_refusal(rtype, source.label.name, target.label.name)
        if why:
            raise WarrantError(why)
        if (source.pk, target.pk, rtype.pk) in seen:
            continue
        seen.add((source.pk, target.pk, rtype.pk))
        links.append(Relation(annotation_set=annotation_set, source=source, target=target,
                              type=rtype))
    new_ids = {span.pk for span in created}
    between_old = [r for r in links if r.source.pk not in new_ids and r.target.pk not in new_ids]
    if between_old:
        same = Q()
        for r in between_old:
            same |= Q(source=r.source, target=r.target, type=r.type)
        if Relation.objects.filter(same).exists():
            raise WarrantError("these two spans are already linked")
    made = Relation.objects.bulk_create(links)
    _log(
        annotation_set=annotation_set,
        user=user,
        kind=ActionKind.SPANS_CREATE,
        payload={"spans": [span.pk for span in created],
                 "links": [r.pk for r in made
                           if r.source_id not in new_ids and r.target_id not in new_ids],
                 "label": "suggestions"},
    )
    return created, made


def span_delete(*, span: Span, expected_version: int, user=None) -> None:
    """Delete a span; the relations that start or end at it go with it."""
    _require_editable(span.annotation_set)
    if connection.vendor == "postgresql":  # the statement logs the relations it deletes
        _delete_in_one_statement(span, expected_version, user, kind=ActionKind.SPAN_DELETE,
                                 payload={"span": _span_row(span)})
        return
    relations = list(Relation.objects.filter(Q(source=span) | Q(target=span)).order_by("id"))
    payload = {"span": _span_row(span), "relations": [_relation_row(r) for r in relations]}
    _delete(span, expected_version, user, kind=ActionKind.SPAN_DELETE, payload=payload)


def _delete(row: Span | Relation, expected_version: int, user, *, kind: str,
            payload: dict) -> None:
    """Delete a span (with its relations) or a relation, as one edit logged with ``payload``."""
    if connection.vendor == "postgresql":
        _delete_in_one_statement(row, expected_version, user, kind=kind, payload=payload)
        return
    with transaction.atomic():
        _bump(annotation_set=row.annotation_set, expected_version=expected_version)
        # A span's relations go by the foreign keys' CASCADE, in the same DELETE; only
        # while the row is in the set, as on PostgreSQL.
        deleted = type(row).objects.filter(pk=row.pk, annotation_set=row.annotation_set).delete()
        if deleted[1].get(type(row)._meta.label, 0) != 1:
            raise WarrantError(_ALREADY_DELETED.format(what=type(row)._meta.verbose_name))
        _log(annotation_set=row.annotation_set, user=user, kind=kind, payload=payload)


# A row deleted behind the set's version (by what edits the tables directly, the admin).
_ALREADY_DELETED = "this {what} was already deleted: reload the page"


@functools.cache
def _delete_sql(what: str) -> str:
    """PostgreSQL: :func:`_bump`'s UPDATE (``{bump}``), the DELETE of a relation, or of a
    span and the relations at it (``what``), and the log row's INSERT as one prepared
    statement, as :func:`_span_create_sql` does for a new span: one round trip instead
    of five or six (BEGIN, the statements, COMMIT). The UPDATE matches only while the
    row is still in the set, and nothing is deleted or logged unless it matched. A span's
    log row gets the rows of its relations from their DELETE: no read of them first."""
    q = connection.ops.quote_name
    sets, spans = q(AnnotationSet._meta.db_table), q(Span._meta.db_table)
    relations, actions = q(Relation._meta.db_table), q(AnnotationAction._meta.db_table)
    table = spans if what == "span" else relations
    links = (f" links AS (DELETE FROM {relations} x USING bumped"
             " WHERE x.annotation_set_id = bumped.id AND (x.source_id = %s OR x.target_id = %s)"
             " RETURNING x.*)," if what == "span" else "")
    # A span's log row holds the rows of the relations deleted with it, as _relation_row
    # writes them (the time as JSON writes a timestamp: ISO 8601, as undo reads it back).
    payload = ("%s::jsonb || jsonb_build_object('relations', COALESCE((SELECT jsonb_agg("
               "jsonb_build_object('id', l.id, 'source', l.source_id, 'target', l.target_id,"
               " 'type', l.type_id, 'attributes', l.attributes, 'external_id', l.external_id,"
               " 'created_at', l.created_at) ORDER BY l.id) FROM links l), '[]'::jsonb))"
               if what == "span" else "%s::jsonb")
    return (
        "WITH bumped AS ({bump}"
        f" AND EXISTS (SELECT 1 FROM {table} x WHERE x.id = %s"
        f" AND x.annotation_set_id = {sets}.id) RETURNING {sets}.id, {sets}.version),"
        f"{links}"
        f" gone AS (DELETE FROM {table} x USING bumped WHERE x.id = %s"
        " AND x.annotation_set_id = bumped.id RETURNING x.id),"
        f" logged AS (INSERT INTO {actions} (annotation_set_id, user_id, kind, payload, version,"
        f" undone, created_at) SELECT bumped.id, %s, %s, {payload}, bumped.version, false, %s"
        " FROM bumped, gone RETURNING id)"
        " SELECT logged.id FROM logged"
    )


def _delete_in_one_statement(row: Span | Relation, expected_version: int, user, *,
                             kind: str, payload: dict) -> None:
    """:func:`_delete` on PostgreSQL (:func:`_delete_sql`); refused for the same reasons,
    with the same messages."""
    if isinstance(expected_version, bool) or not isinstance(expected_version, int):
        raise WarrantError("expected_version must be a whole number")
    annotation_set, span = row.annotation_set, isinstance(row, Span)
    now, today = timezone.now(), timezone.localdate()
    bump, params = _bump_statement(annotation_set, expected_version, True, now, today)
    params += [row.pk, row.pk, row.pk] if span else [row.pk]
    who = user.pk if user is not None and user.is_authenticated else None
    params += [row.pk, who, kind.value, json.dumps(payload), now]
    with prepared_cursor() as cursor:
        cursor.execute(_delete_sql("span" if span else "relation").replace("{bump}", bump),
                       params)
        done = cursor.fetchone()
    if done is None:
        still = type(row).objects.filter(pk=row.pk, annotation_set=annotation_set)
        gone = (AnnotationSet.objects.filter(pk=annotation_set.pk).filter(~Exists(still)),
                _ALREADY_DELETED.format(what=type(row)._meta.verbose_name))
        _refuse(annotation_set, expected_version, gone, today)
    _bumped(annotation_set, expected_version, edit=True)


# --------------------------------------------------------------------------- relations


def _check_link(type: RelationType, source: Span, target: Span) -> None:
    """Refuse a link the schema does not allow between these labels, or one that repeats."""
    _check_link_schema(type, source, target)
    same, message = _repeated_link(type, source, target)
    if same.exists():
        raise WarrantError(message)


def _check_link_schema(type: RelationType, source: Span, target: Span) -> None:
    why = relation_refusal(type, source.label.name, target.label.name)
    if why:
        raise WarrantError(why)


def _repeated_link(type: RelationType, source: Span, target: Span) -> tuple[QuerySet, str]:
    """The relations a new link of ``type`` from ``source`` to ``target`` would repeat
    (either way round when the type is undirected), and the refusal's message."""
    same = Q(source=source, target=target, type=type)
    if not type.directed:
        same |= Q(source=target, target=source, type=type)
    return (Relation.objects.filter(same),
            f"these two spans are already linked by {type.name}")


def relation_create(
    *,
    annotation_set: AnnotationSet,
    source: Span,
    target: Span,
    type: RelationType,
    expected_version: int,
    user=None,
    attributes: dict | None = None,
) -> Relation:
    """Link ``source`` to ``target``; the schema must allow ``type`` between their labels."""
    _require_editable(annotation_set)
    if {source.annotation_set_id, target.annotation_set_id} != {annotation_set.pk}:
        raise WarrantError("both spans of a relation must belong to this annotation set")
    if source.pk == target.pk:
        raise WarrantError("a span cannot be related to itself")
    if type.project_id != annotation_set.document.project_id:
        raise WarrantError(f"relation type {type.name!r} is not part of this project's schema")
    _check_link_schema(type, source, target)
    attributes = check_relation_attributes(attributes or {})
    if connection.vendor == "postgresql":
        return _relation_create_in_one_statement(
            annotation_set=annotation_set, source=source, target=target, type=type,
            expected_version=expected_version, user=user, attributes=attributes,
        )
    with transaction.atomic():
        same, message = _repeated_link(type, source, target)
        if same.exists():
            raise WarrantError(message)
        _bump(annotation_set=annotation_set, expected_version=expected_version)
        relation = Relation.objects.create(
            annotation_set=annotation_set, source=source, target=target, type=type,
            attributes=attributes,
        )
        _log(
            annotation_set=annotation_set,
            user=user,
            kind=ActionKind.RELATION_CREATE,
            payload={"relation": relation.pk},
        )
    return relation


@functools.cache
def _repeated_link_sql() -> str:
    """The condition that no relation of ``type`` links ``source`` to ``target`` (either way
    round for an undirected type), :func:`_repeated_link` in SQL; its parameters:
    :func:`_repeated_link_params`."""
    relations = connection.ops.quote_name(Relation._meta.db_table)
    return (f" AND NOT EXISTS (SELECT 1 FROM {relations} x WHERE x.type_id = %s"
            " AND ((x.source_id = %s AND x.target_id = %s)"
            " OR (%s AND x.source_id = %s AND x.target_id = %s)))")


def _repeated_link_params(type: RelationType, source: Span, target: Span) -> list:
    return [type.pk, source.pk, target.pk, not type.directed, target.pk, source.pk]


@functools.cache
def _relation_create_sql() -> str:
    """PostgreSQL: :func:`relation_create`'s write as one statement, as a span save's
    (:func:`_span_create_sql`): the version's UPDATE, refused when the link repeats one
    (either way round for an undirected type: the fourth parameter), the relation's
    INSERT and its log row's, one prepared round trip instead of a transaction of six
    (BEGIN, the repeat check, three statements, COMMIT)."""
    q = connection.ops.quote_name
    sets, relations = q(AnnotationSet._meta.db_table), q(Relation._meta.db_table)
    return (
        "WITH bumped AS ({bump}" + _repeated_link_sql()
        + f" RETURNING {sets}.id, {sets}.version),"
        f" relation AS (INSERT INTO {relations} (annotation_set_id, source_id, target_id,"
        " type_id, attributes, external_id, created_at)"
        " SELECT bumped.id, %s, %s, %s, %s::jsonb, '', %s FROM bumped RETURNING id),"
        + _logged_sql("relation", "jsonb_build_object('relation', relation.id)")
    )


def _relation_create_in_one_statement(*, annotation_set, source, target, type,
                                      expected_version, user, attributes) -> Relation:
    """:func:`relation_create`'s write on PostgreSQL (:func:`_relation_create_sql`),
    refused for the same reasons, with the same messages, as :func:`_bump` and
    :func:`_check_link`."""
    now = timezone.now()
    row_id = _write_in_one_statement(annotation_set, expected_version, _relation_create_sql(), [
        *_repeated_link_params(type, source, target),
        source.pk, target.pk, type.pk, json.dumps(attributes), now,
        _user_id(user), ActionKind.RELATION_CREATE.value, now,
    ], now, lambda: _repeated_link(type, source, target))
    relation = Relation(id=row_id, annotation_set=annotation_set, source=source, target=target,
                        type=type, attributes=attributes, external_id="", created_at=now)
    relation._state.adding, relation._state.db = False, connection.alias
    return relation


def relation_update(
    *, relation: Relation, type: RelationType, expected_version: int, user=None
) -> Relation:
    """Give ``relation`` another type, which the schema must allow between its ends."""
    annotation_set = relation.annotation_set
    _require_editable(annotation_set)
    if type.project_id != annotation_set.document.project_id:
        raise WarrantError(f"relation type {type.name!r} is not part of this project's schema")
    if type.pk == relation.type_id:
        raise WarrantError(f"the relation is already {type.name}")
    source, target = relation.source, relation.target
    old = relation.type_id
    payload = {"relation": relation.pk, "old": old, "new": type.pk}
    if connection.vendor == "postgresql":
        _check_link_schema(type, source, target)
        repeated = (_repeated_link_sql(), _repeated_link_params(type, source, target),
                    _repeated_link(type, source, target))
        _update_in_one_statement(relation, expected_version, user,
                                 kind=ActionKind.RELATION_UPDATE, payload=payload,
                                 columns="type_id = %s", values=[type.pk], condition=repeated)
        relation.type = type
        return relation
    _check_link(type, source, target)
    with transaction.atomic():
        _bump(annotation_set=annotation_set, expected_version=expected_version)
        if not Relation.objects.filter(pk=relation.pk, annotation_set=annotation_set).update(
                type=type):
            raise WarrantError(_ALREADY_DELETED.format(what=Relation._meta.verbose_name))
        _log(annotation_set=annotation_set, user=user, kind=ActionKind.RELATION_UPDATE,
             payload=payload)
    relation.type = type
    return relation


def relation_delete(*, relation: Relation, expected_version: int, user=None) -> None:
    _require_editable(relation.annotation_set)
    _delete(relation, expected_version, user, kind=ActionKind.RELATION_DELETE,
            payload={"relation": _relation_row(relation)})


# --------------------------------------------------------------------------- status


@transaction.atomic
def annotation_set_start(
    *, annotation_set: AnnotationSet, expected_version: int, user=None
) -> AnnotationSet:
    """Move an assigned set to in progress (every first edit does this too)."""
    _require_editable(annotation_set)
    _bump(annotation_set=annotation_set, expected_version=expected_version)
    annotation_set.refresh_from_db(fields=["status", "started_at", "version"])
    return annotation_set


@transaction.atomic
def annotation_set_submit(
    *, annotation_set: AnnotationSet, expected_version: int, user=None
) -> AnnotationSet:
    """Hand the set in. The outline's warnings warn; they never block a submission."""
    if annotation_set.status == AnnotationStatus.SUBMITTED:
        raise WarrantError("this annotation set is already submitted")
    _bump(annotation_set=annotation_set, expected_version=expected_version, edit=False)
    now = timezone.now()
    AnnotationSet.objects.filter(pk=annotation_set.pk).update(
        status=AnnotationStatus.SUBMITTED,
        submitted_at=now,
        started_at=Coalesce(F("started_at"), Value(now)),
    )
    annotation_set.refresh_from_db(fields=["status", "started_at", "submitted_at", "version"])
    _queue_agreement(project_id=annotation_set.document.project_id)
    return annotation_set


def _queue_agreement(*, project_id: int) -> None:
    """The submitted data changed: an automatic agreement run follows the commit, and a
    new suggestion model when enough new work came in."""
    from .suggestions import suggestions_after_submission  # it imports this module

    transaction.on_commit(lambda: agreement_after_submission(project_id=project_id))
    transaction.on_commit(lambda: suggestions_after_submission(project_id=project_id))


@transaction.atomic
def annotation_set_reopen(
    *, annotation_set: AnnotationSet, expected_version: int, user=None
) -> AnnotationSet:
    """Take a submitted set back to in progress, while the project allows it."""
    if annotation_set.status != AnnotationStatus.SUBMITTED:
        raise WarrantError("only a submitted annotation set can be reopened")
    if not annotation_set.document.project.allow_reopen:
        raise WarrantError(
            "this project does not allow reopening submitted work: ask a manager"
        )
    _bump(annotation_set=annotation_set, expected_version=expected_version, edit=False)
    AnnotationSet.objects.filter(pk=annotation_set.pk).update(
        status=AnnotationStatus.IN_PROGRESS, submitted_at=None
    )
    annotation_set.refresh_from_db(fields=["status", "submitted_at", "version"])
    # A reopened set leaves the submitted data too.
    _queue_agreement(project_id=annotation_set.document.project_id)
    return annotation_set


# --------------------------------------------------------------------------- undo and redo


@dataclass(frozen=True)
class Replayed:
    """What an undo or a redo did: a line for the user and the rows it touched.

    ``spans`` and ``relations`` are the rows now in the set that it created or
    changed; ``removed_spans`` and ``removed_relations`` the ids it took away;
    ``ranges`` the stretches of text whose spans changed.
    """

    message: str
    spans: tuple[Span, ...] = ()
    relations: tuple[Relation, ...] = ()
    removed_spans: tuple[int, ...] = ()
    removed_relations: tuple[int, ...] = ()
    ranges: tuple[tuple[int, int], ...] = ()


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _restore(annotation_set: AnnotationSet, span_rows: list, relation_rows: list):
    """Put deleted spans and relations back with their ids and creation times."""
    spans = [
        Span(pk=row["id"], annotation_set=annotation_set, label_id=row["label"],
             start=row["start"], end=row["end"], attributes=row["attributes"],
             note=row["note"], external_id=row.get("external_id", ""),
             suggested_by=row.get("suggested_by", ""),
             created_at=_when(row.get("created_at")))
        for row in span_rows
    ]
    relations = [
        Relation(pk=row["id"], annotation_set=annotation_set, source_id=row["source"],
                 target_id=row["target"], type_id=row["type"],
                 attributes=row.get("attributes", {}), external_id=row.get("external_id", ""),
                 created_at=_when(row.get("created_at")))
        for row in relation_rows
    ]
    try:
        for model, objs in ((Span, spans), (Relation, relations)):
            dated = [o for o in objs if o.created_at is not None]
            create_keeping_times(model, dated, ("created_at",))
            model.objects.bulk_create([o for o in objs if o.created_at is None])
    except IntegrityError:
        raise WarrantError("cannot do that again: the spans it needs are gone") from None
    return tuple(spans), tuple(relations)


@functools.cache
def _take_away_sql() -> tuple[str, list[str], list[list]]:
    """PostgreSQL: :func:`_take_away`'s reads and DELETE as one prepared statement, the
    relations at the spans deleted with them (their rows as JSON beside each span's row):
    one round trip instead of three; the span's columns' names and converters."""
    q = connection.ops.quote_name
    spans, relations = q(Span._meta.db_table), q(Relation._meta.db_table)
    columns, names, converters = select_columns(Span, "gone")
    sql = (
        f"WITH links AS (DELETE FROM {relations} x WHERE x.annotation_set_id = %s"
        " AND (x.source_id = ANY(%s) OR x.target_id = ANY(%s)) RETURNING x.*),"
        f" gone AS (DELETE FROM {spans} x WHERE x.annotation_set_id = %s AND x.id = ANY(%s)"
        " RETURNING x.*)"
        f" SELECT {columns}, (SELECT json_agg(json_build_object('id', l.id, 'source',"
        " l.source_id, 'target', l.target_id, 'type', l.type_id, 'attributes', l.attributes,"
        " 'external_id', l.external_id, 'created_at', l.created_at) ORDER BY l.id)"
        " FROM links l) FROM gone ORDER BY gone.id"
    )
    return sql, names, converters


def _take_away(annotation_set: AnnotationSet, span_ids: list[int]) -> tuple[list, list]:
    """Delete spans and the relations at them; their rows, for putting them back."""
    if connection.vendor == "postgresql":
        sql, names, converters = _take_away_sql()
        ids = sorted(set(span_ids))
        with prepared_cursor() as cursor:
            cursor.execute(sql, [annotation_set.pk, ids, ids, annotation_set.pk, ids])
            rows = cursor.fetchall()
        if len(rows) != len(ids):  # the caller's transaction undoes the DELETE
            raise WarrantError("cannot do that: a span it changed is gone")
        links = (rows[0][-1] if rows else None) or []
        if isinstance(links, str):  # JSON a cursor left as its text
            links = json.loads(links)
        for link in links:  # as _relation_row writes the time (undo reads it back)
            link["created_at"] = _when(link["created_at"]).isoformat()
        spans = [model_from_row(Span, names, converters, row[:-1]) for row in rows]
        return [_span_row(s) for s in spans], links
    spans = list(Span.objects.filter(annotation_set=annotation_set, pk__in=span_ids)
                 .order_by("id"))
    if len(spans) != len(set(span_ids)):
        raise WarrantError("cannot do that: a span it changed is gone")
    relations = list(
        Relation.objects.filter(Q(source_id__in=span_ids) | Q(target_id__in=span_ids))
        .order_by("id")
    )
    span_rows = [_span_row(s) for s in spans]
    relation_rows = [_relation_row(r) for r in relations]
    Span.objects.filter(pk__in=span_ids).delete()  # relations go by CASCADE
    return span_rows, relation_rows


def _set_fields(annotation_set: AnnotationSet, span_id: int, values: dict) -> tuple[Span, tuple]:
    """Set a span's fields; the span, and the range it covered before."""
    span = Span.objects.filter(annotation_set=annotation_set, pk=span_id).first()
    if span is None:
        raise WarrantError("cannot do that: the span it changed is gone")
    before = (span.start, span.end)
    for name, value in values.items():
        setattr(span, "label_id" if name == "label" else name, value)
    span.save(update_fields=list(values))
    return span, before


def _replay(
    annotation_set: AnnotationSet, action: AnnotationAction, *, undo: bool, expected_version: int
) -> Replayed:
    """Undo or redo ``action``: bump the version, apply it, mark it in the log."""
    _bump(annotation_set=annotation_set, expected_version=expected_version)
    result = _apply(annotation_set, action, undo=undo)
    action.undone = undo
    if undo:
        action.payload["undone_version"] = annotation_set.version
    else:
        del action.payload["undone_version"]
    action.save(update_fields=["undone", "payload"])
    return result


def _apply(annotation_set: AnnotationSet, action: AnnotationAction, *, undo: bool) -> Replayed:
    """Apply the inverse of ``action`` (undo) or ``action`` again (redo).

    Undo keeps in the payload the rows it removes ("row", "rows", "relations"),
    so that redo puts back exactly what was there.
    """
    payload = action.payload
    kind = action.kind
    word = "Undone" if undo else "Redone"
    relations = Relation.objects.filter(annotation_set=annotation_set)
    if kind in (ActionKind.SPAN_CREATE, ActionKind.SPANS_CREATE):
        ids = [payload["span"]] if kind == ActionKind.SPAN_CREATE else payload["spans"]
        what = "the new span" if kind == ActionKind.SPAN_CREATE else f"{len(ids)} new spans"
        if undo:
            span_rows, relation_rows = _take_away(annotation_set, ids)
            # Relations the same edit drew between spans that were already there.
            links = list(relations.filter(pk__in=payload.get("links", [])).order_by("id"))
            relation_rows += [_relation_row(r) for r in links]
            relations.filter(pk__in=[r.pk for r in links]).delete()
            payload["rows"], payload["relations"] = span_rows, relation_rows
            return Replayed(f"{word}: {what} removed", removed_spans=tuple(ids),
                            removed_relations=tuple(r["id"] for r in relation_rows),
                            ranges=tuple((r["start"], r["end"]) for r in span_rows))
        if "rows" not in payload:
            raise WarrantError("there is nothing to redo")
        spans, rels = _restore(annotation_set, payload["rows"], payload.get("relations", []))
        return Replayed(f"{word}: {what} back", spans=spans, relations=rels,
                        ranges=tuple((s.start, s.end) for s in spans))
    if kind == ActionKind.SPAN_UPDATE:
        span, before = _set_fields(annotation_set, payload["span"],
                                   payload["old" if undo else "new"])
        return Replayed(f"{word}: the span's change", spans=(span,),
                        ranges=(before, (span.start, span.end)))
    if kind == ActionKind.SPAN_DELETE:
        row = payload["span"]
        where = ((row["start"], row["end"]),)
        if undo:
            spans, rels = _restore(annotation_set, [row], payload["relations"])
            return Replayed(f"{word}: the deleted span is back", spans=spans, relations=rels,
                            ranges=where)
        _, relation_rows = _take_away(annotation_set, [row["id"]])
        return Replayed(f"{word}: the span is deleted again", removed_spans=(row["id"],),
                        removed_relations=tuple(r["id"] for r in relation_rows), ranges=where)
    if kind == ActionKind.RELATION_CREATE:
        if undo:
            relation = relations.filter(pk=payload["relation"]).first()
            if relation is None:
                raise WarrantError("cannot undo: what that action changed is gone")
            payload["row"] = _relation_row(relation)
            relation.delete()
            return Replayed(f"{word}: the new relation removed",
                            removed_relations=(payload["relation"],))
        if "row" not in payload:
            raise WarrantError("there is nothing to redo")
        _, rels = _restore(annotation_set, [], [payload["row"]])
        return Replayed(f"{word}: the relation is back", relations=rels)
    if kind == ActionKind.RELATION_UPDATE:
        relation = relations.filter(pk=payload["relation"]).first()
        if relation is None:
            raise WarrantError(f"cannot {'undo' if undo else 'redo'}: that relation is gone")
        relation.type_id = payload["old" if undo else "new"]
        relation.save(update_fields=["type"])
        return Replayed(f"{word}: the relation's type", relations=(relation,))
    row = payload["relation"]  # RELATION_DELETE
    if undo:
        _, rels = _restore(annotation_set, [], [row])
        return Replayed(f"{word}: the deleted relation is back", relations=rels)
    if relations.filter(pk=row["id"]).delete()[0] == 0:
        raise WarrantError("cannot redo: that relation is gone")
    return Replayed(f"{word}: the relation is deleted again", removed_relations=(row["id"],))


@transaction.atomic
def annotation_set_undo(
    *, annotation_set: AnnotationSet, expected_version: int, user=None
) -> Replayed:
    """Undo the newest edit of the set that is not undone yet (LIFO)."""
    _require_editable(annotation_set)
    # The newest action not undone yet among the newest UNDO_DEPTH, picked by the
    # database: ``oldest`` is the id of the last action undo may reach (none while
    # the log is shorter), so that a long log is not loaded to find one row.
    oldest = annotation_set.actions.order_by("-id").values("id")[UNDO_DEPTH - 1 : UNDO_DEPTH]
    action = (
        annotation_set.actions.filter(undone=False, id__gte=Coalesce(Subquery(oldest), 0))
        .order_by("-id")
        .first()
    )
    if action is None:
        raise WarrantError("there is nothing to undo")
    return _replay(annotation_set, action, undo=True, expected_version=expected_version)


@transaction.atomic
def annotation_set_redo(
    *, annotation_set: AnnotationSet, expected_version: int, user=None
) -> Replayed:
    """Apply again the edit the newest undo took back, unless a new edit came since.

    Design note. Undo stores in the action's payload the set's version it
    produced (``undone_version``); an edit's ``version`` is the version it
    produced when it was made, and a redo leaves it as it was. The redo stack
    is then the undone actions in the reverse order of their undoing, and it
    is cleared by any new edit: an undone action may be redone only while its
    ``undone_version`` is above the ``version`` of every action of the set,
    which is the newest action's (versions grow with ids). No edit has to
    touch the log to clear the stack.
    """
    _require_editable(annotation_set)
    newest = annotation_set.actions.order_by("-id").values("version")[:1]
    action = (
        annotation_set.actions.filter(undone=True)
        .annotate(undone_at=Cast(KT("payload__undone_version"), IntegerField()))
        .filter(undone_at__gt=Subquery(newest))
        .order_by("-undone_at")
        .first()
    )
    if action is None:
        raise WarrantError("there is nothing to redo")
    return _replay(annotation_set, action, undo=False, expected_version=expected_version)
