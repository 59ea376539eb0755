"""A plain ORM reading of a project into records: the test oracle for
``annotator.selectors.export_records``, which reads the same records with
fewer, flatter queries for speed. Both must agree record for record."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Prefetch

from annotator.formats.records import (
    AnnotationRecord,
    DocumentRecord,
    RelationRecord,
    SpanRecord,
)
from annotator.models import AnnotationSet, Document, ExportScope, Project, Relation, Span

# Documents fetched per query; a batch holds their sets, spans and relations.
EXPORT_BATCH_SIZE = 200


def annotation_record(aset: AnnotationSet, text: str) -> AnnotationRecord:
    """One annotation set as a record; span ids are the imported ids or T<pk>."""
    spans = list(aset.spans.all())
    ids = {s.pk: (s.external_id or f"T{s.pk}") for s in spans}
    if len(set(ids.values())) != len(ids):  # imported ids clashed with generated ones
        ids = {s.pk: f"T{s.pk}" for s in spans}
    span_records = [
        SpanRecord(
            id=ids[s.pk],
            start=s.start,
            end=s.end,
            label=s.label.name,
            text=text[s.start : s.end],
            attributes=s.attributes,
            note=s.note,
        )
        for s in spans
    ]
    relations = list(aset.relations.all())
    rel_ids = {r.pk: (r.external_id or f"R{r.pk}") for r in relations}
    if len(set(rel_ids.values())) != len(rel_ids):
        rel_ids = {r.pk: f"R{r.pk}" for r in relations}
    relation_records = [
        RelationRecord(
            id=rel_ids[r.pk], source=ids[r.source_id], target=ids[r.target_id], type=r.type.name,
            attributes=r.attributes,
        )
        for r in relations
    ]
    return AnnotationRecord(
        annotator=aset.annotator.username if aset.annotator_id else "",
        status=aset.status,
        spans=span_records,
        relations=relation_records,
        due=aset.due.isoformat() if aset.due else "",
        final=aset.gold_final if aset.is_gold else None,
    )


def document_records(
    project: Project, *, scope: str = ExportScope.BOTH, document_ids=None
) -> Iterator[DocumentRecord]:
    """Every document of the project with the sets that ``scope`` selects."""
    set_filter = {
        ExportScope.GOLD: {"is_gold": True},
        ExportScope.ANNOTATORS: {"is_gold": False},
        ExportScope.BOTH: {},
    }[scope]
    sets = (
        AnnotationSet.objects.filter(**set_filter)
        .select_related("annotator")
        .prefetch_related(
            Prefetch("spans", queryset=Span.objects.select_related("label").order_by(
                "start", "-end", "id")),
            Prefetch("relations", queryset=Relation.objects.select_related("type").order_by("id")),
        )
        .order_by("annotator__username")
    )
    ids_qs = project.documents.order_by("position", "id")
    if document_ids is not None:
        ids_qs = ids_qs.filter(pk__in=document_ids)
    ids = list(ids_qs.values_list("pk", flat=True))
    for offset in range(0, len(ids), EXPORT_BATCH_SIZE):
        batch = ids[offset : offset + EXPORT_BATCH_SIZE]
        documents = (
            Document.objects.filter(pk__in=batch)
            .defer("original")
            .prefetch_related(Prefetch("annotation_sets", queryset=sets, to_attr="selected"))
            .order_by("position", "id")
        )
        for doc in documents:
            annotations = [annotation_record(s, doc.text) for s in doc.selected if not s.is_gold]
            gold = next((s for s in doc.selected if s.is_gold), None)
            yield DocumentRecord(
                external_id=doc.external_id,
                title=doc.title,
                text=doc.text,
                meta=doc.meta,
                annotations=annotations,
                gold=annotation_record(gold, doc.text) if gold is not None else None,
            )
