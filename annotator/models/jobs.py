from django.conf import settings
from django.db import models
from django.db.models import Q

from .projects import Project


class JobStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class AgreementRun(models.Model):
    """One computation of inter-annotator agreement over a project's submitted sets."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="agreement_runs")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    automatic = models.BooleanField(default=False, help_text="Started by new submissions.")
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.PENDING)
    progress = models.FloatField(default=0.0)
    parameters = models.JSONField(
        default=dict, blank=True, help_text="documents, annotators and unit."
    )
    data_version = models.CharField(max_length=64, blank=True)
    report = models.JSONField(null=True, blank=True)
    intervals = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    timings = models.JSONField(default=dict, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    plan = models.JSONField(
        null=True, blank=True,
        help_text="The run's scope and its chunks of documents (services/agreement.py).",
    )
    stage = models.CharField(
        max_length=16, blank=True,
        help_text="While running: chunks, then pooling, then reported or ranked once the "
                  "report or the documents' ranks is stored (the other finishes the run).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    #: The report without ``by_document``, stored with the ranks
    #: (``AgreementDocumentRank``): what the agreement page reads of a report of
    #: 100,000 documents, instead of the whole value (issue 12).
    report_summary = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        get_latest_by = "created_at"
        constraints = [
            models.UniqueConstraint(
                fields=["project"],
                condition=Q(status="pending"),
                name="one_pending_agreement_run_per_project",
            ),
            models.CheckConstraint(
                condition=Q(progress__gte=0) & Q(progress__lte=1), name="agreement_progress_0_1"
            ),
        ]

    def __str__(self) -> str:
        return f"agreement run {self.pk} of {self.project} ({self.status})"


class AgreementDocumentRank(models.Model):
    """One document's place in a finished run's "documents by disagreement" list.

    Written when the run finishes (or, for a run finished before this table, by
    the first page that shows it), so that a page of that list reads its fifty
    rows by ``(run, rank)`` instead of sorting a report of 100,000 documents on
    every view (issue 12). Every finished run keeps them: they are its report's
    ``by_document``, which the stored report no longer holds.
    The figures are the report's, rounded by nothing: the page formats them.
    """

    run = models.ForeignKey(AgreementRun, on_delete=models.CASCADE, related_name="ranks")
    rank = models.PositiveIntegerField()
    external_id = models.CharField(max_length=200)
    document = models.ForeignKey(
        "annotator.Document", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    disagreement = models.FloatField(null=True)
    alpha = models.FloatField(null=True)
    span_f1 = models.FloatField(null=True)
    relation_f1 = models.FloatField(null=True)
    #: The document's entry of the report's ``by_document``, for its side-by-side view.
    figures = models.JSONField(default=dict)
    #: The document's place among the keys of the report's ``by_document`` as the
    #: report read back from the database lists them (from 0): what the download,
    #: the API and the command write it in. Null until a reader first needs it
    #: (``services.agreement_reports.agreement_run_positions`` fills a run's at once).
    position = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "rank"], name="one_agreement_rank_per_place"),
            models.UniqueConstraint(fields=["run", "position"],
                                    name="one_agreement_rank_per_position"),
        ]

    def __str__(self) -> str:
        return f"#{self.rank} {self.external_id} of agreement run {self.run_id}"


class AgreementChunk(models.Model):
    """The agreement sums of a chunk of documents (``metrics.pooling.ChunkSums``).

    ``key`` fingerprints what the sums were read from: the run's scope (unit,
    annotators, labels, types) and every submitted set of the chunk's documents
    with its version. A later run whose chunk has the same key reuses the sums
    instead of reading the documents again.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="agreement_chunks")
    key = models.CharField(max_length=64)
    documents = models.PositiveIntegerField(default=0)
    sums = models.BinaryField()
    seconds = models.FloatField(default=0.0, help_text="CPU time the reading took.")
    created_at = models.DateTimeField(auto_now_add=True)
    used_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "key"], name="one_agreement_chunk_per_key"),
        ]

    def __str__(self) -> str:
        return f"agreement chunk {self.key[:12]} of {self.project_id}"


class ImportJob(models.Model):
    """A big upload imported in the background, atomically, with its progress.

    The uploaded files wait under ``MEDIA_ROOT/imports/`` until the worker has
    read them; ``report`` holds the import's report lines once it is DONE.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="import_jobs")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.PENDING)
    progress = models.FloatField(default=0.0)
    options = models.JSONField(default=dict, blank=True, help_text="clean, add_labels, annotator.")
    files = models.JSONField(default=list, blank=True, help_text="The stored uploads.")
    size = models.PositiveBigIntegerField(default=0)
    documents = models.PositiveIntegerField(default=0)
    report = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(progress__gte=0) & Q(progress__lte=1), name="import_progress_0_1"
            ),
        ]

    def __str__(self) -> str:
        return f"import {self.pk} into {self.project} ({self.status})"


class ExportScope(models.TextChoices):
    GOLD = "gold", "Gold only"
    ANNOTATORS = "annotators", "All annotators"
    BOTH = "both", "Gold and annotators"


class ExportJob(models.Model):
    """A dataset export built in the background; its file is kept for a set time."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="export_jobs")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    format = models.CharField(max_length=16)
    scope = models.CharField(max_length=16, choices=ExportScope.choices, default=ExportScope.BOTH)
    parameters = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.PENDING)
    progress = models.FloatField(default=0.0)
    documents = models.PositiveIntegerField(default=0)
    spans = models.PositiveIntegerField(default=0)
    notes = models.TextField(blank=True, help_text="What the format left out, in a sentence.")
    file = models.FileField(upload_to="exports/", blank=True)
    size = models.PositiveBigIntegerField(default=0)
    md5 = models.CharField(max_length=32, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(progress__gte=0) & Q(progress__lte=1), name="export_progress_0_1"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.format} export {self.pk} of {self.project} ({self.status})"
