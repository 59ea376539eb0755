"""The progress dashboard: per annotator and per document, a chart, a CSV."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from annotator.selectors.progress import (
    progress_annotator_names,
    progress_by_annotator,
    progress_by_document,
    progress_csv,
    progress_documents,
    progress_totals,
)

from .access import project_for
from .downloads import csv_download
from .paging import keep_params, page_of


@require_GET
@login_required
def progress_page(request, slug):
    project = project_for(request.user, slug, "progress.view")
    today = timezone.localdate()
    # Two lists, each a page at a time, each with its own page parameter.
    annotator_page = page_of(
        request, progress_annotator_names(project=project), param="annotators"
    )
    document_page = page_of(request, progress_documents(project=project), param="documents")
    return render(
        request,
        "annotator/progress.html",
        {
            "project": project,
            "today": today,
            "totals": progress_totals(project=project, today=today),
            "annotators": progress_by_annotator(
                project=project, today=today, names=annotator_page
            ),
            "annotator_page": annotator_page,
            "documents": progress_by_document(
                project=project, today=today, documents=document_page
            ),
            "document_page": document_page,
            "keep_for_documents": keep_params(annotators=request.GET.get("annotators")),
            "keep_for_annotators": keep_params(documents=request.GET.get("documents")),
        },
    )


@require_GET
@login_required
def progress_download(request, slug):
    project = project_for(request.user, slug, "progress.view")
    table = progress_csv(project=project, today=timezone.localdate())
    return csv_download(table, f"{project.slug}-progress.csv")
