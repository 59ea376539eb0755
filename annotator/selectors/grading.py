"""Grades: each student's submitted work scored against the final gold standard.

The figures are DESIGN.md's, with the gold as the reference and pooled over
the student's documents (matches and sizes summed over documents, then one
F1, as the agreement report's ``overall`` does):

* ``span_f1_exact`` / ``span_f1_overlap``: ``2 ΣM / (Σ|student| + Σ|gold|)``
  with M from a one-to-one maximum matching
  (:func:`annotator.metrics.span_f1.span_match_counts`);
* ``relation_f1``: the same over relations whose endpoint spans match exactly,
  with the same type and direction (:mod:`annotator.metrics.relation_f1`);
* ``missed``, ``extra``, ``boundary_off``: :mod:`annotator.metrics.grading`.

A document counts for a student when the student submitted it and its gold
standard is marked final: a draft gold does not grade anyone. An F1 with
nothing on either side is undefined (None, an empty CSV cell), never 0.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import BooleanField, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.http import Http404

from annotator.metrics.types import AnnotatorWork
from annotator.metrics.types import Relation as RelationRecord
from annotator.metrics.types import Span as SpanRecord
from annotator.models import (
    AnnotationSet,
    AnnotationStatus,
    Document,
    Membership,
    Project,
    Relation,
    Role,
    SetReopening,
    Span,
)
from annotator.text.spreadsheet import spreadsheet_csv

from .permissions import has_permission, require_permission

if TYPE_CHECKING:
    from annotator.metrics.grading import SpanFeedback

# The scoring code (annotator.metrics: numpy, scipy) is imported where a score
# is computed, not here: web processes import this module at start and stay
# light until someone opens grades (issue 12, point 8).

#: The grades CSV, one row per student (the issue's names, then the counts).
GRADE_COLUMNS = (
    "student",
    "span_f1_exact",
    "span_f1_overlap",
    "relation_f1",
    "missed",
    "extra",
    "boundary_off",
    "exact",
    "documents",
)


def _f1(matched: int, size_a: int, size_b: int) -> float | None:
    from annotator.metrics.span_f1 import f1_from_counts

    return f1_from_counts(matched, size_a, size_b)


@dataclass
class Score:
    """Match counts of one student on some documents; F1s are computed from the sums."""

    documents: int = 0
    student_spans: int = 0
    gold_spans: int = 0
    matched_exact: int = 0
    matched_overlap: int = 0
    student_relations: int = 0
    gold_relations: int = 0
    matched_relations: int = 0
    exact: int = 0
    boundary_off: int = 0
    extra: int = 0
    missed: int = 0

    def add(self, other: Score) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def span_f1_exact(self) -> float | None:
        return _f1(self.matched_exact, self.student_spans, self.gold_spans)

    @property
    def span_f1_overlap(self) -> float | None:
        return _f1(self.matched_overlap, self.student_spans, self.gold_spans)

    @property
    def relation_f1(self) -> float | None:
        return _f1(
            self.matched_relations, self.student_relations, self.gold_relations
        )


@dataclass
class GradeRow:
    student: str
    score: Score
    documents: list[tuple[Document, Score]] = field(default_factory=list)

    def as_csv_row(self) -> dict[str, str]:
        s = self.score

        def fmt(value: float | None) -> str:
            return "" if value is None else f"{value:.4f}"

        return {
            "student": self.student,
            "span_f1_exact": fmt(s.span_f1_exact),
            "span_f1_overlap": fmt(s.span_f1_overlap),
            "relation_f1": fmt(s.relation_f1),
            "missed": str(s.missed),
            "extra": str(s.extra),
            "boundary_off": str(s.boundary_off),
            "exact": str(s.exact),
            "documents": str(s.documents),
        }


# ----------------------------------------------------------------------------- loading


def _works(project: Project, set_ids: list[int]) -> dict[int, AnnotatorWork]:
    """Spans and relations of some sets as metrics records (span ids: database ids)."""
    labels = dict(project.span_labels.values_list("id", "name"))
    types = dict(project.relation_types.values_list("id", "name"))
    works = {set_id: AnnotatorWork() for set_id in set_ids}
    for span_id, set_id, start, end, label_id in (
        Span.objects.filter(annotation_set__in=set_ids)
        .order_by("start", "-end", "id")
        .values_list("id", "annotation_set_id", "start", "end", "label_id")
    ):
        works[set_id].spans.append(SpanRecord(str(span_id), start, end, labels[label_id]))
    for set_id, source_id, target_id, type_id in (
        Relation.objects.filter(annotation_set__in=set_ids)
        .order_by("id")
        .values_list("annotation_set_id", "source_id", "target_id", "type_id")
    ):
        works[set_id].relations.append(
            RelationRecord(str(source_id), str(target_id), types[type_id])
        )
    return works


def final_gold_sets(project: Project) -> dict[int, int]:
    """Document id → id of its final gold set."""
    return dict(
        AnnotationSet.objects.filter(document__project=project, is_gold=True, gold_final=True)
        .values_list("document_id", "id")
    )


def score_document(student: AnnotatorWork, gold: AnnotatorWork) -> tuple[Score, SpanFeedback]:
    """One student's figures on one document, and each span's class."""
    from annotator.metrics.grading import span_feedback
    from annotator.metrics.relation_f1 import relation_keys, relation_match_counts
    from annotator.metrics.span_f1 import CRITERIA, span_arrays, span_match_counts

    exact, overlap = CRITERIA.index("exact"), CRITERIA.index("overlap")
    labels = {
        name: k for k, name in enumerate(sorted({s.label for s in [*student.spans, *gold.spans]}))
    }
    counts = span_match_counts(
        span_arrays(student.spans, labels), span_arrays(gold.spans, labels), len(labels)
    )
    relations = relation_match_counts(relation_keys(student), relation_keys(gold))
    feedback = span_feedback(student.spans, gold.spans)
    classes = feedback.counts()
    score = Score(
        documents=1,
        student_spans=len(student.spans),
        gold_spans=len(gold.spans),
        matched_exact=int(counts[exact].sum()),
        matched_overlap=int(counts[overlap].sum()),
        student_relations=sum(a for _, a, _ in relations.values()),
        gold_relations=sum(b for _, _, b in relations.values()),
        matched_relations=sum(m for m, _, _ in relations.values()),
        **classes,
    )
    return score, feedback


# ----------------------------------------------------------------------------- grades


def students(project: Project) -> list:
    """The project's students: its members with the annotator role, by username."""
    return [m.user for m in student_memberships(project)]


def student_memberships(project: Project) -> QuerySet[Membership]:
    """The memberships of :func:`students`, for a page of them."""
    return (
        Membership.objects.filter(project=project, role=Role.ANNOTATOR)
        .select_related("user")
        .order_by("user__username")
    )


def grades_for_project(*, project: Project, only=None, people=None) -> list[GradeRow]:
    """One row per student (``only``: that user alone; ``people``: those users, a
    page of them), with per-document scores."""
    if only is not None:
        people = [only]
    elif people is None:
        people = students(project)
    else:
        people = list(people)
    gold = final_gold_sets(project)
    sets = list(
        AnnotationSet.objects.filter(
            document_id__in=list(gold),
            annotator__in=[p.pk for p in people],
            is_gold=False,
            status=AnnotationStatus.SUBMITTED,
        )
        .select_related("document")
        .defer("document__original", "document__text")
        .order_by("document__position", "document_id")
    )
    works = _works(project, [*gold.values(), *(s.pk for s in sets)])
    rows = {p.pk: GradeRow(student=p.username, score=Score()) for p in people}
    for aset in sets:
        score, _ = score_document(works[aset.pk], works[gold[aset.document_id]])
        row = rows[aset.annotator_id]
        row.score.add(score)
        row.documents.append((aset.document, score))
    return list(rows.values())


def grades_csv(*, project: Project) -> str:
    """The grades table for a spreadsheet (formulas in usernames neutralised)."""
    rows = (row.as_csv_row() for row in grades_for_project(project=project))
    return spreadsheet_csv(GRADE_COLUMNS, ([row[c] for c in GRADE_COLUMNS] for row in rows))


# ----------------------------------------------------------------------------- closed sets

GRADES_RELEASED = (
    "grades are released: this brief counts for your grade and can no longer be changed; "
    "ask a manager to reopen it"
)
DEADLINE_PASSED = (
    "the deadline ({due}) has passed: this brief counts for your grade and can no longer be "
    "changed; ask a manager to reopen it"
)


def grade_locked_sets(today: dt.date) -> Q:
    """The annotation sets closed to their students, as a filter on ``AnnotationSet``
    (:func:`grade_locked_sql`)."""
    sql, params = grade_locked_sql(today)
    return Q(RawSQL(sql, params, output_field=BooleanField()))


def grade_locked_sql(today: dt.date) -> tuple[str, list]:
    """The annotation sets closed to their students: a condition on the set's table by its
    own name, and its parameters.

    A set *counts for a grade* when it is a student's (an annotator's; see
    :func:`students`) and its brief has a final gold: that is what
    :func:`grades_for_project` grades, and what feedback shows the gold of. It
    is *closed* once the project's grades are released or once its own
    deadline (``due``) has passed, until a manager reopens it
    (``services.grading.annotation_set_reopen_for_student``, a ``SetReopening``);
    submitted again, it is closed again. A closed set takes no edit, submission
    or reopening from its student (``services.annotations._bump``), so that
    released grades move only when a manager or a curator acts (reopening a
    set, correcting the gold, moving a deadline).

    Written in SQL: ``_bump`` puts it into the UPDATE of every write, and
    Django compiling the same four subqueries from the ORM cost ~17 ms per
    write on the 2-core CI machine (against ~1 ms for this, measured).
    """
    q = connection.ops.quote_name
    sets = q(AnnotationSet._meta.db_table)
    documents, projects = q(Document._meta.db_table), q(Project._meta.db_table)
    members, reopenings = q(Membership._meta.db_table), q(SetReopening._meta.db_table)
    sql = (
        f"NOT {sets}.is_gold"
        # closed: past its deadline, or grades released
        f" AND (({sets}.due IS NOT NULL AND {sets}.due < %s) OR EXISTS (SELECT 1 FROM "
        f"{documents} d JOIN {projects} p ON p.id = d.project_id WHERE d.id = {sets}.document_id"
        f" AND p.grades_released))"
        # counts for a grade: its brief has a final gold, and it is a student's
        f" AND EXISTS (SELECT 1 FROM {sets} g WHERE g.document_id = {sets}.document_id"
        f" AND g.is_gold AND g.gold_final)"
        f" AND EXISTS (SELECT 1 FROM {members} m JOIN {documents} d ON d.project_id = m.project_id"
        f" WHERE d.id = {sets}.document_id AND m.user_id = {sets}.annotator_id AND m.role = %s)"
        # not reopened by a manager since its last submission
        f" AND NOT ({sets}.status <> %s AND EXISTS (SELECT 1 FROM {reopenings} r"
        f" WHERE r.annotation_set_id = {sets}.id))"
    )
    return sql, [today, Role.ANNOTATOR.value, AnnotationStatus.SUBMITTED.value]


def reopenings_of(*, project: Project, people) -> dict[int, list[SetReopening]]:
    """The managers' reopenings of these students' sets, newest first, by student id."""
    found: dict[int, list[SetReopening]] = {}
    for reopening in (
        SetReopening.objects.filter(
            annotation_set__document__project=project, annotation_set__annotator__in=people
        )
        .select_related("reopened_by", "annotation_set__document")
        .defer("annotation_set__document__text", "annotation_set__document__original",
               "annotation_set__document__cleaning")
        .order_by("-reopened_at", "-id")
    ):
        found.setdefault(reopening.annotation_set.annotator_id, []).append(reopening)
    return found


def grade_lock(annotation_set: AnnotationSet, today: dt.date) -> str | None:
    """Why ``annotation_set`` is closed to its student (see :func:`grade_locked_sets`), or None."""
    row = (
        AnnotationSet.objects.filter(pk=annotation_set.pk)
        .filter(grade_locked_sets(today))
        .values("document__project__grades_released", "due")
        .first()
    )
    if row is None:
        return None
    if row["document__project__grades_released"]:
        return GRADES_RELEASED
    return DEADLINE_PASSED.format(due=row["due"].isoformat())


# ----------------------------------------------------------------------------- feedback


def feedback_student(*, user, project: Project, username: str | None = None):
    """Whose feedback ``user`` may read: their own once grades are released; anyone's
    for a manager (a preview, released or not). Raises PermissionDenied otherwise."""
    require_permission(user, project, "feedback.view")
    if has_permission(user, project, "grade.view"):
        if not username or username == user.username:
            return None  # a manager who picked nobody yet
        student = next((s for s in students(project) if s.username == username), None)
        if student is None:
            raise Http404("No such student in this project.")
        return student
    if username and username != user.username:
        raise PermissionDenied("you may read only your own feedback")
    if not project.grades_released:
        raise PermissionDenied("your instructor has not released the grades yet")
    return user


@dataclass(frozen=True)
class RelationFeedback:
    source: SpanRecord
    target: SpanRecord
    type: str
    outcome: str  # "matched", "extra" or "missed"


@dataclass
class DocumentFeedback:
    document: Document
    score: Score
    spans: list[tuple[SpanRecord, str]]  # the student's spans and the missed gold ones
    relations: list[RelationFeedback]
    # The gold span each boundary-off span of the student was paired with.
    gold_for: dict[str, SpanRecord] = field(default_factory=dict)


def feedback_document(
    *, project: Project, student, document: Document, reader=None
) -> DocumentFeedback:
    """A student's spans and relations on one document, classed against the final gold.

    ``reader``: who reads it; both sets must be theirs to read
    (``annotations.readable_set_filter``: the student themself once grades are
    released, a manager always), or PermissionDenied.
    """
    from annotator.metrics.relation_f1 import relation_keys

    from .annotations import readable_sets  # annotations imports this module

    gold_id = final_gold_sets(project).get(document.pk)
    aset = AnnotationSet.objects.filter(
        document=document, annotator=student, status=AnnotationStatus.SUBMITTED
    ).first()
    if gold_id is None or aset is None:
        raise Http404("There is no feedback for this document: no final gold or no submission.")
    if reader is not None and readable_sets(
        user=reader, project=project, document=document
    ).filter(pk__in=[aset.pk, gold_id]).count() != 2:
        raise PermissionDenied("you may not read this feedback")
    works = _works(project, [aset.pk, gold_id])
    mine, gold = works[aset.pk], works[gold_id]
    score, feedback = score_document(mine, gold)
    spans = [(s, feedback.student[s.id]) for s in mine.spans]
    spans += [(g, "missed") for g in gold.spans if feedback.gold[g.id] == "missed"]
    spans.sort(key=lambda pair: (pair[0].start, -pair[0].end))
    by_id = {s.id: s for s in [*mine.spans, *gold.spans]}
    gold_keys = relation_keys(gold)
    mine_keys = relation_keys(mine)
    relations = []
    remaining = dict(gold_keys)
    for rel in mine.relations:
        key = _key(rel, by_id)
        hit = remaining.get(key, 0) > 0
        if hit:
            remaining[key] -= 1
        relations.append(RelationFeedback(by_id[rel.source], by_id[rel.target], rel.type,
                                          "matched" if hit else "extra"))
    for rel in gold.relations:
        key = _key(rel, by_id)
        if mine_keys.get(key, 0) > 0:
            mine_keys[key] -= 1
            continue
        relations.append(
            RelationFeedback(by_id[rel.source], by_id[rel.target], rel.type, "missed")
        )
    gold_by_id = {g.id: g for g in gold.spans}
    gold_for = {
        sid: gold_by_id[gid]
        for sid, gid in feedback.pairs.items()
        if feedback.student[sid] == "boundary_off"
    }
    return DocumentFeedback(document=document, score=score, spans=spans, relations=relations,
                            gold_for=gold_for)


def _key(rel: RelationRecord, by_id: dict[str, SpanRecord]):
    s, t = by_id[rel.source], by_id[rel.target]
    return ((s.start, s.end, s.label), (t.start, t.end, t.label), rel.type)
