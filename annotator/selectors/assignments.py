"""Which assignments (non-gold annotation sets) a user may see listed."""

from __future__ import annotations

from datetime import date

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Q, QuerySet

from annotator.models import AnnotationSet, AnnotationStatus, AssignmentCount, Project
from annotator.selectors.annotations import readable_sets_in_project
from annotator.selectors.permissions import has_permission

#: A search of the assignments pages through its first this many matches, and counts
#: no further ("more than 10,000"): a word in every title matches all 300,000.
SEARCH_CAP = 10_000


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


def project_assignments(*, project: Project) -> QuerySet[AnnotationSet]:
    """A project's assignments (non-gold sets), in the list's order: the documents'
    order, then the annotators' (as in the CSV)."""
    return (
        AnnotationSet.objects.filter(project=project, is_gold=False)
        .select_related("annotator", "document")
        .defer("document__text", "document__original", "document__cleaning")
        .order_by("document_position", "document_id", "annotator__username")
    )


class _Counted:
    """A list for a paginator: ``_keys`` counted once, rows given by slices."""

    _keys: QuerySet
    _count: int | None

    def count(self) -> int:
        if self._count is None:
            self._count = self._keys.count()
        return self._count

    def __len__(self) -> int:
        return self.count()


class AssignmentsInOrder(_Counted):
    """:func:`project_assignments` for a paginator, a slice found without sorting them.

    A slice (a page) is found in two steps. The index ``assignment_project_order``
    gives the documents of rows ``start`` to ``stop`` in the documents' order by
    skipping index entries (from the end for the second half of the list): one
    entry per assignment, so each page's documents come with how many of their
    assignments it shows. The page's rows are then read for those documents only,
    sorted by username within each, and cut: the first document of a page shows
    its last assignments, the last its first ones. The last of 6,000 pages of
    300,000 assignments cost 0.9 s when the rows were sorted, one document
    lookup per row skipped.
    """

    def __init__(self, *, project: Project):
        self.project = project
        self._keys = AnnotationSet.objects.filter(project=project, is_gold=False)
        self._count: int | None = None

    def __getitem__(self, which: slice) -> list[AnnotationSet]:
        start, stop, _ = which.indices(self.count())
        if stop <= start:
            return []
        # The documents of rows start..stop, one entry per row, in the list's order.
        if start < self.count() - stop:
            docs = list(
                self._keys.order_by("document_position", "document_id")
                .values_list("document_id", flat=True)[start:stop]
            )
        else:
            docs = list(
                self._keys.order_by("-document_position", "-document_id")
                .values_list("document_id", flat=True)[self.count() - stop : self.count() - start]
            )[::-1]
        if not docs:
            return []
        shown: dict[int, int] = {}
        for doc in docs:
            shown[doc] = shown.get(doc, 0) + 1
        by_document: dict[int, list[AnnotationSet]] = {}
        for aset in project_assignments(project=self.project).filter(document_id__in=shown):
            by_document.setdefault(aset.document_id, []).append(aset)
        order = list(shown)
        first = order[0]
        if len(order) == 1:
            # One document fills the page: how many of its rows come before it.
            before = self._keys.filter(
                Q(document_position__lt=self._position(first))
                | Q(document_position=self._position(first), document_id__lt=first)
            ).count()
            skip = {first: start - before}
        else:
            skip = {first: len(by_document.get(first, [])) - shown[first]}
        rows = []
        for doc in order:
            mine = by_document.get(doc, [])
            begin = max(0, skip.get(doc, 0))
            rows.extend(mine[begin : begin + shown[doc]])
        return rows

    def _position(self, document_id: int) -> int | None:
        return (
            self._keys.filter(document_id=document_id)
            .values_list("document_position", flat=True)
            .first()
        )


class AssignmentsMatching(_Counted):
    """The assignments whose annotator's username or document's title contains
    ``query``, in the list's order, for a paginator: the first :data:`SEARCH_CAP`
    of them.

    The two halves are found apart, each by its own index (the annotator's
    assignments; the documents' titles, by trigram on PostgreSQL), the second
    without those the first has, so that they add up without de-duplicating every
    match. One ``OR`` over both joins read every assignment of the project (0.85 s
    for a username among 300,000 assignments; 20 ms like this).

    A query that matches nearly everything ("Brief" in every title) is neither
    counted nor sorted whole (0.7 s for 300,000 matches): the count stops at
    ``SEARCH_CAP + 1`` (the page says "more than"), only the first ``SEARCH_CAP``
    rows are paged, and each half gives its first ``stop`` rows in the list's order
    (``ORDER BY ... LIMIT``), which PostgreSQL finds by walking the documents in
    their order (the index ``document_order`` holds the titles) or the annotator's
    assignments, and stopping. SQLite, which cannot limit a half of a ``UNION``,
    counts and sorts every match (it holds small projects).
    """

    _KEY = ("document_position", "document_id", "annotator__username", "pk")
    # The title half walks the documents, in their order.
    _TITLE_KEY = ("document__position", "document_id", "annotator__username", "pk")

    def __init__(self, *, project: Project, query: str):
        self.project = project
        # The project's annotators (from the counts the database keeps, a few hundred
        # rows), split by whether their name matches: neither half joins users to
        # filter, and when every name matches, the title half is not read at all.
        annotators = set(AssignmentCount.objects.filter(project=project, n__gt=0)
                         .values_list("annotator_id", flat=True))
        named = set(get_user_model().objects.filter(
            pk__in=annotators, username__icontains=query).values_list("pk", flat=True))
        sets = AnnotationSet.objects.filter(is_gold=False)
        self._by_name = sets.filter(project=project, annotator_id__in=sorted(named))
        self._by_title = sets.filter(
            document__project=project, document__title__icontains=query,
            annotator_id__in=sorted(annotators - named))
        self._count: int | None = None
        self.capped = False

    def _halves(self, keys: tuple, title_keys: tuple, stop: int):
        first = self._by_name.values_list(*keys).order_by(*keys)
        second = self._by_title.values_list(*title_keys).order_by(*title_keys)
        if connection.features.supports_slicing_ordering_in_compound:
            return first[:stop], second[:stop]
        return first.order_by(), second.order_by()

    def count(self) -> int:
        """How many match, up to ``SEARCH_CAP``; :attr:`capped` says whether more do."""
        if self._count is None:
            first = self._by_name.values_list("pk").order_by()  # any of the annotator's
            second = self._by_title.values_list("pk").order_by()
            if connection.features.supports_slicing_ordering_in_compound:
                first, second = first[: SEARCH_CAP + 1], second[: SEARCH_CAP + 1]
            found = first.union(second, all=True)[: SEARCH_CAP + 1].count()
            self.capped = found > SEARCH_CAP
            self._count = min(found, SEARCH_CAP)
        return self._count

    def __getitem__(self, which: slice) -> list[AnnotationSet]:
        start, stop, _ = which.indices(self.count())
        if stop <= start:
            return []
        first, second = self._halves(self._KEY, self._TITLE_KEY, stop)
        keys = first.union(second, all=True).order_by(*self._KEY)[start:stop]
        pks = [key[-1] for key in keys]
        rows = {a.pk: a for a in project_assignments(project=self.project).filter(pk__in=pks)}
        return [rows[pk] for pk in pks if pk in rows]
