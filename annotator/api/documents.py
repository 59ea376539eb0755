"""Documents of a project: a page of them, and one with its canonical text."""

from __future__ import annotations

from django.db.models.functions import Length
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.response import Response

from .base import WarrantAPIMixin, api_document, api_project
from .openapi import error_responses
from .serializers import OFFSETS, DocumentDetailSerializer, DocumentSerializer


@extend_schema(tags=["documents"])
class DocumentListView(WarrantAPIMixin, generics.ListAPIView):
    serializer_class = DocumentSerializer

    def get_queryset(self):
        project = api_project(self.request.user, self.kwargs["slug"], "document.view")
        return (
            project.documents.defer("original", "text")
            .annotate(characters=Length("text"))
            .order_by("position", "id")
        )

    @extend_schema(
        summary="The documents of a project",
        description="Paginated in the project's order; the text is in each document's detail.",
        responses={200: DocumentSerializer(many=True), **error_responses()},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


@extend_schema(tags=["documents"])
class DocumentDetailView(WarrantAPIMixin, generics.GenericAPIView):
    serializer_class = DocumentDetailSerializer

    @extend_schema(
        summary="A document with its canonical text",
        description=OFFSETS,
        responses={200: DocumentDetailSerializer, **error_responses()},
    )
    def get(self, request, slug, document_id):
        _, document = api_document(request.user, slug, document_id)
        document.characters = len(document.text)
        return Response(DocumentDetailSerializer(document).data)
