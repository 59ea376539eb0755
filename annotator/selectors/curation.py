"""What a curator sees: every annotator's spans and relations on a document, merged.

Spans of different annotators are the same *candidate* when they have the
same start, end and label (DESIGN.md's exact criterion); relations are the
same candidate when their endpoint spans are the same candidates and their
type is equal. Each candidate carries who marked it and whether the gold
standard has it. Only submitted sets vote: work in progress may still change.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet

from annotator.models import (
    AnnotationSet,
    AnnotationStatus,
    Document,
    Project,
    Relation,
    RelationType,
    Span,
    SpanLabel,
)
from annotator.selectors.annotations import readable_sets
from annotator.text.quote import quote

SpanKey = tuple[int, int, int]  # start, end, label id
RelationKey = tuple[SpanKey, SpanKey, int]  # source, target, relation type id
# Candidate lists quote this much of a span.
EXCERPT_CHARS = 90


def majority(voters: int) -> int:
    """The smallest number of annotators that is more than half of ``voters`` (at least 1)."""
    return voters // 2 + 1


@dataclass
class SpanCandidate:
    key: SpanKey
    label: SpanLabel
    text: str
    annotators: list[str] = field(default_factory=list)
    #: The annotators whose span here came from an accepted suggestion (issue 16).
    suggested: list[str] = field(default_factory=list)
    gold_span_id: int | None = None
    #: Each voter's attributes on this span, and the gold's.
    attributes_of: dict[str, dict] = field(default_factory=dict)
    gold_attributes: dict = field(default_factory=dict)

    @property
    def attribute_votes(self) -> list[tuple[str, list[tuple[object, list[str]]]]]:
        """Per attribute name, each value the voters gave with who gave it (for the page)."""
        by_name: dict[str, dict[object, list[str]]] = {}
        for name in sorted(self.attributes_of):
            for key, value in self.attributes_of[name].items():
                by_name.setdefault(key, {}).setdefault(value, []).append(name)
        return [(key, sorted(values.items(), key=lambda item: (-len(item[1]), str(item[0]))))
                for key, values in sorted(by_name.items())]

    def agreed_attributes(self, min_votes: int) -> dict:
        """The attribute values at least ``min_votes`` voters gave (what a pre-merge keeps)."""
        agreed = {}
        for key, values in self.attribute_votes:
            value, voters = values[0]
            if len(voters) >= min_votes and not (len(values) > 1 and
                                                 len(values[1][1]) == len(voters)):
                agreed[key] = value
        return agreed

    @property
    def start(self) -> int:
        return self.key[0]

    @property
    def end(self) -> int:
        return self.key[1]

    @property
    def votes(self) -> int:
        return len(self.annotators)


@dataclass
class RelationCandidate:
    key: RelationKey
    type: RelationType
    source: SpanCandidate
    target: SpanCandidate
    annotators: list[str] = field(default_factory=list)
    gold_relation_id: int | None = None

    @property
    def votes(self) -> int:
        return len(self.annotators)

    @property
    def endpoints_in_gold(self) -> bool:
        return self.source.gold_span_id is not None and self.target.gold_span_id is not None


@dataclass
class CurationData:
    document: Document
    gold: AnnotationSet | None
    voters: list[AnnotationSet]  # submitted annotator sets, by username
    waiting: list[AnnotationSet]  # assigned or in progress: they do not vote yet
    spans: list[SpanCandidate]
    relations: list[RelationCandidate]
    labels: dict[int, SpanLabel]
    types: dict[int, RelationType]

    @property
    def default_min_votes(self) -> int:
        return majority(len(self.voters))

    def disputed_spans(self) -> list[SpanCandidate]:
        return [c for c in self.spans if c.votes < len(self.voters)]


def _excerpt(text: str, start: int, end: int) -> str:
    return quote(text, start, end, EXCERPT_CHARS)


def curation_data(*, project: Project, document: Document, reader=None) -> CurationData:
    """Every candidate span and relation of ``document`` with its voters and gold status.

    ``reader``: the person the page is for; only the sets they may read
    (``annotations.readable_set_filter``) take part. Curation is for roles that
    read every set, so for them that is every set; the services that write the
    gold pass none.
    """
    text = document.text
    labels = {lab.pk: lab for lab in SpanLabel.objects.filter(project=project)}
    types = {t.pk: t for t in RelationType.objects.filter(project=project)}
    all_sets = AnnotationSet.objects.filter(document=document)
    if reader is not None:
        all_sets = readable_sets(user=reader, project=project, document=document)
    sets = list(
        all_sets.filter(is_gold=False).select_related("annotator").order_by("annotator__username")
    )
    voters = [s for s in sets if s.status == AnnotationStatus.SUBMITTED]
    waiting = [s for s in sets if s.status != AnnotationStatus.SUBMITTED]
    gold = all_sets.filter(is_gold=True).first()
    names = {s.pk: s.annotator.username for s in voters}
    set_ids = list(names) + ([gold.pk] if gold else [])

    key_of_span: dict[int, SpanKey] = {}
    candidates: dict[SpanKey, SpanCandidate] = {}
    for span_id, set_id, start, end, label_id, attributes, suggested_by in Span.objects.filter(
        annotation_set__in=set_ids
    ).values_list("id", "annotation_set_id", "start", "end", "label_id", "attributes",
                  "suggested_by"):
        key = (start, end, label_id)
        key_of_span[span_id] = key
        cand = candidates.get(key)
        if cand is None:
            cand = candidates[key] = SpanCandidate(
                key, labels[label_id], _excerpt(text, start, end)
            )
        if gold and set_id == gold.pk:
            cand.gold_span_id = span_id
            cand.gold_attributes = attributes or {}
        elif names[set_id] not in cand.annotators:
            cand.annotators.append(names[set_id])
            if attributes:
                cand.attributes_of[names[set_id]] = attributes
            if suggested_by:
                cand.suggested.append(names[set_id])

    rel_candidates: dict[RelationKey, RelationCandidate] = {}
    for rel_id, set_id, source_id, target_id, type_id in Relation.objects.filter(
        annotation_set__in=set_ids
    ).values_list("id", "annotation_set_id", "source_id", "target_id", "type_id"):
        key = (key_of_span[source_id], key_of_span[target_id], type_id)
        cand = rel_candidates.get(key)
        if cand is None:
            cand = rel_candidates[key] = RelationCandidate(
                key, types[type_id], candidates[key[0]], candidates[key[1]]
            )
        if gold and set_id == gold.pk:
            cand.gold_relation_id = rel_id
        elif names[set_id] not in cand.annotators:
            cand.annotators.append(names[set_id])

    for cand in candidates.values():
        cand.annotators.sort()
    for rel in rel_candidates.values():
        rel.annotators.sort()
    spans = sorted(candidates.values(), key=lambda c: (c.start, -c.end, c.label.position))
    relations = sorted(
        rel_candidates.values(), key=lambda r: (r.source.start, r.target.start, r.type.position)
    )
    return CurationData(document, gold, voters, waiting, spans, relations, labels, types)


@dataclass
class CurationRow:
    document: Document
    submitted: int
    assigned: int
    gold_state: str  # "none", "draft" or "final"
    gold_spans: int


def curation_documents_queryset(*, project: Project) -> QuerySet[Document]:
    """The project's documents with how many sets were submitted and assigned,
    counted in SQL, in the project's order: page it, then :func:`curation_rows`."""
    return (
        project.documents.defer("original", "text", "cleaning")
        .annotate(
            submitted=Count(
                "annotation_sets",
                filter=Q(annotation_sets__is_gold=False,
                         annotation_sets__status=AnnotationStatus.SUBMITTED),
            ),
            assigned=Count("annotation_sets", filter=Q(annotation_sets__is_gold=False)),
        )
        .order_by("position", "id")
    )


def curation_rows(documents) -> list[CurationRow]:
    """Each of ``documents`` (from :func:`curation_documents_queryset`) with where its
    gold stands."""
    documents = list(documents)
    gold = {
        doc_id: (final, n)
        for doc_id, final, n in AnnotationSet.objects.filter(
            document__in=[d.pk for d in documents], is_gold=True
        )
        .annotate(n=Count("spans"))
        .values_list("document_id", "gold_final", "n")
    }
    rows = []
    for doc in documents:
        final, n = gold.get(doc.pk, (None, 0))
        state = "none" if final is None else ("final" if final else "draft")
        rows.append(CurationRow(doc, doc.submitted, doc.assigned, state, n))
    return rows


def final_gold_count(*, project: Project) -> int:
    return AnnotationSet.objects.filter(
        document__project=project, is_gold=True, gold_final=True
    ).count()
