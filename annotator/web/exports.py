"""The export page: start a dataset export, watch it being built, download it.

Every view checks ``export.create`` on the project of the URL, and a job is
looked up within that project: another project's job id is a 404, never its
file (doccano served files by whatever task id the client sent).
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import HttpResponseStopPolling

from annotator.models import ExportJob, ExportScope, JobStatus
from annotator.selectors.export_jobs import export_jobs_visible
from annotator.services.errors import WarrantError
from annotator.services.export_jobs import (
    EXPORT_RETENTION,
    download_name,
    export_job_available,
    export_job_request,
)
from annotator.services.exports import EXPORT_FORMATS

from .access import project_for

#: Jobs listed on the page, newest first; older ones stay downloadable by URL until they expire.
JOBS_SHOWN = 20
ACTIVE = (JobStatus.PENDING, JobStatus.RUNNING)


class ExportForm(forms.Form):
    format = forms.ChoiceField(
        label="Format",
        choices=[(name, f"{name} — {spec.description}") for name, spec in EXPORT_FORMATS.items()],
        initial="jsonl",
    )
    scope = forms.ChoiceField(label="Annotations", choices=ExportScope.choices,
                              initial=ExportScope.BOTH)


def _page(request, project, form, *, status=200):
    jobs = list(
        export_jobs_visible(user=request.user, project=project)
        .select_related("requested_by", "project")
        .order_by("-created_at", "-id")[:JOBS_SHOWN]
    )
    return render(
        request,
        "annotator/exports.html",
        {
            "project": project,
            "form": form,
            "jobs": [_job_context(job) for job in jobs],
            "retention_days": EXPORT_RETENTION.days,
        },
        status=status,
    )


def _job_context(job: ExportJob) -> dict:
    return {
        "job": job,
        "active": job.status in ACTIVE,
        "available": export_job_available(job),
        "percent": round(job.progress * 100),
    }


@require_http_methods(["GET", "POST"])
@login_required
def export_page(request, slug):
    project = project_for(request.user, slug, "export.create")
    if request.method == "POST":
        form = ExportForm(request.POST)
        if form.is_valid():
            try:
                job = export_job_request(
                    project=project,
                    requested_by=request.user,
                    format=form.cleaned_data["format"],
                    scope=form.cleaned_data["scope"],
                )
            except WarrantError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, f"Export #{job.pk} ({job.format}) has started.")
                return redirect("exports", slug=project.slug)
        return _page(request, project, form, status=400)
    return _page(request, project, ExportForm())


@require_GET
@login_required
def export_job_progress(request, slug, job_id):
    """One job's row; polled while the job is pending or running, then HTTP 286 stops it."""
    project = project_for(request.user, slug, "export.create")
    job = get_object_or_404(
        export_jobs_visible(user=request.user, project=project).select_related("project"),
        pk=job_id,
    )
    context = {"project": project, "row": _job_context(job)}
    response = render(request, "annotator/exports.html#export-job", context)
    if job.status in ACTIVE:
        return response
    return HttpResponseStopPolling(response.content)


@require_GET
@login_required
def export_job_download(request, slug, job_id):
    project = project_for(request.user, slug, "export.create")
    job = get_object_or_404(
        export_jobs_visible(user=request.user, project=project).select_related("project"),
        pk=job_id,
    )
    if not export_job_available(job):
        raise Http404("This export is not ready, has failed or has expired.")
    try:
        handle = job.file.open("rb")
    except FileNotFoundError:
        raise Http404("The export file is gone; start a new export.") from None
    return FileResponse(handle, as_attachment=True, filename=download_name(job))
