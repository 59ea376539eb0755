"""Hand each document to K distinct annotators with balanced loads.

Design note. Documents are taken in order (shuffled by ``seed`` when one is
given); each document that still lacks annotators takes the ones with the
smallest current load that it does not have yet, ties broken by a fixed order
of the annotators (their usernames, or a seeded permutation). Starting from no
assignments, always taking the k least-loaded keeps every two loads within one
of each other: the loads, sorted, stay a run of equal values followed by a run
one higher, and adding one to the k smallest keeps that shape. Assignments
that already exist are kept and count toward loads; so do the ones a manager
made by hand, so balance is then as good as those allow.
"""

from __future__ import annotations

import datetime as dt
import heapq
import random

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from annotator.models import (
    AnnotationSet,
    AnnotationStatus,
    Document,
    Membership,
    Project,
    Role,
)
from annotator.text.spreadsheet import spreadsheet_csv

from .errors import WarrantError

ASSIGNMENT_COLUMNS = ("document", "annotator", "status", "due")


@transaction.atomic
def assignments_make(
    *,
    project: Project,
    per_document: int,
    seed: int | None = None,
    due: dt.date | None = None,
) -> list[AnnotationSet]:
    """Give every document ``per_document`` distinct annotators; returns the new sets."""
    if per_document < 1:
        raise WarrantError("--per-document must be at least 1")
    annotators = list(
        Membership.objects.filter(project=project, role=Role.ANNOTATOR)
        .select_related("user")
        .order_by("user__username")
    )
    if per_document > len(annotators):
        raise WarrantError(
            f"cannot give each document {per_document} annotators: the project has "
            f"{len(annotators)} annotator(s)"
        )
    users = [m.user for m in annotators]
    # Ids, not instances: a deferred instance of a related manager reloads itself
    # (one query per document: 100,000 documents took minutes).
    documents = list(project.documents.order_by("position", "id").values_list("id", flat=True))
    if seed is not None:
        rng = random.Random(seed)
        rng.shuffle(users)
        rng.shuffle(documents)
    order = {user.pk: i for i, user in enumerate(users)}

    existing: dict[int, set[int]] = {}
    load = dict.fromkeys(order, 0)
    for doc_id, user_id in AnnotationSet.objects.filter(
        document__project=project, is_gold=False
    ).values_list("document_id", "annotator_id"):
        existing.setdefault(doc_id, set()).add(user_id)
        if user_id in load:
            load[user_id] += 1

    # The annotators by (load, order) in a heap: a document takes the first ``need``
    # it does not have yet (the others go back unchanged), so that 100,000 documents
    # cost k log(annotators) each instead of sorting every annotator per document.
    heap = [(load[uid], order[uid], uid) for uid in order]
    heapq.heapify(heap)
    created = []
    for document_id in documents:
        have = existing.get(document_id, set())
        need = per_document - len(have)
        if need <= 0:
            continue
        taken, skipped = [], []
        while len(taken) < need and heap:
            entry = heapq.heappop(heap)
            (skipped if entry[2] in have else taken).append(entry)
        for entry in skipped:
            heapq.heappush(heap, entry)
        for lo, rank, uid in taken:
            heapq.heappush(heap, (lo + 1, rank, uid))
            created.append(
                AnnotationSet(
                    document_id=document_id,
                    annotator_id=uid,
                    status=AnnotationStatus.ASSIGNED,
                    due=due or project.default_due,
                )
            )
    _insert(created)
    if project.annotators_per_document != per_document:
        project.annotators_per_document = per_document
        project.save(update_fields=["annotators_per_document", "updated_at"])
    return created


def _insert(sets: list[AnnotationSet]) -> None:
    """Write new assignments. On PostgreSQL, ids come from the table's sequence and the
    rows go in as arrays (``INSERT ... SELECT FROM unnest``), 20,000 a statement:
    Django's ``bulk_create`` spent ~45 s building the SQL of 300,000 rows."""
    if connection.vendor != "postgresql" or not sets:
        AnnotationSet.objects.bulk_create(sets, batch_size=5000)
        return
    table = AnnotationSet._meta.db_table
    now = timezone.now()
    with connection.cursor() as cursor:
        for begin in range(0, len(sets), 20_000):
            chunk = sets[begin : begin + 20_000]
            cursor.execute(
                f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) "
                "FROM generate_series(1, %s)",
                [len(chunk)],
            )
            for aset, (pk,) in zip(chunk, cursor.fetchall(), strict=True):
                aset.pk = pk
                aset.created_at = aset.updated_at = now
            # The document's project and position come along from the document table
            # in the same statement (migration 0015), which spares the trigger that
            # would look each one up: 300,000 calls, ~11 s on this machine.
            cursor.execute(
                f"INSERT INTO {table} (id, document_id, project_id, document_position, "
                "annotator_id, status, due, is_gold, version, gold_final, created_at, "
                "updated_at) "
                "SELECT t.id, t.document_id, d.project_id, d.position, t.annotator_id, "
                "t.status, t.due, false, 0, false, %s, %s "
                "FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::text[], %s::date[]) "
                "AS t(id, document_id, annotator_id, status, due) "
                f"LEFT JOIN {Document._meta.db_table} d ON d.id = t.document_id",
                [
                    now,
                    now,
                    [a.pk for a in chunk],
                    [a.document_id for a in chunk],
                    [a.annotator_id for a in chunk],
                    [a.status for a in chunk],
                    [a.due for a in chunk],
                ],
            )
    for aset in sets:
        aset._state.adding = False


def assignment_rows(project: Project) -> list[dict[str, str]]:
    rows = (
        AnnotationSet.objects.filter(document__project=project, is_gold=False)
        .order_by("document__position", "document_id", "annotator__username")
        .values_list("document__external_id", "annotator__username", "status", "due")
    )
    return [
        {
            "document": doc,
            "annotator": user,
            "status": status,
            "due": due.isoformat() if due else "",
        }
        for doc, user, status, due in rows
    ]


def assignment_csv(project: Project) -> str:
    """The assignments for a spreadsheet (formulas in titles and names neutralised)."""
    return spreadsheet_csv(
        ASSIGNMENT_COLUMNS,
        ([row[c] for c in ASSIGNMENT_COLUMNS] for row in assignment_rows(project)),
    )


# --------------------------------------------------------------------------- by hand


def _assignable(project: Project, user) -> None:
    """Only a member whose role may annotate can be handed a document."""
    from annotator.selectors.permissions import PERMISSIONS

    role = (
        Membership.objects.filter(project=project, user=user).values_list("role", flat=True).first()
    )
    if role is None or role not in PERMISSIONS["annotation_set.annotate"]:
        raise WarrantError(f"{user.username} is not an annotator of this project")


def _untouched(assignment: AnnotationSet) -> bool:
    return assignment.status != AnnotationStatus.SUBMITTED and not assignment.spans.exists()


@transaction.atomic
def assignment_create(
    *, document, annotator, due: dt.date | None = None
) -> AnnotationSet:
    """Hand one document to one annotator (a manual assignment)."""
    project = document.project
    _assignable(project, annotator)
    if AnnotationSet.objects.filter(document=document, annotator=annotator).exists():
        raise WarrantError(f"{annotator.username} already has this document")
    return AnnotationSet.objects.create(
        document=document,
        annotator=annotator,
        status=AnnotationStatus.ASSIGNED,
        due=due or project.default_due,
    )


@transaction.atomic
def assignment_reassign(*, assignment: AnnotationSet, annotator) -> AnnotationSet:
    """Give an assignment to someone else.

    Only work that has not begun moves: an annotation set with spans in it, or
    a submitted one, is that person's work and stays theirs (add a new
    assignment instead).
    """
    assignment = AnnotationSet.objects.select_for_update().get(pk=assignment.pk)
    if assignment.is_gold:
        raise WarrantError("the gold standard is not an assignment")
    if assignment.annotator_id == annotator.pk:
        return assignment
    if not _untouched(assignment):
        raise WarrantError(
            f"{assignment.annotator.username} has already worked on this document: "
            "their work stays theirs; add a new assignment instead"
        )
    project = assignment.document.project
    _assignable(project, annotator)
    if AnnotationSet.objects.filter(document=assignment.document, annotator=annotator).exists():
        raise WarrantError(f"{annotator.username} already has this document")
    assignment.annotator = annotator
    assignment.status = AnnotationStatus.ASSIGNED
    assignment.started_at = None
    assignment.save(update_fields=["annotator", "status", "started_at", "updated_at"])
    return assignment


@transaction.atomic
def assignment_delete(*, assignment: AnnotationSet) -> None:
    """Withdraw an assignment nobody has started."""
    if assignment.is_gold:
        raise WarrantError("the gold standard is not an assignment")
    if not _untouched(assignment):
        raise WarrantError(
            f"{assignment.annotator.username} has already worked on this document: "
            "their work is kept"
        )
    assignment.delete()


@transaction.atomic
def assignment_set_due(*, assignment: AnnotationSet, due: dt.date | None) -> AnnotationSet:
    """Set (or clear, with None) one assignment's own deadline."""
    if assignment.is_gold:
        raise WarrantError("the gold standard has no deadline")
    assignment.due = due
    assignment.save(update_fields=["due", "updated_at"])
    return assignment


@transaction.atomic
def project_deadline_set(*, project: Project, due: dt.date | None) -> int:
    """Set the project's deadline; returns how many assignments moved with it.

    Assignments follow the project deadline unless they were given their own:
    those whose due date is empty or equal to the old project deadline take the
    new one; an assignment given another date by hand keeps it. Submitted work
    keeps the date it was submitted under.
    """
    old = project.default_due
    follows = Q(due__isnull=True) if old is None else Q(due__isnull=True) | Q(due=old)
    moved = (
        AnnotationSet.objects.filter(document__project=project, is_gold=False)
        .exclude(status=AnnotationStatus.SUBMITTED)
        .filter(follows)
        .update(due=due)
    )
    project.default_due = due
    project.save(update_fields=["default_due", "updated_at"])
    return moved
