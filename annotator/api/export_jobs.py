"""Export jobs over the API: list and request a project's exports, poll one,
download its file.

Every job belongs to a project and is checked like everything else: the
caller needs ``export.create`` in the job's project (a job of a project they
cannot see is a 404, the same as an unknown id), never just the job's id.
"""

from __future__ import annotations

from django.http import FileResponse, Http404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import APIException
from rest_framework.response import Response

from annotator.models import ExportJob, ExportScope, JobStatus
from annotator.selectors.export_jobs import export_jobs_visible
from annotator.selectors.permissions import has_permission, require_permission
from annotator.services.export_jobs import (
    download_name,
    export_job_available,
    export_job_request,
)
from annotator.services.exports import export_formats
from annotator.services.jobs import job_not_queued

from .base import WarrantAPIMixin, api_project
from .errors import QueueUnavailable
from .openapi import error_responses
from .parsers import BoundedJSONParser


class ExportNotReady(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "This export is not finished yet."


class ExportGone(APIException):
    status_code = status.HTTP_410_GONE
    default_detail = "This export has expired or its file is gone; start a new export."


class ExportJobSerializer(serializers.ModelSerializer):
    project = serializers.CharField(source="project.slug")
    requested_by = serializers.CharField(source="requested_by.username", allow_null=True)
    status = serializers.ChoiceField(choices=JobStatus.choices)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = ExportJob
        fields = [
            "id",
            "project",
            "requested_by",
            "format",
            "scope",
            "parameters",
            "status",
            "progress",
            "documents",
            "spans",
            "notes",
            "size",
            "md5",
            "error",
            "created_at",
            "started_at",
            "finished_at",
            "expires_at",
            "download_url",
        ]

    def get_download_url(self, job) -> str | None:
        """Where to fetch the file, once the job is done and until it expires."""
        if not export_job_available(job):
            return None
        return reverse("api-export-job-download", kwargs={"job_id": job.pk})


class ExportJobRequestSerializer(serializers.Serializer):
    format = serializers.ChoiceField(choices=[])
    scope = serializers.ChoiceField(choices=ExportScope.choices, default=ExportScope.BOTH)
    parameters = serializers.DictField(
        required=False,
        default=dict,
        help_text="Options of the format: seed, license and language for hf.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["format"].choices = export_formats()


def _job(user, job_id: int) -> ExportJob:
    job = ExportJob.objects.select_related("project", "requested_by").filter(pk=job_id).first()
    if job is None or not has_permission(user, job.project, "project.view"):
        raise Http404("No such export job.")
    require_permission(user, job.project, "export.create")
    if not export_jobs_visible(user=user, project=job.project).filter(pk=job.pk).exists():
        raise Http404("No such export job.")  # someone else's: it may hold what you may not read
    return job


@extend_schema(tags=["exports"])
class ExportJobListView(WarrantAPIMixin, generics.ListAPIView):
    serializer_class = ExportJobSerializer
    parser_classes = [BoundedJSONParser]

    def get_queryset(self):
        project = api_project(self.request.user, self.kwargs["slug"], "export.create")
        return (
            export_jobs_visible(user=self.request.user, project=project)
            .select_related("project", "requested_by")
            .order_by("-created_at", "-id")
        )

    @extend_schema(
        summary="The export jobs of a project",
        description="Newest first; a finished job's file stays downloadable for a set time.",
        responses={200: ExportJobSerializer(many=True), **error_responses(403)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Start an export",
        description="The job is built by the worker; poll it until `status` is `done`, then "
        "fetch `download_url`. Exported offsets count Unicode code points.",
        request=ExportJobRequestSerializer,
        responses={202: ExportJobSerializer, **error_responses(400, 403, 503)},
    )
    def post(self, request, slug):
        project = api_project(request.user, slug, "export.create")
        body = ExportJobRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        job = export_job_request(
            project=project,
            requested_by=request.user,
            format=body.validated_data["format"],
            scope=body.validated_data["scope"],
            parameters=body.validated_data["parameters"],
        )
        job.refresh_from_db()  # in the embedded mode it may have run already
        if job_not_queued(job):
            raise QueueUnavailable("export", job.pk)
        data = ExportJobSerializer(job).data
        location = reverse("api-export-job-detail", kwargs={"job_id": job.pk})
        return Response(data, status=status.HTTP_202_ACCEPTED, headers={"Location": location})


@extend_schema(tags=["exports"])
class ExportJobDetailView(WarrantAPIMixin, generics.GenericAPIView):
    serializer_class = ExportJobSerializer

    @extend_schema(
        summary="An export job (poll it while it runs)",
        responses={200: ExportJobSerializer, **error_responses(403)},
    )
    def get(self, request, job_id):
        return Response(ExportJobSerializer(_job(request.user, job_id)).data)


@extend_schema(tags=["exports"])
class ExportJobDownloadView(WarrantAPIMixin, generics.GenericAPIView):
    serializer_class = ExportJobSerializer

    @extend_schema(
        summary="Download an export job's file",
        description="409 while the job is pending or running (or when it failed: see "
        "`error` on the job), 410 once it has expired.",
        responses={
            (200, "application/octet-stream"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The export file (a zip for folder formats)."
            ),
            **error_responses(
                403,
                409,
                410,
                e409="The export is pending, running or failed.",
                e410="The export has expired or its file is gone.",
            ),
        },
    )
    def get(self, request, job_id):
        job = _job(request.user, job_id)
        if job.status != JobStatus.DONE:
            detail = (
                f"This export failed: {job.error}"
                if job.status == JobStatus.FAILED
                else f"This export is not finished yet ({job.status}, "
                f"{round(job.progress * 100)}%)."
            )
            raise ExportNotReady(detail)
        if not export_job_available(job):
            raise ExportGone()
        try:
            handle = job.file.open("rb")
        except FileNotFoundError:
            raise ExportGone() from None
        return FileResponse(handle, as_attachment=True, filename=download_name(job))
