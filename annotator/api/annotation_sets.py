"""Annotation sets, their spans and relations.

Reads follow the pages' rule (who may open whose set); every write goes through
``annotator.services.annotations`` with the version of the set the client last
saw, so a stale client gets 409 Conflict instead of overwriting newer work, and
the response carries the set's new version for the next write.
"""

from __future__ import annotations

from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.response import Response

from annotator.models import (
    AnnotationSet,
    AnnotationStatus,
    Relation,
    RelationType,
    Span,
    SpanLabel,
)
from annotator.selectors.permissions import require_permission
from annotator.services import annotations as annotation_services
from annotator.services.annotation_batches import (
    MAX_BATCH_RELATIONS,
    MAX_BATCH_SPANS,
    annotation_set_batch_write,
)
from annotator.services.errors import WarrantError
from annotator.services.grading import annotation_set_reopen_for_student

from .base import (
    WarrantAPIMixin,
    api_annotation_set,
    api_annotation_set_for_write,
    api_document,
    may_write,
    readable_sets,
)
from .openapi import VERSION_QUERY, error_responses
from .parsers import BoundedJSONParser
from .serializers import (
    OFFSETS,
    VERSION_HELP,
    AnnotationSetDetailSerializer,
    AnnotationSetSerializer,
    AnnotationSetStatusSerializer,
    BatchResultSerializer,
    BatchWriteOptionsSerializer,
    BatchWriteSerializer,
    DeletedSerializer,
    RelationCreateSerializer,
    RelationSerializer,
    RelationWriteSerializer,
    SpanCreateSerializer,
    SpanSerializer,
    SpanUpdateSerializer,
    SpanWriteSerializer,
    VersionSerializer,
)

WRITE_ERRORS = error_responses(400, 403, 409)


def _count_of(model) -> Coalesce:
    """How many ``model`` rows each annotation set has, as a correlated subquery."""
    counts = (
        model.objects.filter(annotation_set=OuterRef("pk"))
        .order_by()
        .values("annotation_set")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counts, output_field=IntegerField()), 0)


def _valid(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _label(aset: AnnotationSet, name: str) -> SpanLabel:
    project = aset.document.project
    label = project.span_labels.filter(name=name).first()
    if label is None:
        names = ", ".join(project.span_labels.values_list("name", flat=True))
        raise WarrantError(f"unknown span label {name!r}; this project's labels: {names}")
    return label


def _relation_type(aset: AnnotationSet, name: str) -> RelationType:
    project = aset.document.project
    rtype = project.relation_types.filter(name=name).first()
    if rtype is None:
        names = ", ".join(project.relation_types.values_list("name", flat=True))
        raise WarrantError(f"unknown relation type {name!r}; this project's types: {names}")
    return rtype


def _span_in(aset: AnnotationSet, span_id: int, *, for_input: bool = False):
    span = aset.spans.select_related("label").filter(pk=span_id).first()
    if span is None:
        if for_input:
            raise WarrantError(f"span {span_id} is not in this annotation set")
        raise Http404("No such span in this annotation set.")
    span.annotation_set = aset
    return span


def _span_payload(aset: AnnotationSet, span) -> dict:
    return {
        "version": aset.version,
        "span": SpanSerializer(span, context={"text": aset.document.text}).data,
    }


# --------------------------------------------------------------------------- reads


@extend_schema(tags=["annotation sets"])
class AnnotationSetListView(WarrantAPIMixin, generics.ListAPIView):
    serializer_class = AnnotationSetSerializer

    def get_queryset(self):
        project, document = api_document(
            self.request.user, self.kwargs["slug"], self.kwargs["document_id"]
        )
        return (
            readable_sets(self.request.user, project, document)
            # One subquery per count: joining spans and relations in one
            # query multiplies them (5,000 x 2,000 rows for a big brief).
            .annotate(
                span_count=_count_of(Span), relation_count=_count_of(Relation)
            )
            .order_by("is_gold", "annotator__username", "id")
        )

    @extend_schema(
        summary="The annotation sets of a document you may open",
        description="Your own set; every set (gold included) for managers and curators; in a "
        "project that is not blind, annotators also see their peers' sets.",
        responses={200: AnnotationSetSerializer(many=True), **error_responses()},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


@extend_schema(tags=["annotation sets"])
class AnnotationSetDetailView(WarrantAPIMixin, generics.GenericAPIView):
    serializer_class = AnnotationSetDetailSerializer

    @extend_schema(
        summary="An annotation set with its spans and relations",
        description=f"{OFFSETS} Use `version` for the next write.",
        responses={200: AnnotationSetDetailSerializer, **error_responses(403)},
    )
    def get(self, request, set_id):
        aset = api_annotation_set(request.user, set_id)
        # Rows, not model instances, and plain dicts of the serializers' fields:
        # the 5,000 spans of a big brief took over a second through the ORM's
        # objects and DRF's field machinery.
        text = aset.document.text
        spans = [
            {"id": pk, "label": label, "start": start, "end": end, "text": text[start:end],
             "attributes": attributes, "note": note, "external_id": external_id,
             "suggested_by": suggested_by}
            for pk, label, start, end, attributes, note, external_id, suggested_by
            in aset.spans.order_by("start", "-end", "id").values_list(
                "id", "label__name", "start", "end", "attributes", "note", "external_id",
                "suggested_by")
        ]
        relations = [
            {"id": pk, "source": source, "target": target, "type": type_name,
             "attributes": attributes, "external_id": external_id}
            for pk, source, target, type_name, attributes, external_id in aset.relations.order_by(
                "id"
            ).values_list("id", "source_id", "target_id", "type__name", "attributes",
                          "external_id")
        ]
        aset.span_count = len(spans)
        aset.relation_count = len(relations)
        aset.editable = may_write(request.user, aset) and (
            aset.status != AnnotationStatus.SUBMITTED
        )
        data = AnnotationSetSerializer(aset).data
        data["project"] = aset.document.project.slug
        data["editable"] = aset.editable
        data["spans"] = spans
        data["relations"] = relations
        return Response(data)


# --------------------------------------------------------------------------- spans


@extend_schema(tags=["spans and relations"])
class SpanCreateView(WarrantAPIMixin, generics.GenericAPIView):
    parser_classes = [BoundedJSONParser]
    serializer_class = SpanCreateSerializer

    @extend_schema(
        summary="Mark a span",
        description=f"{OFFSETS} {VERSION_HELP}",
        request=SpanCreateSerializer,
        responses={201: SpanWriteSerializer, **WRITE_ERRORS},
    )
    def post(self, request, set_id):
        aset = api_annotation_set_for_write(request.user, set_id)
        data = _valid(SpanCreateSerializer, request.data)
        span = annotation_services.span_create(
            annotation_set=aset,
            label=_label(aset, data["label"]),
            start=data["start"],
            end=data["end"],
            expected_version=data["version"],
            user=request.user,
            snap=data["snap"],
            attributes=data["attributes"],
            note=data["note"],
        )
        return Response(_span_payload(aset, span), status=status.HTTP_201_CREATED)


@extend_schema(tags=["spans and relations"])
class SpanDetailView(WarrantAPIMixin, generics.GenericAPIView):
    parser_classes = [BoundedJSONParser]
    serializer_class = SpanUpdateSerializer

    @extend_schema(
        summary="Relabel a span or change its attributes or note",
        description=f"Fields left out stay as they are. {VERSION_HELP}",
        request=SpanUpdateSerializer,
        responses={200: SpanWriteSerializer, **WRITE_ERRORS},
    )
    def patch(self, request, set_id, span_id):
        aset = api_annotation_set_for_write(request.user, set_id)
        span = _span_in(aset, span_id)
        data = _valid(SpanUpdateSerializer, request.data)
        span = annotation_services.span_update(
            span=span,
            expected_version=data["version"],
            user=request.user,
            label=_label(aset, data["label"]) if "label" in data else None,
            attributes=data.get("attributes"),
            note=data.get("note"),
        )
        return Response(_span_payload(aset, span))

    @extend_schema(
        summary="Delete a span (and the relations at it)",
        parameters=[VERSION_QUERY],
        request=None,
        responses={200: DeletedSerializer, **WRITE_ERRORS},
    )
    def delete(self, request, set_id, span_id):
        aset = api_annotation_set_for_write(request.user, set_id)
        span = _span_in(aset, span_id)
        data = _valid(VersionSerializer, request.query_params)
        annotation_services.span_delete(
            span=span, expected_version=data["version"], user=request.user
        )
        return Response({"version": aset.version})


# --------------------------------------------------------------------------- relations


@extend_schema(tags=["spans and relations"])
class RelationCreateView(WarrantAPIMixin, generics.GenericAPIView):
    parser_classes = [BoundedJSONParser]
    serializer_class = RelationCreateSerializer

    @extend_schema(
        summary="Link two spans of the set",
        description=f"The schema must allow the type between the spans' labels. {VERSION_HELP}",
        request=RelationCreateSerializer,
        responses={201: RelationWriteSerializer, **WRITE_ERRORS},
    )
    def post(self, request, set_id):
        aset = api_annotation_set_for_write(request.user, set_id)
        data = _valid(RelationCreateSerializer, request.data)
        relation = annotation_services.relation_create(
            annotation_set=aset,
            source=_span_in(aset, data["source"], for_input=True),
            target=_span_in(aset, data["target"], for_input=True),
            type=_relation_type(aset, data["type"]),
            expected_version=data["version"],
            user=request.user,
            attributes=data["attributes"],
        )
        return Response(
            {"version": aset.version, "relation": RelationSerializer(relation).data},
            status=status.HTTP_201_CREATED,
        )


@extend_schema(tags=["spans and relations"])
class RelationDetailView(WarrantAPIMixin, generics.GenericAPIView):
    serializer_class = DeletedSerializer

    @extend_schema(
        summary="Delete a relation",
        parameters=[VERSION_QUERY],
        request=None,
        responses={200: DeletedSerializer, **WRITE_ERRORS},
    )
    def delete(self, request, set_id, relation_id):
        aset = api_annotation_set_for_write(request.user, set_id)
        relation = aset.relations.filter(pk=relation_id).first()
        if relation is None:
            raise Http404("No such relation in this annotation set.")
        relation.annotation_set = aset
        data = _valid(VersionSerializer, request.query_params)
        annotation_services.relation_delete(
            relation=relation, expected_version=data["version"], user=request.user
        )
        return Response({"version": aset.version})


# --------------------------------------------------------------------------- batches


@extend_schema(tags=["spans and relations"])
class AnnotationSetBatchView(WarrantAPIMixin, generics.GenericAPIView):
    parser_classes = [BoundedJSONParser]
    serializer_class = BatchWriteSerializer

    @extend_schema(
        summary="Write many spans and relations at once (and optionally submit)",
        description="For scripts, pre-annotation and migrations: every item is checked as "
        "the single writes check it, then all are written in one transaction with one "
        "version, or none is (400 names the first item refused). New spans carry your own "
        "ids, so that relations of the same batch can point at them; a relation may also "
        "point at a span already in the set by its number. With `submit` the set is "
        f"submitted after the writes. At most {MAX_BATCH_SPANS:,} spans and "
        f"{MAX_BATCH_RELATIONS:,} relations per batch. {OFFSETS} {VERSION_HELP}",
        request=BatchWriteSerializer,
        responses={201: BatchResultSerializer, **WRITE_ERRORS},
    )
    def post(self, request, set_id):
        aset = api_annotation_set_for_write(request.user, set_id)
        if not isinstance(request.data, dict):
            raise WarrantError("the body must be a JSON object")
        options = _valid(BatchWriteOptionsSerializer, request.data)
        # The items are checked by the service, by the single writes' rules:
        # DRF's field machinery would cost more than the writes on a big batch.
        result = annotation_set_batch_write(
            annotation_set=aset,
            spans=request.data.get("spans"),
            relations=request.data.get("relations"),
            expected_version=options["version"],
            user=request.user,
            snap=options["snap"],
            submit=options["submit"],
        )
        names = {s.pk: s.label.name for s in result.spans}
        type_names = {}
        for relation in result.relations:
            type_names[relation.type_id] = relation.type.name
        body = {
            "version": aset.version,
            "status": aset.status,
            "spans": [
                {"ref": ref, "id": s.pk, "label": names[s.pk], "start": s.start, "end": s.end}
                for ref, s in zip(result.client_ids, result.spans, strict=True)
            ],
            "relations": [
                {"id": r.pk, "source": r.source_id, "target": r.target_id,
                 "type": type_names[r.type_id]}
                for r in result.relations
            ],
        }
        return Response(body, status=status.HTTP_201_CREATED)


# --------------------------------------------------------------------------- status


class _StatusView(WarrantAPIMixin, generics.GenericAPIView):
    parser_classes = [BoundedJSONParser]
    serializer_class = VersionSerializer
    service = None

    def post(self, request, set_id):
        aset = api_annotation_set_for_write(request.user, set_id)
        data = _valid(VersionSerializer, request.data)
        aset = type(self).service(
            annotation_set=aset, expected_version=data["version"], user=request.user
        )
        return Response(AnnotationSetStatusSerializer(aset).data)


@extend_schema(
    tags=["annotation sets"],
    summary="Submit an annotation set",
    description=f"A submitted set takes no edits until it is reopened. {VERSION_HELP}",
    request=VersionSerializer,
    responses={200: AnnotationSetStatusSerializer, **WRITE_ERRORS},
)
class AnnotationSetSubmitView(_StatusView):
    service = staticmethod(annotation_services.annotation_set_submit)


@extend_schema(
    tags=["annotation sets"],
    summary="Reopen a submitted annotation set",
    description="One's own set: only while the project allows reopening, and not once it "
    "counts for a grade that is fixed (grades released, or its deadline passed: 409). A "
    "manager may reopen a student's set at any time; that is recorded and shown on the "
    f"grades page. {VERSION_HELP}",
    request=VersionSerializer,
    responses={200: AnnotationSetStatusSerializer, **WRITE_ERRORS},
)
class AnnotationSetReopenView(_StatusView):
    service = staticmethod(annotation_services.annotation_set_reopen)

    def post(self, request, set_id):
        aset = api_annotation_set(request.user, set_id)
        if aset.is_gold or aset.annotator_id == request.user.pk:
            return super().post(request, set_id)
        require_permission(request.user, aset.document.project, "annotation_set.reopen_any")
        data = _valid(VersionSerializer, request.data)
        aset = annotation_set_reopen_for_student(
            annotation_set=aset, by=request.user, expected_version=data["version"]
        )
        return Response(AnnotationSetStatusSerializer(aset).data)
