"""A document's page: its text (with its pages), metadata, assignments, what cleaning
removed beside what it kept; for a manager, the title to edit and the import to re-run."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from annotator.formats.records import UNANNOTATED_FORMATS
from annotator.selectors.permissions import has_permission
from annotator.services.documents import document_reimport, document_title_set
from annotator.services.errors import ConflictError, WarrantError

from .access import is_overdue, project_for, sees_every_assignment, visible_assignments
from .projects import annotate_url


def _with_pages(text: str, page_map) -> list[dict]:
    """``text`` cut where a page begins: ``{"text", "page"}`` parts, ``page`` on the
    first part of each page (None elsewhere)."""
    parts: list[dict] = []
    position, current = 0, None
    for run in page_map if isinstance(page_map, list) else []:
        try:
            start, page = int(run[0]), int(run[2])
        except (TypeError, ValueError, IndexError):
            return [{"text": text, "page": None}]
        if page != current and position <= start <= len(text):
            if start > position:
                parts.append({"text": text[position:start], "page": None})
            parts.append({"text": "", "page": page})
            position, current = start, page
    parts.append({"text": text[position:], "page": None})
    return parts


def _beside_removed(text: str, removed) -> list[dict]:
    """``text`` with each removed line put back where it stood: ``{"text", "reason"}``
    parts, ``reason`` set on the removed ones."""
    parts: list[dict] = []
    position = 0
    for entry in removed if isinstance(removed, list) else []:
        try:
            offset, reason, line = int(entry[0]), str(entry[1]), str(entry[2])
        except (TypeError, ValueError, IndexError):
            continue
        offset = min(max(offset, position), len(text))
        if offset > position:
            parts.append({"text": text[position:offset], "reason": None})
            position = offset
        parts.append({"text": line, "reason": reason})
    parts.append({"text": text[position:], "reason": None})
    return parts


def _context(request, project, document, **extra) -> dict:
    today = timezone.localdate()
    assignments = (
        visible_assignments(request.user, project)
        .filter(document=document)
        .select_related("annotator")
        .order_by("annotator__username")
    )
    cleaning = document.cleaning if isinstance(document.cleaning, dict) else {}
    meta = document.meta if isinstance(document.meta, dict) else {}
    return {
        "project": project,
        "document": document,
        "words": len(document.text.split()),
        "characters": len(document.text),
        "assignments": [{"set": a, "overdue": is_overdue(a, today)} for a in assignments],
        "sees_all": sees_every_assignment(request.user, project),
        "annotate_url": annotate_url(project, document),
        # The page map is shown in the text; listing it would repeat the text's size.
        "meta": sorted((k, v) for k, v in meta.items() if k != "page_map"),
        "text_parts": _with_pages(document.text, meta.get("page_map")),
        "cleaning": cleaning if cleaning.get("removed_lines") else None,
        "cleaning_view": _beside_removed(document.text, cleaning.get("removed"))
        if cleaning.get("removed")
        else None,
        "removed_shown": len(cleaning.get("removed") or []),
        "removed_not_shown": max(
            0, (cleaning.get("removed_lines") or 0) - len(cleaning.get("removed") or [])
        ),
        "cleaned_on": cleaning.get("clean"),
        "title_from": cleaning.get("title_from", ""),
        "can_edit": has_permission(request.user, project, "document.edit"),
        "can_rerun": document.source_format in UNANNOTATED_FORMATS,
        "title_error": None,
        "rerun_error": None,
        **extra,
    }


@require_GET
@login_required
def document_detail(request, slug, document_id):
    project = project_for(request.user, slug, "document.view")
    document = get_object_or_404(project.documents.defer("original"), pk=document_id)
    return render(request, "annotator/document_detail.html", _context(request, project, document))


def _refusal_status(error: WarrantError) -> int:
    return 409 if isinstance(error, ConflictError) else 400


@require_POST
@login_required
def document_title(request, slug, document_id):
    """Edit the title; htmx swaps the title block, a plain form comes back to the page."""
    project = project_for(request.user, slug, "document.edit")
    document = get_object_or_404(project.documents.defer("original"), pk=document_id)
    try:
        document_title_set(
            document=document,
            title=request.POST.get("title", ""),
            expected_title=request.POST.get("expected_title"),
        )
    except WarrantError as error:
        document.refresh_from_db(fields=["title"])
        context = _context(request, project, document, title_error=str(error))
        template = "annotator/document_detail.html"
        if request.htmx:
            template += "#document-title"
        return render(request, template, context, status=_refusal_status(error))
    if request.htmx:
        return render(request, "annotator/document_detail.html#document-title",
                      _context(request, project, document))
    messages.success(request, "Title saved.")
    return redirect("document-detail", slug=project.slug, document_id=document.pk)


@require_POST
@login_required
def document_rerun(request, slug, document_id):
    """Re-run the document's import with cleaning on or off."""
    project = project_for(request.user, slug, "document.edit")
    document = get_object_or_404(project.documents.defer("original"), pk=document_id)
    clean = request.POST.get("clean")
    if clean not in ("on", "off"):
        error = WarrantError("say whether to clean: on or off")
    else:
        try:
            report = document_reimport(document=document, clean=clean == "on")
        except WarrantError as exc:
            error = exc
        else:
            messages.success(request, report.message())
            return redirect("document-detail", slug=project.slug, document_id=document.pk)
    document.refresh_from_db()
    context = _context(request, project, document, rerun_error=str(error))
    return render(request, "annotator/document_detail.html", context,
                  status=_refusal_status(error))
