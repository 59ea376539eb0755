from django.conf import settings
from django.db import models
from django.db.models import Q

from .documents import AnnotationSet


class ActionKind(models.TextChoices):
    SPAN_CREATE = "span_create", "Span created"
    SPAN_UPDATE = "span_update", "Span changed"
    SPAN_DELETE = "span_delete", "Span deleted"
    RELATION_CREATE = "relation_create", "Relation created"
    RELATION_DELETE = "relation_delete", "Relation deleted"
    SPANS_CREATE = "spans_create", "Spans created together"
    RELATION_UPDATE = "relation_update", "Relation type changed"


class AnnotationAction(models.Model):
    """One edit of an annotation set, kept so that it can be undone and redone.

    ``payload`` holds what the inverse needs: the created object's id, the
    values a change replaced, or the whole deleted span with its relations.
    ``version`` is the set's version the edit produced. Undoing marks the row
    ``undone`` and adds to its payload what redoing needs (the removed rows) and
    ``undone_version``, the set's version the undo produced (see
    ``services.annotations.annotation_set_redo``). The log doubles as the set's
    edit history.
    """

    annotation_set = models.ForeignKey(
        AnnotationSet, on_delete=models.CASCADE, related_name="actions"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    kind = models.CharField(max_length=20, choices=ActionKind.choices)
    payload = models.JSONField(default=dict)
    version = models.PositiveIntegerField()
    undone = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["annotation_set", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=[k.value for k in ActionKind]), name="action_kind_valid"
            ),
        ]
        indexes = [models.Index(fields=["annotation_set", "undone", "-id"])]

    def __str__(self) -> str:
        return f"{self.kind} on set {self.annotation_set_id} (v{self.version})"
