"""The progress dashboard: per annotator and per document, a chart, a CSV."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from annotator.selectors.progress import (
    progress_by_annotator,
    progress_by_document,
    progress_csv,
    progress_totals,
)

from .access import project_for


@require_GET
@login_required
def progress_page(request, slug):
    project = project_for(request.user, slug, "progress.view")
    today = timezone.localdate()
    return render(
        request,
        "annotator/progress.html",
        {
            "project": project,
            "today": today,
            "totals": progress_totals(project=project, today=today),
            "annotators": progress_by_annotator(project=project, today=today),
            "documents": progress_by_document(project=project, today=today),
        },
    )


@require_GET
@login_required
def progress_download(request, slug):
    project = project_for(request.user, slug, "progress.view")
    table = progress_csv(project=project, today=timezone.localdate())
    response = HttpResponse(table, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{project.slug}-progress.csv"'
    return response
