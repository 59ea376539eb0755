from django.conf import settings
from django.db import models
from django.db.models import Q

from .documents import AnnotationSet
from .jobs import JobStatus
from .projects import Project


class SuggestionAudience(models.TextChoices):
    ALL = "all", "All annotators"
    CHOSEN = "chosen", "Only the annotators chosen"


class SuggestionSettings(models.Model):
    """Whether and how a project shows suggestions (off until a manager turns them on)."""

    project = models.OneToOneField(
        Project, on_delete=models.CASCADE, related_name="suggestion_settings"
    )
    enabled = models.BooleanField(default=False)
    recommenders = models.JSONField(
        default=list, blank=True, help_text="Which of cues, model, external."
    )
    audience = models.CharField(
        max_length=8, choices=SuggestionAudience.choices, default=SuggestionAudience.ALL
    )
    chosen = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="+",
        help_text="The annotators who see suggestions when the audience is 'chosen'.",
    )
    retrain_after = models.PositiveIntegerField(
        default=10, help_text="New submissions after which the model is trained again (0: never)."
    )
    min_confidence = models.FloatField(
        default=0.3, help_text="Suggestions less confident than this are not shown."
    )
    accept_threshold = models.FloatField(
        default=0.6, help_text="'Accept all' takes the suggestions at least this confident."
    )
    external_url = models.URLField(blank=True, max_length=500)
    external_timeout = models.FloatField(default=5.0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(audience__in=[a.value for a in SuggestionAudience]),
                name="suggestion_audience_valid",
            ),
            models.CheckConstraint(
                condition=Q(min_confidence__gte=0) & Q(min_confidence__lte=1)
                & Q(accept_threshold__gte=0) & Q(accept_threshold__lte=1),
                name="suggestion_thresholds_0_1",
            ),
        ]

    def __str__(self) -> str:
        return f"suggestions of {self.project} ({'on' if self.enabled else 'off'})"


class SuggestionModel(models.Model):
    """A model trained on a project's work: the training job and, once done, the model.

    ``documents`` lists the ids of the documents it learned from: in a blind
    project it is not applied to them (services/suggestions.py, "blind rule").
    """

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="suggestion_models"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    automatic = models.BooleanField(default=False, help_text="Started by new submissions.")
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.PENDING)
    progress = models.FloatField(default=0.0)
    submissions = models.PositiveIntegerField(
        default=0, help_text="Submitted sets and final golds of the project when requested."
    )
    data_version = models.CharField(max_length=64, blank=True)
    documents = models.JSONField(default=list, blank=True)
    sets = models.PositiveIntegerField(default=0)
    spans = models.PositiveIntegerField(default=0)
    training_seconds = models.FloatField(default=0.0)
    heldout = models.JSONField(
        null=True, blank=True, help_text="Figures on the held-out documents (suggest/evaluate.py)."
    )
    model = models.BinaryField(blank=True, default=b"")
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project"],
                condition=Q(status="pending"),
                name="one_pending_suggestion_model_per_project",
            ),
            models.CheckConstraint(
                condition=Q(progress__gte=0) & Q(progress__lte=1),
                name="suggestion_model_progress_0_1",
            ),
        ]

    def __str__(self) -> str:
        return f"suggestion model {self.pk} of {self.project} ({self.status})"


class DismissedSuggestion(models.Model):
    """A suggestion an annotator dismissed: it does not come back for that set."""

    annotation_set = models.ForeignKey(
        AnnotationSet, on_delete=models.CASCADE, related_name="dismissed_suggestions"
    )
    key = models.CharField(max_length=400)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["annotation_set", "key"], name="one_dismissal_per_suggestion"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key} dismissed in set {self.annotation_set_id}"
