"""Many spans and relations written to one annotation set in one request.

For scripts, pre-annotation and migrations, which paid one request (and one
version) per span: :func:`annotation_set_batch_write` checks every item by the
rules of the single writes (``services.annotations``: the label and type in the
schema, offsets inside the text, whitespace trimmed or words snapped,
attributes and notes, no span twice, relations the schema allows and not
twice), then writes them all in one transaction with one version bump, or
nothing at all. New spans carry ids the client chose (``"T1"``), so that
relations of the same batch can point at them; a relation may also point at a
span already in the set by its database id. ``submit`` hands the set in after
the writes, in the same transaction.

The whole batch is one edit for undo: its new spans (and the relations at
them) go back together; a relation between two spans that were there before
is an edit of its own, as if created alone.

Design note: the work is a fixed number of queries whatever the batch's size
(the schema, the spans the batch could repeat, the existing spans relations
name, the relations it could repeat, the version, two bulk inserts and the
log), where the same items one by one cost eleven queries each.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.db import transaction

from annotator.models import AnnotationSet, Relation, RelationType, Span, SpanLabel
from annotator.models.actions import ActionKind

from .annotations import (
    _bump,
    _check_attributes,
    _check_note,
    _log,
    _require_editable,
    _snap,
    annotation_set_submit,
    relation_refusal,
)
from .errors import WarrantError

# One brief's worth of work and then some (the big-brief benchmark has 5,000
# spans and 2,000 relations per set); a bigger migration sends several batches.
MAX_BATCH_SPANS = 10_000
MAX_BATCH_RELATIONS = 10_000
# A client's id for a new span: short text, like brat's "T12".
MAX_CLIENT_ID_CHARS = 64


@dataclass(frozen=True)
class BatchResult:
    annotation_set: AnnotationSet
    spans: list[Span]  # in the order of the request
    client_ids: list[str]  # the client's id of each span, same order
    relations: list[Relation]  # in the order of the request


def _item(items: object, what: str, limit: int) -> list[Mapping]:
    if items is None:
        return []
    if not isinstance(items, list | tuple):
        raise WarrantError(f"{what} must be a list")
    if len(items) > limit:
        raise WarrantError(f"{len(items)} {what} in one batch is more than {limit}: split it")
    for k, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise WarrantError(f"{what}[{k}] must be an object")
    return list(items)


def _whole(value: object, where: str, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise WarrantError(f"{where}: {name} must be a whole number")
    return value


@transaction.atomic
def annotation_set_batch_write(
    *,
    annotation_set: AnnotationSet,
    spans: list[Mapping] | None,
    relations: list[Mapping] | None,
    expected_version: int,
    user=None,
    snap: bool = False,
    submit: bool = False,
) -> BatchResult:
    """Write ``spans`` and ``relations`` to ``annotation_set`` at once, or nothing.

    Parameters
    ----------
    annotation_set : AnnotationSet
        A set the caller may change (checked by the entry point).
    spans : list of mappings
        ``{"id": "T1", "label": "Claim", "start": 0, "end": 42}`` with optional
        ``attributes`` and ``note``; offsets in code points. ``id`` is the
        client's, unique in the batch.
    relations : list of mappings
        ``{"source": "T2", "target": "T1", "type": "supports"}``; an end is a
        client id of this batch or the database id (an integer) of a span
        already in the set.
    expected_version : int
        The set's version the client last saw.
    snap : bool
        Grow each range to whole words, as the annotation page does.
    submit : bool
        Hand the set in after the writes.

    Raises
    ------
    WarrantError
        The first item refused, named by its place (``spans[3] (T4): ...``).
    ConflictError
        The set changed since ``expected_version``.
    """
    spans = _item(spans, "spans", MAX_BATCH_SPANS)
    relations = _item(relations, "relations", MAX_BATCH_RELATIONS)
    if not spans and not relations and not submit:
        raise WarrantError("nothing to write: give spans, relations or submit")
    _require_editable(annotation_set)
    project_id = annotation_set.document.project_id
    text = annotation_set.document.text
    labels = {lab.name: lab for lab in SpanLabel.objects.filter(project_id=project_id)}
    types = {t.name: t for t in RelationType.objects.filter(project_id=project_id)}

    # --- spans: checked as span_create checks one
    new_spans: list[Span] = []
    client_ids: list[str] = []
    by_client: dict[str, Span] = {}
    seen: dict[tuple[int, int, int], int] = {}
    for k, item in enumerate(spans):
        cid = item.get("id")
        where = f"spans[{k}]" + (f" ({cid})" if isinstance(cid, str) else "")
        if not isinstance(cid, str) or not cid.strip() or len(cid) > MAX_CLIENT_ID_CHARS:
            raise WarrantError(f"{where}: id must be 1-{MAX_CLIENT_ID_CHARS} characters of text")
        if cid in by_client:
            raise WarrantError(f"{where}: the id {cid!r} is used twice in this batch")
        label = labels.get(item.get("label")) if isinstance(item.get("label"), str) else None
        if label is None:
            raise WarrantError(
                f"{where}: unknown span label {item.get('label')!r}; this project's labels: "
                + ", ".join(labels)
            )
        start = _whole(item.get("start"), where, "start")
        end = _whole(item.get("end"), where, "end")
        try:
            start, end = _snap(text, start, end, snap)
            attributes = _check_attributes(label, item.get("attributes") or {})
            note = _check_note(item.get("note", "") or "")
        except WarrantError as exc:
            raise WarrantError(f"{where}: {exc}") from None
        key = (start, end, label.pk)
        if key in seen:
            raise WarrantError(f"{where}: the same text is marked {label.name} by "
                               f"spans[{seen[key]}] too")
        seen[key] = k
        span = Span(annotation_set=annotation_set, label=label, start=start, end=end,
                    attributes=attributes, note=note)
        new_spans.append(span)
        client_ids.append(cid)
        by_client[cid] = span
    if new_spans:
        lo = min(s.start for s in new_spans)
        hi = max(s.end for s in new_spans)
        for start, end, label_id in Span.objects.filter(
            annotation_set=annotation_set, start__gte=lo, end__lte=hi
        ).values_list("start", "end", "label_id"):
            k = seen.get((start, end, label_id))
            if k is not None:
                raise WarrantError(f"spans[{k}] ({client_ids[k]}): this text is already "
                                   f"marked {new_spans[k].label.name}")

    # --- relations: checked as relation_create checks one
    existing_ids = {
        end for item in relations for end in (item.get("source"), item.get("target"))
        if isinstance(end, int) and not isinstance(end, bool)
    }
    existing = {
        span.pk: span
        for span in Span.objects.filter(annotation_set=annotation_set, pk__in=existing_ids)
        .select_related("label")
    }
    planned: list[tuple[object, object, RelationType, str]] = []
    keys: set[tuple[object, object, int]] = set()
    for k, item in enumerate(relations):
        where = f"relations[{k}]"
        ends = []
        for side in ("source", "target"):
            ref = item.get(side)
            if isinstance(ref, str) and ref in by_client:
                ends.append(by_client[ref])
            elif isinstance(ref, int) and not isinstance(ref, bool) and ref in existing:
                ends.append(existing[ref])
            else:
                raise WarrantError(
                    f"{where}: {side} {ref!r} is neither an id of this batch's spans nor a "
                    "span of this annotation set"
                )
        source, target = ends
        if source is target:
            raise WarrantError(f"{where}: a span cannot be related to itself")
        rtype = types.get(item.get("type")) if isinstance(item.get("type"), str) else None
        if rtype is None:
            raise WarrantError(
                f"{where}: unknown relation type {item.get('type')!r}; this project's "
                "types: " + ", ".join(types)
            )
        why = relation_refusal(rtype, source.label.name, target.label.name)
        if why:
            raise WarrantError(f"{where}: {why}")
        key = (id(source), id(target), rtype.pk)
        if key in keys or (not rtype.directed and (id(target), id(source), rtype.pk) in keys):
            raise WarrantError(f"{where}: these two spans are already linked by {rtype.name} "
                               "in this batch")
        keys.add(key)
        planned.append((source, target, rtype, where))
    old_pairs = [(s, t, r, w) for s, t, r, w in planned if s.pk and t.pk]
    if old_pairs:
        linked = set(
            Relation.objects.filter(annotation_set=annotation_set, source_id__in=existing_ids,
                                    target_id__in=existing_ids)
            .values_list("source_id", "target_id", "type_id")
        )
        for s, t, r, where in old_pairs:
            if (s.pk, t.pk, r.pk) in linked or (
                not r.directed and (t.pk, s.pk, r.pk) in linked
            ):
                raise WarrantError(f"{where}: these two spans are already linked by {r.name}")

    # --- write: one version, two inserts, the log
    if new_spans or planned:
        _bump(annotation_set=annotation_set, expected_version=expected_version)
        expected_version = annotation_set.version
        Span.objects.bulk_create(new_spans, batch_size=2000)
        new_relations = Relation.objects.bulk_create(
            [Relation(annotation_set=annotation_set, source=s, target=t, type=r)
             for s, t, r, _ in planned],
            batch_size=2000,
        )
        if new_spans:
            _log(annotation_set=annotation_set, user=user, kind=ActionKind.SPANS_CREATE,
                 payload={"spans": [s.pk for s in new_spans], "label": "batch"})
        for relation in new_relations:
            if relation.source_id in existing and relation.target_id in existing:
                _log(annotation_set=annotation_set, user=user,
                     kind=ActionKind.RELATION_CREATE, payload={"relation": relation.pk})
    else:
        new_relations = []
    if submit:
        annotation_set_submit(
            annotation_set=annotation_set, expected_version=expected_version, user=user
        )
    return BatchResult(annotation_set, new_spans, client_ids, new_relations)
