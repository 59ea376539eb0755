"""The assignment page: run the balanced assignment, change it by hand, deadlines,
each annotator's queue, and the assignment table as CSV."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from annotator.models import AnnotationSet, Membership
from annotator.selectors.assignments import (
    AssignmentsInOrder,
    AssignmentsMatching,
    is_overdue,
)
from annotator.selectors.permissions import PERMISSIONS
from annotator.services.assignments import (
    assignment_create,
    assignment_csv,
    assignment_delete,
    assignment_reassign,
    assignment_set_due,
    assignments_make,
    project_deadline_set,
)
from annotator.services.errors import WarrantError

from .access import project_for
from .downloads import csv_download
from .paging import SEARCH_MAX_CHARS, keep_params, page_of


def _date(value: str | None) -> dt.date | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise WarrantError(f"{value!r} is not a date (YYYY-MM-DD)") from None


def _int(value: str | None, what: str) -> int | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise WarrantError(f"{what} must be a whole number, not {value!r}") from None


def _assignees(project):
    """Members who may be handed a document (their role may annotate)."""
    return Membership.objects.filter(
        project=project, role__in=list(PERMISSIONS["annotation_set.annotate"])
    )


def _assignee(project, value: str | None):
    """The member named by username (or, from older forms, user id) who may annotate."""
    value = (value or "").strip()
    members = _assignees(project).select_related("user")
    member = members.filter(user__username=value).first()
    if member is None and value.isdigit():
        member = members.filter(user__pk=int(value)).first()
    return member.user if member else None


def _document(project, value: str | None):
    """The document named by external id (or id)."""
    value = (value or "").strip()
    documents = project.documents.defer("original", "text", "cleaning")
    document = documents.filter(external_id=value).first()
    if document is None and value.isdigit():
        document = documents.filter(pk=int(value)).first()
    return document


@require_GET
@login_required
def assignments_page(request, slug):
    """Every assignment, a page at a time; ``q`` keeps those whose annotator or
    document title contains it. Documents and annotators are typed, not picked
    from lists that would hold the whole project."""
    project = project_for(request.user, slug, "assignment.manage")
    today = timezone.localdate()
    query = request.GET.get("q", "").strip()[:SEARCH_MAX_CHARS]
    if query:
        assignments = AssignmentsMatching(project=project, query=query)
    else:
        # Any page, the last of 6,000 too, without sorting every assignment.
        assignments = AssignmentsInOrder(project=project)
    page = page_of(request, assignments)
    rows = [{"assignment": a, "overdue": is_overdue(a, today)} for a in page]
    return render(
        request,
        "annotator/assignments.html",
        {
            "project": project,
            "page": page,
            "rows": rows,
            "query": query,
            "keep": keep_params(q=query),
            "has_assignees": _assignees(project).exists(),
            # A search that matches more than the list pages through (a word in
            # every title) says so instead of counting them all.
            "capped": getattr(assignments, "capped", False),
            "today": today,
        },
    )


def _back(request, project, error: str | None = None, success: str | None = None):
    if error:
        messages.error(request, error)
    elif success:
        messages.success(request, success)
    return redirect("assignments", slug=project.slug)


@require_POST
@login_required
def assignments_run(request, slug):
    project = project_for(request.user, slug, "assignment.manage")
    try:
        k = _int(request.POST.get("per_document"), "Annotators per document")
        seed = _int(request.POST.get("seed"), "The seed")
        due = _date(request.POST.get("due"))
        created = assignments_make(
            project=project,
            per_document=k if k is not None else project.annotators_per_document,
            seed=seed,
            due=due,
        )
    except WarrantError as exc:
        return _back(request, project, f"No assignment was made: {exc}")
    return _back(request, project, success=f"{len(created)} new assignment(s).")


@require_POST
@login_required
def project_deadline(request, slug):
    project = project_for(request.user, slug, "assignment.manage")
    try:
        due = _date(request.POST.get("due"))
        moved = project_deadline_set(project=project, due=due)
    except WarrantError as exc:
        return _back(request, project, str(exc))
    when = due.isoformat() if due else "none"
    return _back(
        request, project, success=f"Project deadline: {when}; {moved} assignment(s) follow it."
    )


def _assignment(project, assignment_id) -> AnnotationSet:
    return get_object_or_404(
        AnnotationSet.objects.select_related("annotator", "document"),
        pk=assignment_id, document__project=project, is_gold=False,
    )


@require_POST
@login_required
def assignment_update(request, slug, assignment_id):
    """One assignment: a new deadline, a new annotator, or withdrawn."""
    project = project_for(request.user, slug, "assignment.manage")
    assignment = _assignment(project, assignment_id)
    action = request.POST.get("action", "")
    try:
        if action == "due":
            assignment_set_due(assignment=assignment, due=_date(request.POST.get("due")))
            done = f"New deadline for {assignment.annotator.username} on {assignment.document}."
        elif action == "reassign":
            user = _assignee(project, request.POST.get("annotator"))
            if user is None:
                raise WarrantError("choose an annotator of this project")
            before = assignment.annotator.username
            assignment_reassign(assignment=assignment, annotator=user)
            done = f"{assignment.document} moved from {before} to {user.username}."
        elif action == "delete":
            assignment_delete(assignment=assignment)
            done = f"Assignment of {assignment.document} to {assignment.annotator} withdrawn."
        else:
            raise WarrantError("unknown action")
    except WarrantError as exc:
        return _back(request, project, str(exc))
    return _back(request, project, success=done)


@require_POST
@login_required
def assignment_add(request, slug):
    project = project_for(request.user, slug, "assignment.manage")
    document = _document(project, request.POST.get("document"))
    user = _assignee(project, request.POST.get("annotator"))
    if document is None or user is None:
        return _back(request, project, "Choose a document and an annotator of this project.")
    try:
        assignment_create(document=document, annotator=user, due=_date(request.POST.get("due")))
    except WarrantError as exc:
        return _back(request, project, str(exc))
    return _back(request, project, success=f"{document} assigned to {user.username}.")


@require_GET
@login_required
def assignments_download(request, slug):
    project = project_for(request.user, slug, "assignment.manage")
    return csv_download(assignment_csv(project), f"{project.slug}-assignments.csv")
