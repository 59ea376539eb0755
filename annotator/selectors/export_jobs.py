"""Which export jobs a user sees (and may download)."""

from __future__ import annotations

from django.db.models import QuerySet

from annotator.models import ExportJob, Project

from .permissions import has_permission


def export_jobs_visible(*, user, project: Project) -> QuerySet[ExportJob]:
    """The export jobs of ``project`` that ``user`` may see and download.

    A job's file holds what its requester could read
    (``annotations.readable_set_filter``), which may be more than someone else
    of ``export.create`` reads (a manager's export, fetched by a viewer of a
    blind project). So one sees one's own jobs; roles that read every set
    (``annotation_set.view_any``) see every job.
    """
    jobs = ExportJob.objects.filter(project=project)
    if has_permission(user, project, "annotation_set.view_any"):
        return jobs
    return jobs.filter(requested_by=user)
