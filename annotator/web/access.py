"""Fetch a project for a page and check the permission matrix.

Existence is not leaked: a project the user cannot see at all (unknown slug,
or a project they are not a member of) is a 404, the same answer for both, so
that slugs cannot be probed. A member who lacks the permission for one page
(an annotator on the import page) gets a 403: they know the project exists,
and "not allowed" tells them more than "not found". Anonymous users never get
here: the views are ``login_required`` and redirect to the login page.
"""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import get_object_or_404

from annotator.models import Project
from annotator.selectors.assignments import (  # noqa: F401  (re-exported for the pages)
    is_overdue,
    sees_every_assignment,
    visible_assignments,
)
from annotator.selectors.permissions import has_permission, require_permission


def project_for(user, slug: str, action: str = "project.view") -> Project:
    """The project ``slug`` if ``user`` may do ``action`` in it.

    Raises Http404 when the user may not see the project at all, and
    PermissionDenied (403) when they may see it but not do ``action``.
    """
    project = Project.objects.filter(slug=slug).first()
    if project is None or not has_permission(user, project, "project.view"):
        # One sentence for both, now that error pages show it.
        raise Http404("No such project.")
    require_permission(user, project, action)
    return project


def int_or_none(value) -> int | None:
    """A form or query value as an int, or None when it is missing or not a number."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def project_document(project: Project, document_id: int):
    """A document of ``project`` (404 otherwise), without its upload and cleaning log."""
    return get_object_or_404(project.documents.defer("original", "cleaning"), pk=document_id)
