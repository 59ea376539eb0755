"""Releasing grades to students, and a manager reopening a student's set (the
figures themselves are reads: selectors/grading.py)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from annotator.models import AnnotationSet, AnnotationStatus, Project, SetReopening

from .annotations import _queue_agreement
from .errors import ConflictError, WarrantError


@transaction.atomic
def grades_release(*, project: Project, released: bool) -> Project:
    """Show (or hide again) each student's grade and feedback against the gold.

    Released grades follow the gold: they are computed when a student opens
    them, so a gold corrected after the release shows at once. What students
    submitted is fixed from then on (``selectors.grading.grade_locked_sets``).
    """
    if project.grades_released != released:
        project.grades_released = released
        project.save(update_fields=["grades_released", "updated_at"])
    return project


@transaction.atomic
def annotation_set_reopen_for_student(
    *, annotation_set: AnnotationSet, by, expected_version: int | None = None
) -> AnnotationSet:
    """A manager takes a student's submitted set back to in progress, and it is recorded.

    Works whatever the project's reopening setting and whether grades are released or
    the deadline has passed: the set then stays open to its student until they submit
    it again. The grades page lists the reopening (who, when), since the grade may move.
    With ``expected_version`` the set must still be at that version (HTTP 409 otherwise).
    The caller checks ``annotation_set.reopen_any``.
    """
    aset = (
        AnnotationSet.objects.select_for_update().filter(pk=annotation_set.pk).order_by().first()
    )
    if aset is None:
        raise WarrantError("this annotation set no longer exists")
    if aset.is_gold:
        raise WarrantError("the gold standard is reopened on the curation page")
    if aset.status != AnnotationStatus.SUBMITTED:
        raise WarrantError("this annotation set is not submitted: there is nothing to reopen")
    if expected_version is not None and aset.version != expected_version:
        raise ConflictError(
            f"this annotation set was changed elsewhere (now version {aset.version}, "
            f"you sent version {expected_version}): nothing was reopened"
        )
    now = timezone.now()
    AnnotationSet.objects.filter(pk=aset.pk).update(
        status=AnnotationStatus.IN_PROGRESS, submitted_at=None, version=F("version") + 1,
        updated_at=now,
    )
    SetReopening.objects.create(annotation_set=aset, reopened_by=by, reopened_at=now)
    # A reopened set leaves the submitted data: the agreement figures follow.
    _queue_agreement(project_id=annotation_set.document.project_id)
    annotation_set.refresh_from_db(fields=["status", "submitted_at", "version", "updated_at"])
    return annotation_set
