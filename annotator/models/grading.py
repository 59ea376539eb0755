from django.conf import settings
from django.db import models

from .documents import AnnotationSet


class SetReopening(models.Model):
    """A manager reopened a student's submitted set: who, and when.

    Once grades are released, or once its deadline has passed, a student's set
    that counts for a grade is closed to them (``selectors.grading.grade_lock``);
    only a manager can reopen it, and the grades page lists each time one did,
    because the grade may move afterwards. A reopened set stays open to its
    student until they submit it again.
    """

    annotation_set = models.ForeignKey(
        AnnotationSet, on_delete=models.CASCADE, related_name="reopenings"
    )
    reopened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="set_reopenings",
    )
    reopened_at = models.DateTimeField()

    class Meta:
        ordering = ["-reopened_at", "-id"]
        indexes = [models.Index(fields=["annotation_set", "reopened_at"])]

    def __str__(self) -> str:
        return f"set {self.annotation_set_id} reopened by {self.reopened_by} at {self.reopened_at}"
