import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from .projects import Project, RelationType, SpanLabel


class Document(models.Model):
    """A brief: canonical text (offsets point into it) and the upload kept as it was."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="documents")
    external_id = models.CharField(max_length=200)
    title = models.CharField(max_length=300, blank=True)
    text = models.TextField()
    content_hash = models.CharField(max_length=64, help_text="SHA-256 of the canonical text.")
    original = models.BinaryField(help_text="The upload, byte for byte.")
    original_name = models.CharField(max_length=300, blank=True)
    source_format = models.CharField(max_length=20, blank=True)
    meta = models.JSONField(default=dict, blank=True)
    cleaning = models.JSONField(
        default=dict, blank=True, help_text="What boilerplate cleaning removed on import."
    )
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "external_id"], name="document_unique_external_id"
            ),
            models.UniqueConstraint(
                fields=["project", "content_hash"], name="document_unique_content"
            ),
        ]
        # A project's documents in their order: lists, pages, counts and the title
        # search of 100,000 documents read this index alone, not the texts (issue 12).
        indexes = [
            models.Index(
                fields=["project", "position", "id"],
                include=["title", "external_id"],
                name="document_order",
            )
        ]

    def __str__(self) -> str:
        return self.title or self.external_id


class AnnotationStatus(models.TextChoices):
    ASSIGNED = "assigned", "Assigned"
    IN_PROGRESS = "in_progress", "In progress"
    SUBMITTED = "submitted", "Submitted"


class AnnotationSet(models.Model):
    """One person's work on one document, or the document's gold standard.

    ``version`` grows by one with every change, so that a stale tab's write is
    refused instead of silently overwriting newer work.
    """

    document = models.ForeignKey(
        Document, on_delete=models.CASCADE, related_name="annotation_sets"
    )
    # The document's project and position, copied by the database (migration 0015's
    # triggers, on every insert and update, whatever writes the row: the ORM, bulk
    # inserts, COPY), so that a project's counts and lists of 300,000 sets read one
    # index instead of joining every document (issue 12). Never set in Python: a new
    # instance holds None until it is read back.
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, null=True, blank=True, editable=False,
        related_name="+", db_index=False,
    )
    document_position = models.PositiveIntegerField(null=True, blank=True, editable=False)
    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="annotation_sets",
    )
    is_gold = models.BooleanField(default=False)
    status = models.CharField(
        max_length=16, choices=AnnotationStatus.choices, default=AnnotationStatus.ASSIGNED
    )
    due = models.DateField(null=True, blank=True)
    version = models.PositiveIntegerField(default=0)
    gold_final = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["document", "is_gold", "annotator__username"]
        constraints = [
            models.UniqueConstraint(
                fields=["document", "annotator"],
                condition=Q(annotator__isnull=False),
                name="one_set_per_annotator_per_document",
            ),
            models.UniqueConstraint(
                fields=["document"], condition=Q(is_gold=True), name="one_gold_per_document"
            ),
            models.CheckConstraint(
                condition=(Q(is_gold=True) & Q(annotator__isnull=True))
                | (Q(is_gold=False) & Q(annotator__isnull=False)),
                name="gold_xor_annotator",
            ),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in AnnotationStatus]),
                name="annotation_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(gold_final=False) | Q(is_gold=True), name="only_gold_is_final"
            ),
        ]
        indexes = [
            models.Index(fields=["annotator", "status"]),
            # A project's assignments by annotator and status: the progress counts,
            # the documents list's totals and who has work read this index alone.
            models.Index(
                fields=["project", "annotator", "status", "due"],
                condition=Q(is_gold=False),
                name="assignment_project_progress",
            ),
            # ... and in the documents' order: a deep page of the assignment list
            # finds its rows by skipping index entries, not by sorting every row.
            models.Index(
                fields=["project", "document_position", "document"],
                condition=Q(is_gold=False),
                name="assignment_project_order",
            ),
        ]

    def __str__(self) -> str:
        who = "gold" if self.is_gold else str(self.annotator)
        return f"{self.document} / {who}"


#: The due date an assignment without one is counted under in :class:`AssignmentCount`
#: (never past, so never overdue): a key of a unique index cannot be NULL there.
NO_DUE = dt.date(9999, 12, 31)


class AssignmentCount(models.Model):
    """How many of a project's assignments (non-gold sets) one annotator has in one
    status with one due date (:data:`NO_DUE` for none), kept by the database.

    Migration 0018's triggers change these counts in the statement that writes the
    sets, whatever writes them (the ORM, bulk inserts, updates, deletes, COPY): the
    progress dashboard and the documents page add up a few hundred of these rows
    instead of counting 300,000 sets (issue 12). Never written in Python. Rows at
    zero stay until their key comes back; no foreign key constraint, so that
    deleting a project or a user never waits on them (their sets go first, the
    counts fall to zero).
    """

    project = models.ForeignKey(
        Project, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, db_constraint=False,
        related_name="+",
    )
    status = models.CharField(max_length=16, choices=AnnotationStatus.choices)
    due = models.DateField()
    n = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "annotator", "status", "due"], name="one_assignment_count"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.annotator_id} {self.status} due {self.due}: {self.n}"


class Span(models.Model):
    annotation_set = models.ForeignKey(
        AnnotationSet, on_delete=models.CASCADE, related_name="spans"
    )
    label = models.ForeignKey(SpanLabel, on_delete=models.PROTECT, related_name="spans")
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    attributes = models.JSONField(default=dict, blank=True)
    note = models.TextField(blank=True)
    external_id = models.CharField(
        max_length=64, blank=True, help_text="The id the span had in an imported file."
    )
    suggested_by = models.CharField(
        max_length=16, blank=True, default="",
        help_text="The recommender whose suggestion became this span (cues, model, external); "
        "empty for a span drawn by hand.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["annotation_set", "start", "-end", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(start__lt=F("end")), name="span_start_before_end"),
        ]
        indexes = [
            models.Index(fields=["annotation_set", "start"]),
            # The few spans from a suggestion: whether a run's sets have any is asked
            # of this index, not of every span (migration 0021).
            models.Index(fields=["annotation_set"], condition=~Q(suggested_by=""),
                         name="span_suggested"),
        ]

    def __str__(self) -> str:
        return f"{self.label_id}[{self.start}:{self.end}]"


class Relation(models.Model):
    """A typed link between two spans of the same annotation set.

    That both endpoints belong to ``annotation_set`` is enforced by database
    triggers (migration 0002), since a check constraint cannot look at other rows.
    """

    annotation_set = models.ForeignKey(
        AnnotationSet, on_delete=models.CASCADE, related_name="relations"
    )
    source = models.ForeignKey(Span, on_delete=models.CASCADE, related_name="outgoing")
    target = models.ForeignKey(Span, on_delete=models.CASCADE, related_name="incoming")
    type = models.ForeignKey(RelationType, on_delete=models.PROTECT, related_name="relations")
    attributes = models.JSONField(
        default=dict, blank=True,
        help_text="Free attributes of the link (e.g. the group of a multi-source link).",
    )
    external_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["annotation_set", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(source=F("target")), name="relation_not_to_itself"
            ),
            models.UniqueConstraint(
                fields=["source", "target", "type"], name="relation_unique_link"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source_id} -{self.type_id}-> {self.target_id}"
