"""A document read-only: its text, metadata, assignments and what cleaning removed."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from .access import is_overdue, project_for, sees_every_assignment, visible_assignments
from .projects import annotate_url


@require_GET
@login_required
def document_detail(request, slug, document_id):
    project = project_for(request.user, slug, "document.view")
    document = get_object_or_404(project.documents.defer("original"), pk=document_id)
    today = timezone.localdate()
    assignments = (
        visible_assignments(request.user, project)
        .filter(document=document)
        .select_related("annotator")
        .order_by("annotator__username")
    )
    context = {
        "project": project,
        "document": document,
        "words": len(document.text.split()),
        "characters": len(document.text),
        "assignments": [{"set": a, "overdue": is_overdue(a, today)} for a in assignments],
        "sees_all": sees_every_assignment(request.user, project),
        "annotate_url": annotate_url(project, document),
        "meta": sorted(document.meta.items()) if isinstance(document.meta, dict) else [],
        "cleaning": document.cleaning or None,
    }
    return render(request, "annotator/document_detail.html", context)
