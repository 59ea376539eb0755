"""Writes to an annotation set: spans, relations, status, undo.

Every write takes the version of the set the client last saw
(``expected_version``). The version is compared and bumped in one UPDATE, so
a stale tab's write is refused with :class:`ConflictError` instead of silently
overwriting newer work, and two writers can never both succeed from the same
version. The first edit moves the set from *assigned* to *in progress*; a
submitted set takes no edits until it is reopened.

Every edit is also written to the set's action log (``AnnotationAction``) with
what its inverse needs, which is how undo works: undo takes the newest action
not undone yet and applies its inverse (a deleted span comes back with its id
and its relations).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Case, F, Q, Subquery, Value, When
from django.db.models.functions import Coalesce
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
from annotator.text.storable import first_unstorable
from annotator.text.tokens import snap_to_words, trim_whitespace

from .agreement import agreement_after_submission
from .errors import ConflictError, WarrantError

# Undo reaches back this many edits: "recent actions", not the whole history,
# so that an old undo cannot surprise a user who has long moved on.
UNDO_DEPTH = 100
# A note is a remark for a curator, not a document of its own.
MAX_NOTE_CHARS = 4000
# Attributes are a few flags (stance: for/against), not a payload store.
MAX_ATTRIBUTES = 20
MAX_ATTRIBUTE_CHARS = 200


# --------------------------------------------------------------------------- helpers


def _bump(*, annotation_set: AnnotationSet, expected_version: int, edit: bool = True) -> None:
    """Compare-and-swap the set's version; an edit also starts an assigned set.

    One UPDATE does the check and the increment, so it is atomic on every
    database; on PostgreSQL it also holds the row lock until the transaction ends.
    """
    if isinstance(expected_version, bool) or not isinstance(expected_version, int):
        raise WarrantError("expected_version must be a whole number")
    changes = {"version": F("version") + 1, "updated_at": timezone.now()}
    rows = AnnotationSet.objects.filter(pk=annotation_set.pk, version=expected_version)
    if edit:
        changes["status"] = Case(
            When(status=AnnotationStatus.ASSIGNED, then=Value(AnnotationStatus.IN_PROGRESS)),
            default=F("status"),
        )
        changes["started_at"] = Coalesce(F("started_at"), Value(timezone.now()))
        rows = rows.exclude(status=AnnotationStatus.SUBMITTED)
    if rows.update(**changes) == 1:
        annotation_set.version = expected_version + 1
        if edit and annotation_set.status == AnnotationStatus.ASSIGNED:
            annotation_set.status = AnnotationStatus.IN_PROGRESS
        return
    current = AnnotationSet.objects.filter(pk=annotation_set.pk).values("version", "status").first()
    if current is None:
        raise WarrantError("this annotation set no longer exists")
    if current["version"] != expected_version:
        raise ConflictError(
            f"this annotation set was changed elsewhere (now version {current['version']}, "
            f"this page shows version {expected_version}): reload the page to see the newest "
            "work; your last action was not saved"
        )
    raise WarrantError("this annotation set is submitted: reopen it before changing it")


def _require_editable(annotation_set: AnnotationSet) -> None:
    if annotation_set.status == AnnotationStatus.SUBMITTED:
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


def _check_attributes(attributes: object) -> dict:
    if not isinstance(attributes, dict):
        raise WarrantError("attributes must be a mapping of names to values")
    if len(attributes) > MAX_ATTRIBUTES:
        raise WarrantError(f"a span takes at most {MAX_ATTRIBUTES} attributes")
    clean = {}
    for key, value in attributes.items():
        if not isinstance(key, str) or not key.strip() or len(key) > 64:
            raise WarrantError(f"attribute name {key!r} must be 1-64 characters")
        if value is not None and not isinstance(value, str | int | float | bool):
            raise WarrantError(f"attribute {key!r} must be text, a number, true/false or empty")
        if isinstance(value, str) and len(value) > MAX_ATTRIBUTE_CHARS:
            raise WarrantError(f"attribute {key!r} is longer than {MAX_ATTRIBUTE_CHARS} characters")
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
    }


def _relation_row(relation: Relation) -> dict:
    return {
        "id": relation.pk,
        "source": relation.source_id,
        "target": relation.target_id,
        "type": relation.type_id,
        "external_id": relation.external_id,
    }


# --------------------------------------------------------------------------- spans


@transaction.atomic
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
) -> Span:
    """Mark ``[start, end)`` (code points) with ``label``.

    Whitespace at either end is always dropped; with ``snap`` the range grows
    to whole words (tokens). The same label on exactly the same text twice is
    refused.
    """
    _require_editable(annotation_set)
    _check_label(annotation_set, label)
    text = annotation_set.document.text
    for value in (start, end):
        if isinstance(value, bool) or not isinstance(value, int):
            raise WarrantError("span offsets must be whole numbers")
    if not 0 <= start < end <= len(text):
        raise WarrantError(f"the span {start}-{end} is outside the text (0-{len(text)})")
    try:
        start, end = (snap_to_words if snap else trim_whitespace)(text, start, end)
    except ValueError as exc:
        raise WarrantError(str(exc)) from None
    attributes = _check_attributes(attributes or {})
    note = _check_note(note)
    if Span.objects.filter(
        annotation_set=annotation_set, start=start, end=end, label=label
    ).exists():
        raise WarrantError(f"this text is already marked {label.name}")
    _bump(annotation_set=annotation_set, expected_version=expected_version)
    span = Span.objects.create(
        annotation_set=annotation_set,
        label=label,
        start=start,
        end=end,
        attributes=attributes,
        note=note,
    )
    _log(
        annotation_set=annotation_set,
        user=user,
        kind=ActionKind.SPAN_CREATE,
        payload={"span": span.pk, "start": start, "end": end, "label": label.name},
    )
    return span


@transaction.atomic
def span_update(
    *,
    span: Span,
    expected_version: int,
    user=None,
    label: SpanLabel | None = None,
    attributes: dict | None = None,
    note: str | None = None,
) -> Span:
    """Relabel a span, replace its attributes or its note (None leaves a field as it is).

    A relabel that would leave one of the span's relations outside the schema
    is refused with the reason; delete that relation first.
    """
    annotation_set = span.annotation_set
    _require_editable(annotation_set)
    old = {"label": span.label_id, "attributes": span.attributes, "note": span.note}
    if label is not None and label.pk != span.label_id:
        _check_label(annotation_set, label)
        relations = (
            Relation.objects.filter(Q(source=span) | Q(target=span))
            .select_related("type", "source__label", "target__label")
            .order_by("id")  # the default ordering's, without joining the set's tables
        )
        for relation in relations:
            src = label.name if relation.source_id == span.pk else relation.source.label.name
            tgt = label.name if relation.target_id == span.pk else relation.target.label.name
            why = relation_refusal(relation.type, src, tgt)
            if why:
                raise WarrantError(
                    f"cannot relabel to {label.name}: {why}; delete that relation first"
                )
        span.label = label
    if attributes is not None:
        span.attributes = _check_attributes(attributes)
    if note is not None:
        span.note = _check_note(note)
    new = {"label": span.label_id, "attributes": span.attributes, "note": span.note}
    if new == old:
        return span
    _bump(annotation_set=annotation_set, expected_version=expected_version)
    span.save(update_fields=["label", "attributes", "note"])
    _log(
        annotation_set=annotation_set,
        user=user,
        kind=ActionKind.SPAN_UPDATE,
        payload={"span": span.pk, "old": old, "new": new},
    )
    return span


@transaction.atomic
def span_delete(*, span: Span, expected_version: int, user=None) -> None:
    """Delete a span; the relations that start or end at it go with it."""
    annotation_set = span.annotation_set
    _require_editable(annotation_set)
    relations = list(Relation.objects.filter(Q(source=span) | Q(target=span)).order_by("id"))
    _bump(annotation_set=annotation_set, expected_version=expected_version)
    payload = {"span": _span_row(span), "relations": [_relation_row(r) for r in relations]}
    span.delete()  # its relations go by the foreign keys' CASCADE, in one DELETE
    _log(annotation_set=annotation_set, user=user, kind=ActionKind.SPAN_DELETE, payload=payload)


# --------------------------------------------------------------------------- relations


@transaction.atomic
def relation_create(
    *,
    annotation_set: AnnotationSet,
    source: Span,
    target: Span,
    type: RelationType,
    expected_version: int,
    user=None,
) -> Relation:
    """Link ``source`` to ``target``; the schema must allow ``type`` between their labels."""
    _require_editable(annotation_set)
    if {source.annotation_set_id, target.annotation_set_id} != {annotation_set.pk}:
        raise WarrantError("both spans of a relation must belong to this annotation set")
    if source.pk == target.pk:
        raise WarrantError("a span cannot be related to itself")
    if type.project_id != annotation_set.document.project_id:
        raise WarrantError(f"relation type {type.name!r} is not part of this project's schema")
    why = relation_refusal(type, source.label.name, target.label.name)
    if why:
        raise WarrantError(why)
    same = Q(source=source, target=target, type=type)
    if not type.directed:
        same |= Q(source=target, target=source, type=type)
    if Relation.objects.filter(same).exists():
        raise WarrantError(f"these two spans are already linked by {type.name}")
    _bump(annotation_set=annotation_set, expected_version=expected_version)
    relation = Relation.objects.create(
        annotation_set=annotation_set, source=source, target=target, type=type
    )
    _log(
        annotation_set=annotation_set,
        user=user,
        kind=ActionKind.RELATION_CREATE,
        payload={"relation": relation.pk},
    )
    return relation


@transaction.atomic
def relation_delete(*, relation: Relation, expected_version: int, user=None) -> None:
    annotation_set = relation.annotation_set
    _require_editable(annotation_set)
    _bump(annotation_set=annotation_set, expected_version=expected_version)
    payload = {"relation": _relation_row(relation)}
    relation.delete()
    _log(
        annotation_set=annotation_set, user=user, kind=ActionKind.RELATION_DELETE, payload=payload
    )


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
    """The submitted data changed: an automatic agreement run follows the commit."""
    transaction.on_commit(lambda: agreement_after_submission(project_id=project_id))


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


# --------------------------------------------------------------------------- undo


@dataclass(frozen=True)
class Undone:
    """What an undo did: a line for the user and the text range it touched."""

    message: str
    start: int | None = None
    end: int | None = None


def _restore_span(row: dict, annotation_set: AnnotationSet) -> Span:
    return Span.objects.create(
        pk=row["id"],
        annotation_set=annotation_set,
        label_id=row["label"],
        start=row["start"],
        end=row["end"],
        attributes=row["attributes"],
        note=row["note"],
        external_id=row.get("external_id", ""),
    )


def _restore_relation(row: dict, annotation_set: AnnotationSet) -> Relation:
    return Relation.objects.create(
        pk=row["id"],
        annotation_set=annotation_set,
        source_id=row["source"],
        target_id=row["target"],
        type_id=row["type"],
        external_id=row.get("external_id", ""),
    )


@transaction.atomic
def annotation_set_undo(
    *, annotation_set: AnnotationSet, expected_version: int, user=None
) -> Undone:
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
    _bump(annotation_set=annotation_set, expected_version=expected_version)
    payload = action.payload
    spans = Span.objects.filter(annotation_set=annotation_set)
    relations = Relation.objects.filter(annotation_set=annotation_set)
    gone = WarrantError("cannot undo: what that action changed is gone")
    try:
        if action.kind == ActionKind.SPAN_CREATE:
            span = spans.filter(pk=payload["span"]).first()
            if span is None:
                raise gone
            relations.filter(Q(source=span) | Q(target=span)).delete()
            span.delete()
            result = Undone("Undone: the new span is removed", span.start, span.end)
        elif action.kind == ActionKind.SPAN_UPDATE:
            span = spans.filter(pk=payload["span"]).first()
            if span is None:
                raise gone
            old = payload["old"]
            span.label_id = old["label"]
            span.attributes = old["attributes"]
            span.note = old["note"]
            span.save(update_fields=["label", "attributes", "note"])
            result = Undone("Undone: the span's change is reverted", span.start, span.end)
        elif action.kind == ActionKind.SPAN_DELETE:
            row = payload["span"]
            _restore_span(row, annotation_set)
            for rel in payload["relations"]:
                _restore_relation(rel, annotation_set)
            result = Undone("Undone: the deleted span is back", row["start"], row["end"])
        elif action.kind == ActionKind.RELATION_CREATE:
            if relations.filter(pk=payload["relation"]).delete()[0] == 0:
                raise gone
            result = Undone("Undone: the new relation is removed")
        else:
            _restore_relation(payload["relation"], annotation_set)
            result = Undone("Undone: the deleted relation is back")
    except IntegrityError:
        raise WarrantError("cannot undo: the spans it needs are gone") from None
    action.undone = True
    action.save(update_fields=["undone"])
    return result
