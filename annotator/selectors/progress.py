"""How far the work has come: per annotator and per document, and each annotator's queue.

Statuses are exclusive (assigned + in progress + submitted = total); *overdue*
is the part of the unsubmitted work whose due date has passed
(``selectors.assignments.is_overdue``), so it is counted beside them, not
among them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass

from django.db.models import Count, Q

from annotator.models import AnnotationSet, AnnotationStatus, Membership, Project, Role

from .assignments import is_overdue

PROGRESS_COLUMNS = ("scope", "name", "assigned", "in_progress", "submitted", "overdue", "total")


@dataclass
class ProgressRow:
    name: str
    assigned: int = 0
    in_progress: int = 0
    submitted: int = 0
    overdue: int = 0
    document_id: int | None = None

    @property
    def total(self) -> int:
        return self.assigned + self.in_progress + self.submitted

    def share(self, status: str) -> float:
        """Percent of this row's work in ``status`` (for the chart's bar widths)."""
        return round(100 * getattr(self, status) / self.total, 1) if self.total else 0.0

    @property
    def submitted_share(self) -> float:
        return self.share("submitted")

    @property
    def in_progress_share(self) -> float:
        return self.share("in_progress")

    @property
    def assigned_share(self) -> float:
        return self.share("assigned")


def _counts(today: dt.date) -> dict:
    return {
        "assigned": Count("pk", filter=Q(status=AnnotationStatus.ASSIGNED)),
        "in_progress": Count("pk", filter=Q(status=AnnotationStatus.IN_PROGRESS)),
        "submitted": Count("pk", filter=Q(status=AnnotationStatus.SUBMITTED)),
        "overdue": Count("pk", filter=Q(due__lt=today) & ~Q(status=AnnotationStatus.SUBMITTED)),
    }


def _assignments(project: Project):
    return AnnotationSet.objects.filter(document__project=project, is_gold=False)


def progress_by_annotator(*, project: Project, today: dt.date) -> list[ProgressRow]:
    """One row per annotator (every annotator member, and anyone else with assignments)."""
    rows = {
        name: ProgressRow(name)
        for name in Membership.objects.filter(project=project, role=Role.ANNOTATOR)
        .values_list("user__username", flat=True)
    }
    for row in (
        _assignments(project)
        .values("annotator__username")
        .annotate(**_counts(today))
        .order_by()
    ):
        name = row.pop("annotator__username")
        rows[name] = ProgressRow(name, **row)
    return [rows[name] for name in sorted(rows)]


def progress_by_document(*, project: Project, today: dt.date) -> list[ProgressRow]:
    """One row per document, in the project's order (documents nobody has get zeros)."""
    counts = {
        row.pop("document_id"): row
        for row in _assignments(project).values("document_id").annotate(**_counts(today)).order_by()
    }
    return [
        ProgressRow(title or external_id, document_id=pk, **counts.get(pk, {}))
        for pk, title, external_id in project.documents.order_by("position", "id").values_list(
            "id", "title", "external_id"
        )
    ]


def progress_totals(*, project: Project, today: dt.date) -> ProgressRow:
    return ProgressRow("all", **_assignments(project).aggregate(**_counts(today)))


def progress_csv(*, project: Project, today: dt.date) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(PROGRESS_COLUMNS)
    for scope, rows in (
        ("annotator", progress_by_annotator(project=project, today=today)),
        ("document", progress_by_document(project=project, today=today)),
    ):
        for r in rows:
            writer.writerow(
                [scope, r.name, r.assigned, r.in_progress, r.submitted, r.overdue, r.total]
            )
    return out.getvalue()


@dataclass
class QueueItem:
    assignment: AnnotationSet
    overdue: bool


def annotator_queues(*, project: Project, today: dt.date) -> dict[str, list[QueueItem]]:
    """Each annotator's assignments in the order of the documents (their queue)."""
    queues: dict[str, list[QueueItem]] = {
        name: []
        for name in Membership.objects.filter(project=project, role=Role.ANNOTATOR)
        .order_by("user__username")
        .values_list("user__username", flat=True)
    }
    for aset in (
        _assignments(project)
        .select_related("annotator", "document")
        .defer("document__original", "document__text", "document__cleaning")
        .order_by("annotator__username", "document__position", "document_id")
    ):
        queues.setdefault(aset.annotator.username, []).append(
            QueueItem(aset, is_overdue(aset, today))
        )
    return dict(sorted(queues.items()))
