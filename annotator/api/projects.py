"""Projects: the ones the user belongs to, and one with its label schema."""

from __future__ import annotations

from django.db.models import OuterRef, Subquery
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.response import Response

from annotator.models import Membership
from annotator.selectors.permissions import PERMISSIONS, has_permission, project_role
from annotator.selectors.projects import project_schema, projects_for_user

from .base import WarrantAPIMixin, api_project
from .openapi import error_responses
from .serializers import ProjectDetailSerializer, ProjectSerializer


@extend_schema(tags=["projects"])
class ProjectListView(WarrantAPIMixin, generics.ListAPIView):
    serializer_class = ProjectSerializer

    def get_queryset(self):
        user = self.request.user
        role = Membership.objects.filter(project=OuterRef("pk"), user=user).values("role")[:1]
        return projects_for_user(user).annotate(role=Subquery(role))

    @extend_schema(
        summary="Your projects",
        description="The projects you are a member of (every project for an administrator).",
        responses={200: ProjectSerializer(many=True), **error_responses()},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


@extend_schema(tags=["projects"])
class ProjectDetailView(WarrantAPIMixin, generics.GenericAPIView):
    serializer_class = ProjectDetailSerializer

    @extend_schema(
        summary="A project with its label schema",
        responses={200: ProjectDetailSerializer, **error_responses()},
    )
    def get(self, request, slug):
        user = request.user
        project = api_project(user, slug)
        project.role = project_role(user, project)
        project.document_count = project.documents.count()
        project.schema = project_schema(project).to_dict()
        project.permissions = [a for a in PERMISSIONS if has_permission(user, project, a)]
        return Response(ProjectDetailSerializer(project).data)
