"""A project's annotations in bulk: every set a caller may read, in one listing or one stream.

``GET /api/projects/SLUG/annotation-sets/`` lists them (paged, like every list);
``GET /api/projects/SLUG/annotations.jsonl`` streams the canonical JSONL of the
project (docs/jsonl-schema.json), a document a line, read in batches
(``selectors.export_records``) so memory and queries do not grow with the
project: a 1,000-brief project is one request instead of thousands.

Both reveal only the sets the caller may read (``readable_sets_in_project``:
their own, every set for managers and curators, peers' sets in a project that
is not blind) and take the same filters (``SET_FILTERS``); a filter they do not
know is a 400, never silently ignored.
"""

from __future__ import annotations

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.views import APIView

from annotator.formats.jsonl import dump_document
from annotator.models import AnnotationStatus, Relation, Span
from annotator.selectors.annotations import (
    SET_FILTERS,
    filter_documents,
    filter_sets,
    readable_sets_in_project,
)
from annotator.selectors.export_records import export_document_records
from annotator.services.errors import WarrantError

from .annotation_sets import _count_of
from .base import WarrantAPIMixin, api_project
from .openapi import error_responses
from .serializers import AnnotationSetSerializer

#: Query parameters of the paged list that are not filters.
PAGING = ("page", "page_size")
#: The stream's media type: JSON Lines (one JSON document a line).
JSONL_CONTENT_TYPE = "application/jsonl; charset=utf-8"
_TRUE, _FALSE = ("true", "1", "yes"), ("false", "0", "no")

FILTER_PARAMETERS = [
    OpenApiParameter(name, str, OpenApiParameter.QUERY, required=False, description=what)
    for name, what in SET_FILTERS.items()
]


class JSONLinesRenderer(BaseRenderer):
    """Lets a client ask for ``Accept: application/jsonl``; errors still come as JSON."""

    media_type = "application/jsonl"
    format = "jsonl"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return JSONRenderer().render(data)


def set_filters(query, *, also: tuple[str, ...] = ()) -> dict:
    """The filters of a request's query, checked; an unknown one or a bad value is refused."""
    unknown = sorted(set(query) - set(SET_FILTERS) - set(also))
    if unknown:
        raise WarrantError(
            f"unknown filter {unknown[0]!r} (filters: {', '.join(SET_FILTERS)})"
        )
    filters: dict = {}
    for name in SET_FILTERS:
        if name not in query:
            continue
        values = [v.strip() for raw in query.getlist(name) for v in raw.split(",") if v.strip()]
        if not values:
            raise WarrantError(f"filter {name!r} is empty ({SET_FILTERS[name]})")
        if name == "gold":
            if len(values) != 1 or values[0].lower() not in (*_TRUE, *_FALSE):
                raise WarrantError("filter 'gold' is true or false")
            filters["gold"] = values[0].lower() in _TRUE
        elif name == "status":
            bad = [v for v in values if v not in AnnotationStatus.values]
            if bad:
                statuses = ", ".join(AnnotationStatus.values)
                raise WarrantError(f"filter 'status': {bad[0]!r} is not one of {statuses}")
            filters["status"] = values
        else:
            filters[name] = values
    return filters


def _readable_filtered(user, project, filters: dict):
    return filter_sets(readable_sets_in_project(user=user, project=project), **filters)


@extend_schema(tags=["annotation sets"])
class ProjectAnnotationSetListView(WarrantAPIMixin, generics.ListAPIView):
    serializer_class = AnnotationSetSerializer

    def get_queryset(self):
        project = api_project(self.request.user, self.kwargs["slug"], "document.view")
        filters = set_filters(self.request.query_params, also=PAGING)
        return (
            _readable_filtered(self.request.user, project, filters)
            .select_related("annotator")
            .annotate(span_count=_count_of(Span), relation_count=_count_of(Relation))
            .order_by("document__position", "document_id", "is_gold", "annotator__username",
                      "id")
        )

    @extend_schema(
        summary="Every annotation set of the project you may read",
        description="Your own sets; every set (gold included) for managers and curators; in a "
        "project that is not blind, annotators also see their peers' sets. Filters combine; "
        "an unknown filter is a 400.",
        parameters=FILTER_PARAMETERS,
        responses={200: AnnotationSetSerializer(many=True), **error_responses(400)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


@extend_schema(tags=["annotation sets"])
class ProjectAnnotationsView(WarrantAPIMixin, APIView):
    renderer_classes = [JSONRenderer, JSONLinesRenderer]
    @extend_schema(
        summary="The project's annotations as canonical JSONL, streamed",
        description="One document a line (JSON Schema: docs/jsonl-schema.json), with the sets "
        "you may read. Without a set filter every document comes, with the sets you may "
        "read; with one (annotator, status, gold), only documents that have a matching set. "
        "split and document choose documents. An unknown filter is a 400.",
        parameters=FILTER_PARAMETERS,
        responses={
            (200, "application/jsonl"): OpenApiResponse(
                OpenApiTypes.STR, description="JSON Lines, one document a line."
            ),
            **error_responses(400),
        },
    )
    def get(self, request, slug):
        project = api_project(request.user, slug, "document.view")
        filters = set_filters(request.query_params)
        sets = _readable_filtered(request.user, project, filters)
        documents = filter_documents(
            project.documents.all(), split=filters.get("split"),
            document=filters.get("document"),
        )
        if {"annotator", "status", "gold"} & set(filters):
            documents = documents.filter(pk__in=sets.values("document_id"))
        records = export_document_records(project, sets=sets, documents=documents)
        lines = (f"{dump_document(record)}\n" for record in records)
        response = StreamingHttpResponse(lines, content_type=JSONL_CONTENT_TYPE)
        response["Content-Disposition"] = f'inline; filename="{project.slug}.jsonl"'
        return response
