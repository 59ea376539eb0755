"""Releasing grades to students (the figures themselves are reads: selectors/grading.py)."""

from __future__ import annotations

from django.db import transaction

from annotator.models import Project


@transaction.atomic
def grades_release(*, project: Project, released: bool) -> Project:
    """Show (or hide again) each student's grade and feedback against the gold.

    Released grades follow the gold: they are computed when a student opens
    them, so a gold corrected after the release shows at once.
    """
    if project.grades_released != released:
        project.grades_released = released
        project.save(update_fields=["grades_released", "updated_at"])
    return project
