"""Which assignments (non-gold annotation sets) a user may see listed."""

from __future__ import annotations

from datetime import date

from django.db.models import QuerySet

from annotator.models import AnnotationSet, AnnotationStatus, Project
from annotator.selectors.annotations import readable_sets_in_project
from annotator.selectors.permissions import has_permission


def sees_every_assignment(user, project: Project) -> bool:
    """Whether the user may see who else is assigned a document, and how far they are.

    Managers and curators (``annotation_set.view_any``) always may. In an open
    project every member may; in a blind project the others see only their own
    assignment, so that an annotator cannot tell who else annotates a document
    (a viewer, who has none, sees none).
    """
    return has_permission(user, project, "annotation_set.view_any") or not project.blind


def visible_assignments(user, project: Project) -> QuerySet[AnnotationSet]:
    """The assignments (non-gold annotation sets) of ``project`` the user may see listed:
    those whose sets they may read (``annotations.readable_set_filter``, the one rule)."""
    return readable_sets_in_project(user=user, project=project).filter(is_gold=False)


def is_overdue(assignment: AnnotationSet, today: date) -> bool:
    return (
        assignment.due is not None
        and assignment.due < today
        and assignment.status != AnnotationStatus.SUBMITTED
    )
