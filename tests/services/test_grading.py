"""Grades against the final gold: pooled F1s, counts, the CSV, release and feedback access."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.exceptions import PermissionDenied

from annotator.metrics.span_f1 import span_f1
from annotator.metrics.types import Span as SpanRecord
from annotator.models import AnnotationSet, AnnotationStatus, Relation, Span
from annotator.selectors.grading import (
    GRADE_COLUMNS,
    feedback_document,
    feedback_student,
    grades_csv,
    grades_for_project,
)
from annotator.services.grading import grades_release
from tests.agreement_helpers import TEXT, annotate
from tests.factories import DocumentFactory

CLAIM = (61, 80, "MajorClaim")
REASON = (0, 14, "Reason")
EVIDENCE = (16, 36, "Evidence")


def make_gold(project, document, spans, relations=(), *, final=True):
    gold = AnnotationSet.objects.create(
        document=document, is_gold=True, annotator=None, gold_final=final,
        status=AnnotationStatus.SUBMITTED if final else AnnotationStatus.IN_PROGRESS,
    )
    labels = {lab.name: lab for lab in project.span_labels.all()}
    types = {t.name: t for t in project.relation_types.all()}
    made = [Span.objects.create(annotation_set=gold, label=labels[lab], start=s, end=e)
            for s, e, lab in spans]
    for i, j, t in relations:
        Relation.objects.create(annotation_set=gold, source=made[i], target=made[j],
                                type=types[t])
    return gold


@pytest.fixture
def graded(project, members):
    """Two documents with final gold; a third whose gold is a draft.

    ``annotator`` (a student): doc 1 exactly right but one boundary off; doc 2
    one extra span, one missed. ``alice``: submitted doc 1 only, all right.
    """
    d1 = DocumentFactory(project=project, text=TEXT)
    d2 = DocumentFactory(project=project, text=TEXT + " ")
    d3 = DocumentFactory(project=project, text=TEXT + "  ")
    make_gold(project, d1, [CLAIM, REASON, EVIDENCE], [(1, 0, "supports"), (2, 1, "evidence_for")])
    make_gold(project, d2, [CLAIM, REASON], [(1, 0, "supports")])
    make_gold(project, d3, [CLAIM], final=False)
    annotate(project, d1, "annotator", [CLAIM, REASON, (16, 28, "Evidence")],
             [(1, 0, "supports"), (2, 1, "evidence_for")])
    annotate(project, d2, "annotator", [CLAIM, (48, 59, "Claim")], [])
    annotate(project, d3, "annotator", [CLAIM])
    annotate(project, d1, "alice", [CLAIM, REASON, EVIDENCE],
             [(1, 0, "supports"), (2, 1, "evidence_for")])
    annotate(project, d2, "alice", [CLAIM], status="in_progress")
    return d1, d2, d3


def rows_by_student(project):
    return {row.student: row for row in grades_for_project(project=project)}


def test_pooled_figures_against_the_final_gold(project, graded):
    row = rows_by_student(project)["annotator"]
    s = row.score
    assert s.documents == 2  # the draft gold of doc 3 grades nobody
    # Pooled exact: matches 2 + 1 over sizes (3 + 2) + (3 + 2).
    assert s.span_f1_exact == pytest.approx(2 * 3 / 10)
    assert s.span_f1_overlap == pytest.approx(2 * 4 / 10)
    # Relations: doc 1 supports matches; evidence_for's source is off; doc 2 misses one.
    assert s.relation_f1 == pytest.approx(2 * 1 / (2 + 3))
    assert (s.exact, s.boundary_off, s.extra, s.missed) == (3, 1, 1, 1)


def test_pooled_is_not_a_mean_of_documents(project, graded):
    rec = lambda spans: [SpanRecord(str(i), a, b, lab) for i, (a, b, lab) in enumerate(spans)]  # noqa: E731
    doc1 = span_f1(rec([CLAIM, REASON, (16, 28, "Evidence")]), rec([CLAIM, REASON, EVIDENCE]))
    doc2 = span_f1(rec([CLAIM, (48, 59, "Claim")]), rec([CLAIM, REASON]))
    mean = (doc1 + doc2) / 2
    pooled = rows_by_student(project)["annotator"].score.span_f1_exact
    assert pooled == pytest.approx(0.6) and mean == pytest.approx((2 / 3 + 1 / 2) / 2)


def test_unsubmitted_work_is_not_graded_and_students_without_any_have_undefined_f1(
    project, graded
):
    rows = rows_by_student(project)
    alice = rows["alice"].score
    assert alice.documents == 1 and alice.span_f1_exact == 1.0 and alice.relation_f1 == 1.0
    # Only members with the annotator role are students.
    assert set(rows) == {"alice", "annotator"}


def test_a_student_with_nothing_graded_has_undefined_figures(project, members):
    row = rows_by_student(project)["annotator"]
    assert row.score.documents == 0
    assert row.score.span_f1_exact is None and row.score.relation_f1 is None
    assert row.as_csv_row()["span_f1_exact"] == ""


def test_csv_has_the_named_columns_and_one_row_per_student(project, graded):
    table = list(csv.DictReader(io.StringIO(grades_csv(project=project))))
    assert tuple(table[0]) == GRADE_COLUMNS
    assert GRADE_COLUMNS[:4] == ("student", "span_f1_exact", "span_f1_overlap", "relation_f1")
    assert {"missed", "extra", "boundary_off"} <= set(GRADE_COLUMNS)
    assert [r["student"] for r in table] == ["alice", "annotator"]
    me = table[1]
    assert me["span_f1_exact"] == "0.6000" and me["span_f1_overlap"] == "0.8000"
    assert (me["missed"], me["extra"], me["boundary_off"], me["documents"]) == ("1", "1", "1", "2")


def test_release_toggles(project):
    assert not project.grades_released
    grades_release(project=project, released=True)
    project.refresh_from_db()
    assert project.grades_released
    grades_release(project=project, released=False)
    project.refresh_from_db()
    assert not project.grades_released


@pytest.mark.parametrize("actor", ["curator", "viewer", "non_member"])
def test_only_managers_and_students_read_feedback(project, members, actor):
    grades_release(project=project, released=True)
    with pytest.raises(PermissionDenied):
        feedback_student(user=members[actor], project=project)


def test_a_student_reads_their_own_feedback_only_once_released(project, members):
    student = members["annotator"]
    with pytest.raises(PermissionDenied, match="not released"):
        feedback_student(user=student, project=project)
    grades_release(project=project, released=True)
    assert feedback_student(user=student, project=project) == student
    with pytest.raises(PermissionDenied, match="your own"):
        feedback_student(user=student, project=project, username="alice")


def test_a_manager_previews_any_students_feedback_before_release(project, members, graded):
    assert feedback_student(user=members["manager"], project=project,
                            username="alice").username == "alice"


def test_feedback_classes_every_span_and_relation(project, graded):
    d1, d2, _ = graded
    student = AnnotationSet.objects.get(document=d1, annotator__username="annotator").annotator
    fb = feedback_document(project=project, student=student, document=d1)
    assert [(s.start, s.end, s.label, o) for s, o in fb.spans] == [
        (0, 14, "Reason", "exact"),
        (16, 28, "Evidence", "boundary_off"),
        (61, 80, "MajorClaim", "exact"),
    ]
    assert sorted((r.type, r.outcome) for r in fb.relations) == [
        ("evidence_for", "extra"), ("evidence_for", "missed"), ("supports", "matched"),
    ]
    fb2 = feedback_document(project=project, student=student, document=d2)
    assert [(s.label, o) for s, o in fb2.spans] == [
        ("Reason", "missed"), ("Claim", "extra"), ("MajorClaim", "exact"),
    ]
