"""Manual assignment: add, reassign, withdraw, per-assignment deadlines."""

from __future__ import annotations

import datetime as dt

import pytest

from annotator.models import AnnotationSet
from annotator.services.assignments import (
    assignment_create,
    assignment_delete,
    assignment_reassign,
    assignment_set_due,
    assignments_make,
)
from annotator.services.errors import WarrantError
from tests.agreement_helpers import annotate
from tests.factories import DocumentFactory, MembershipFactory, UserFactory


@pytest.fixture
def students(project, members):
    return [members["annotator"]] + [
        MembershipFactory(project=project, user=UserFactory(username=name), role="annotator").user
        for name in ("bea", "cal")
    ]


def test_manual_assignment_takes_the_project_deadline(project, students):
    project.default_due = dt.date(2030, 1, 31)
    project.save()
    document = DocumentFactory(project=project)
    aset = assignment_create(document=document, annotator=students[0])
    assert aset.due == dt.date(2030, 1, 31) and aset.status == "assigned"
    with pytest.raises(WarrantError, match="already has"):
        assignment_create(document=document, annotator=students[0])


@pytest.mark.parametrize("role", ["viewer", "non_member"])
def test_only_annotating_members_can_be_assigned(project, members, role):
    with pytest.raises(WarrantError, match="not an annotator"):
        assignment_create(document=DocumentFactory(project=project), annotator=members[role])


def test_reassign_moves_untouched_work(project, students):
    document = DocumentFactory(project=project)
    aset = assignment_create(document=document, annotator=students[0])
    assignment_reassign(assignment=aset, annotator=students[1])
    aset.refresh_from_db()
    assert aset.annotator == students[1]


def test_reassign_keeps_started_work_with_its_author(project, students):
    document = DocumentFactory(project=project)
    aset = annotate(project, document, students[0].username, [(0, 5, "Claim")],
                    status="in_progress")
    with pytest.raises(WarrantError, match="stays theirs"):
        assignment_reassign(assignment=aset, annotator=students[1])
    with pytest.raises(WarrantError, match="work is kept"):
        assignment_delete(assignment=aset)
    aset.refresh_from_db()
    assert aset.annotator == students[0]


def test_reassign_to_someone_who_has_the_document_is_refused(project, students):
    document = DocumentFactory(project=project)
    a = assignment_create(document=document, annotator=students[0])
    assignment_create(document=document, annotator=students[1])
    with pytest.raises(WarrantError, match="already has"):
        assignment_reassign(assignment=a, annotator=students[1])


def test_withdraw_and_rerun_fills_the_gap_with_balance(project, students):
    documents = [DocumentFactory(project=project) for _ in range(3)]
    assignments_make(project=project, per_document=2, seed=1)
    victim = AnnotationSet.objects.filter(document=documents[0]).first()
    assignment_delete(assignment=victim)
    assert AnnotationSet.objects.filter(document=documents[0]).count() == 1
    created = assignments_make(project=project, per_document=2, seed=1)
    assert len(created) == 1
    assert AnnotationSet.objects.filter(document=documents[0]).count() == 2


def test_per_assignment_deadline(project, students):
    aset = assignment_create(document=DocumentFactory(project=project), annotator=students[0])
    assignment_set_due(assignment=aset, due=dt.date(2030, 2, 1))
    aset.refresh_from_db()
    assert aset.due == dt.date(2030, 2, 1)
    assignment_set_due(assignment=aset, due=None)
    aset.refresh_from_db()
    assert aset.due is None
