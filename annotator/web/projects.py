"""The home page (the user's projects) and a project's page (its documents)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch, Q
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from annotator.models import AnnotationSet, Document, Membership, Role
from annotator.selectors.permissions import has_permission
from annotator.selectors.progress import status_counts, visible_assignment_counts
from annotator.selectors.projects import projects_for_user

from . import paging
from .access import is_overdue, project_for, sees_every_assignment, visible_assignments


@require_GET
@login_required
def home(request):
    user = request.user
    today = timezone.localdate()
    projects = list(projects_for_user(user))
    roles = dict(Membership.objects.filter(user=user).values_list("project_id", "role"))
    queues = {
        row.pop("project"): row
        for row in AnnotationSet.objects.filter(annotator=user, is_gold=False)
        .values("project")
        .annotate(**status_counts(today))
        .order_by()
    }
    rows = []
    for project in projects:
        role = roles.get(project.pk)
        queue = queues.get(project.pk)
        # An annotator always sees their queue, even an empty one; a manager or
        # curator who also annotates sees theirs when they have one.
        if queue is None and role == Role.ANNOTATOR:
            queue = dict.fromkeys(("assigned", "in_progress", "submitted", "overdue"), 0)
        if queue is not None:
            queue["total"] = queue["assigned"] + queue["in_progress"] + queue["submitted"]
        rows.append(
            {
                "project": project,
                # A superuser sees every project, member or not.
                "role": Role(role).label if role else "Administrator",
                "queue": queue,
            }
        )
    return render(request, "annotator/home.html", {"rows": rows})


def annotate_url(project, document) -> str | None:
    """The annotation page of a document, once that page exists in the URLconf."""
    try:
        return reverse("annotate", kwargs={"slug": project.slug, "document_id": document.pk})
    except NoReverseMatch:
        return None


@require_GET
@login_required
def project_detail(request, slug):
    project = project_for(request.user, slug, "document.view")
    today = timezone.localdate()
    query = request.GET.get("q", "").strip()[: paging.SEARCH_MAX_CHARS]
    assignments = visible_assignments(request.user, project)
    documents = project.documents.order_by("position", "id")
    if query:
        documents = documents.filter(Q(title__icontains=query) | Q(external_id__icontains=query))
    page = paging.page_of_rows(
        request,
        documents,
        lambda pks: Document.objects.filter(pk__in=pks).defer("original").prefetch_related(
            Prefetch(
                "annotation_sets",
                queryset=assignments.select_related("annotator").order_by("annotator__username"),
                to_attr="assignments",
            )
        ),
    )
    rows = []
    for document in page:
        rows.append(
            {
                "document": document,
                "words": len(document.text.split()),
                "assignments": [
                    {"set": a, "overdue": is_overdue(a, today)} for a in document.assignments
                ],
                "annotate_url": annotate_url(project, document),
            }
        )
    context = {
        "project": project,
        "page": page,
        "rows": rows,
        "query": query,
        # Unfiltered, the pager has counted them already (100,000 index entries).
        "document_count": project.documents.count() if query else page.paginator.count,
        "counts": visible_assignment_counts(user=request.user, project=project, today=today),
        "can_import": has_permission(request.user, project, "document.import"),
        "sees_all": sees_every_assignment(request.user, project),
    }
    template = "annotator/project_detail.html"
    # A search or a page link sent by htmx swaps only the table; a history
    # restore (back button with an evicted cache) needs the whole page.
    if request.htmx and not request.htmx.history_restore_request:
        template += "#document-table"
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response
