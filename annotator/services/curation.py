"""Curation: build a document's gold standard from its annotators' submitted sets.

The gold standard is an annotation set of its own (``is_gold``). Every write
here goes to that set only, through the same span and relation services as the
annotation page (so the schema's rules, the version check and the undo log
hold for the gold too); an annotator's own set is read, never written.

Life of a gold set: created as a draft (*in progress*) by the first curation
write; ``gold_premerge`` adds what a configurable number of annotators agree
on; the curator accepts, edits or rejects the rest; ``gold_finalize`` marks it
final (*submitted*, ``gold_final``), and only a final gold grades students.
``gold_reopen`` makes it a draft again. A gold imported from a file arrives
submitted but not final: the first curation write turns it back into a draft.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from annotator.models import (
    AnnotationSet,
    AnnotationStatus,
    Document,
    Relation,
    RelationType,
    Span,
    SpanLabel,
)
from annotator.selectors.curation import curation_data
from annotator.text.quote import quote

from . import annotations as edits
from .errors import ConflictError, WarrantError


def _gold_for_write(document: Document) -> AnnotationSet:
    """The document's gold set, created as a draft if it has none; refused when final."""
    gold, _ = AnnotationSet.objects.select_for_update().get_or_create(
        document=document,
        is_gold=True,
        defaults={"annotator": None, "status": AnnotationStatus.IN_PROGRESS},
    )
    if gold.gold_final:
        raise WarrantError("the gold standard is final: reopen it to change it")
    if gold.status == AnnotationStatus.SUBMITTED:
        # An imported gold (submitted, never finalised) becomes a draft again.
        AnnotationSet.objects.filter(pk=gold.pk).update(
            status=AnnotationStatus.IN_PROGRESS, submitted_at=None
        )
        gold.status = AnnotationStatus.IN_PROGRESS
    gold.document = document
    return gold


def _check_gold_span(span: Span) -> AnnotationSet:
    if not span.annotation_set.is_gold:
        raise WarrantError("curation changes only the gold standard, never an annotator's set")
    return span.annotation_set


@dataclass
class PremergeReport:
    spans_added: int
    relations_added: int
    min_votes: int
    voters: int


@transaction.atomic
def gold_premerge(
    *, document: Document, min_votes: int, expected_version: int, user=None
) -> PremergeReport:
    """Put into the gold every span and relation that at least ``min_votes`` of the
    document's submitted annotators marked identically.

    Spans already in the gold stay; so does everything the curator added. A
    relation is added only when both its spans are in the gold (after the spans
    of this pre-merge are).
    """
    project = document.project
    data = curation_data(project=project, document=document)
    if not data.voters:
        raise WarrantError("no annotator has submitted this document yet: nothing to merge")
    if isinstance(min_votes, bool) or not isinstance(min_votes, int) or not (
        1 <= min_votes <= len(data.voters)
    ):
        raise WarrantError(
            f"the agreement needed must be from 1 to {len(data.voters)} annotators"
        )
    gold = _gold_for_write(document)
    if gold.version != expected_version:
        raise ConflictError(
            f"the gold standard was changed elsewhere (now version {gold.version}, this page "
            f"shows version {expected_version}): reload the page"
        )
    spans_added = 0
    gold_span_of: dict[tuple, Span] = {}
    for cand in data.spans:
        if cand.gold_span_id is not None:
            continue
        if cand.votes >= min_votes:
            try:
                span = edits.span_create(
                    annotation_set=gold, label=cand.label, start=cand.start, end=cand.end,
                    expected_version=gold.version, user=user, snap=False,
                    attributes=cand.agreed_attributes(min_votes),
                )
            except ConflictError:
                raise
            except WarrantError:
                # Refused before anything is written (the schema or a duplicate after
                # trimming whitespace): left for the curator to decide.
                continue
            gold_span_of[cand.key] = span
            spans_added += 1
    relations_added = 0
    for rel in data.relations:
        if rel.gold_relation_id is not None or rel.votes < min_votes:
            continue
        source = _gold_span(gold, rel.source, gold_span_of)
        target = _gold_span(gold, rel.target, gold_span_of)
        if source is None or target is None:
            continue
        try:
            edits.relation_create(
                annotation_set=gold, source=source, target=target, type=rel.type,
                expected_version=gold.version, user=user,
            )
        except ConflictError:
            raise
        except WarrantError:
            continue  # the schema refuses it: left for the curator
        relations_added += 1
    return PremergeReport(spans_added, relations_added, min_votes, len(data.voters))


def _gold_span(gold: AnnotationSet, cand, added: dict) -> Span | None:
    if cand.key in added:
        return added[cand.key]
    if cand.gold_span_id is not None:
        return Span.objects.select_related("label").get(pk=cand.gold_span_id)
    return None


@transaction.atomic
def gold_span_accept(
    *,
    document: Document,
    label: SpanLabel,
    start: int,
    end: int,
    expected_version: int,
    user=None,
) -> Span:
    """Add a span to the gold: a candidate as it is, or edited (other label or edges)."""
    gold = _gold_for_write(document)
    return edits.span_create(
        annotation_set=gold, label=label, start=start, end=end,
        expected_version=expected_version, user=user, snap=False,
    )


@transaction.atomic
def gold_span_relabel(
    *, span: Span, label: SpanLabel, expected_version: int, user=None
) -> Span:
    gold = _check_gold_span(span)
    _gold_for_write(gold.document)
    return edits.span_update(span=span, label=label, expected_version=expected_version, user=user)


@transaction.atomic
def gold_span_reject(*, span: Span, expected_version: int, user=None) -> None:
    """Take a span out of the gold (its gold relations go with it)."""
    gold = _check_gold_span(span)
    _gold_for_write(gold.document)
    edits.span_delete(span=span, expected_version=expected_version, user=user)


@transaction.atomic
def gold_relation_accept(
    *,
    document: Document,
    source: Span,
    target: Span,
    type: RelationType,
    expected_version: int,
    user=None,
) -> Relation:
    """Link two gold spans (accept a relation candidate whose spans are in the gold)."""
    gold = _gold_for_write(document)
    for span in (source, target):
        if span.annotation_set_id != gold.pk:
            raise WarrantError("accept both spans of this relation into the gold first")
    return edits.relation_create(
        annotation_set=gold, source=source, target=target, type=type,
        expected_version=expected_version, user=user,
    )


@transaction.atomic
def gold_relation_reject(*, relation: Relation, expected_version: int, user=None) -> None:
    if not relation.annotation_set.is_gold:
        raise WarrantError("curation changes only the gold standard, never an annotator's set")
    _gold_for_write(relation.annotation_set.document)
    edits.relation_delete(relation=relation, expected_version=expected_version, user=user)


def _swap(gold: AnnotationSet, expected_version: int, **changes) -> AnnotationSet:
    rows = AnnotationSet.objects.filter(pk=gold.pk, version=expected_version).update(
        version=F("version") + 1, updated_at=timezone.now(), **changes
    )
    if rows != 1:
        raise ConflictError(
            "the gold standard was changed elsewhere: reload the page to see the newest version"
        )
    gold.refresh_from_db()
    return gold


# At most this many conflicts are named (the rest are counted): the list and the page
# that shows it stay bounded on a brief with thousands of spans.
CONFLICTS_SHOWN = 50
QUOTE_CHARS = 40


@dataclass(frozen=True)
class GoldConflict:
    """Something in a gold that a curator should look at before marking it final."""

    kind: str  # "overlap" (one label), "crossing" (two spans cut each other), "lost_relation"
    message: str  # one line that names the spans by their label and text

    def as_dict(self) -> dict:
        return {"kind": self.kind, "message": self.message}


class GoldConflictsError(ConflictError):
    """Marking the gold final was refused: it has conflicts the curator has not confirmed."""

    def __init__(self, conflicts: list[GoldConflict], total: int):
        self.conflicts = conflicts
        self.total = total
        super().__init__(
            f"the gold has {total} conflict{'s' if total != 1 else ''} to look at before it is "
            "final: fix them, or confirm to mark it final as it is"
        )


def gold_conflicts(*, document: Document) -> tuple[list[GoldConflict], int]:
    """What to confirm before the gold of ``document`` is final: the first CONFLICTS_SHOWN
    conflicts, and how many there are.

    * two gold spans of one label that share characters (nested or overlapping);
    * two gold spans that cross: each holds one end of the other, whatever labels;
    * a relation most annotators drew (``majority`` of the voters) that the gold
      lost because one of its spans is not in the gold (rejected or never accepted).

    Pairs are found by a sweep over the spans sorted by start: each span meets only
    the spans still open where it starts.
    """
    from annotator.selectors.curation import majority

    text = document.text
    gold = AnnotationSet.objects.filter(document=document, is_gold=True).first()
    found: list[GoldConflict] = []
    total = 0

    def add(kind: str, message: str) -> None:
        nonlocal total
        total += 1
        if len(found) < CONFLICTS_SHOWN:
            found.append(GoldConflict(kind, message))

    def name(label: str, start: int, end: int) -> str:
        return f"{label} “{quote(text, start, end, QUOTE_CHARS)}” ({start}-{end})"

    if gold is not None:
        spans = list(
            Span.objects.filter(annotation_set=gold)
            .order_by("start", "-end", "pk")
            .values_list("start", "end", "label__name")
        )
        open_spans: list[tuple[int, int, str]] = []
        for start, end, label in spans:
            open_spans = [o for o in open_spans if o[1] > start]
            for o_start, o_end, o_label in open_spans:
                if o_label == label:
                    add("overlap", f"{name(o_label, o_start, o_end)} and "
                                   f"{name(label, start, end)} overlap: one label twice")
                elif o_start < start < o_end < end:
                    add("crossing", f"{name(o_label, o_start, o_end)} and "
                                    f"{name(label, start, end)} cross")
            open_spans.append((start, end, label))
    data = curation_data(project=document.project, document=document)
    needed = majority(len(data.voters))
    for rel in data.relations:
        if rel.gold_relation_id is not None or rel.votes < needed or not data.voters:
            continue
        missing = [c for c in (rel.source, rel.target) if c.gold_span_id is None]
        if missing:
            add("lost_relation",
                f"{name(rel.source.label.name, rel.source.start, rel.source.end)} "
                f"—{rel.type.name}→ {name(rel.target.label.name, rel.target.start, rel.target.end)}"
                f" ({rel.votes} of {len(data.voters)} annotators) is lost: its "
                + " and its ".join("source" if c is rel.source else "target" for c in missing)
                + " is not in the gold")
    return found, total


@transaction.atomic
def gold_finalize(
    *, document: Document, expected_version: int, confirm: bool = False
) -> AnnotationSet:
    """Mark the document's gold standard final: it grades students from now on.

    When the gold has conflicts (``gold_conflicts``) it is refused with
    GoldConflictsError (409, the list in it) unless ``confirm`` says the curator
    has seen them.
    """
    gold = AnnotationSet.objects.filter(document=document, is_gold=True).first()
    if gold is None:
        raise WarrantError("this document has no gold standard yet: merge or accept spans first")
    if gold.gold_final:
        raise WarrantError("the gold standard is already final")
    if gold.version != expected_version:
        raise ConflictError(
            "the gold standard was changed elsewhere: reload the page to see the newest version"
        )
    if not confirm:
        conflicts, total = gold_conflicts(document=document)
        if total:
            raise GoldConflictsError(conflicts, total)
    return _swap(
        gold, expected_version, gold_final=True, status=AnnotationStatus.SUBMITTED,
        submitted_at=timezone.now(),
    )


@transaction.atomic
def gold_reopen(*, document: Document, expected_version: int) -> AnnotationSet:
    """Make a final gold a draft again (grades leave this document out until it is final)."""
    gold = AnnotationSet.objects.filter(document=document, is_gold=True).first()
    if gold is None or not gold.gold_final:
        raise WarrantError("only a final gold standard can be reopened")
    return _swap(
        gold, expected_version, gold_final=False, status=AnnotationStatus.IN_PROGRESS,
        submitted_at=None,
    )
