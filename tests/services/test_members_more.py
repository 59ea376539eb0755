"""Role changes, removal, join codes, project settings."""

from __future__ import annotations

import datetime as dt

import pytest

from annotator.models import AnnotationSet, Membership, Role
from annotator.services.errors import WarrantError
from annotator.services.members import (
    membership_remove,
    membership_role_change,
    project_join_by_code,
)
from annotator.services.projects import (
    project_join_code_regenerate,
    project_update,
)
from tests.agreement_helpers import annotate
from tests.factories import DocumentFactory, UserFactory


def role_of(project, user):
    return Membership.objects.get(project=project, user=user).role


@pytest.mark.parametrize("role", ["manager", "curator", "annotator", "viewer"])
def test_role_change(project, members, role):
    membership_role_change(project=project, user=members["viewer"], role=role)
    assert role_of(project, members["viewer"]) == role


def test_unknown_role_and_non_member_are_refused(project, members):
    with pytest.raises(WarrantError, match="unknown role"):
        membership_role_change(project=project, user=members["viewer"], role="owner")
    with pytest.raises(WarrantError, match="not a member"):
        membership_role_change(project=project, user=members["non_member"], role="viewer")


def test_the_last_manager_can_be_neither_demoted_nor_removed(project, members):
    with pytest.raises(WarrantError, match="only manager"):
        membership_role_change(project=project, user=members["manager"], role="viewer")
    with pytest.raises(WarrantError, match="only manager"):
        membership_remove(project=project, user=members["manager"])
    membership_role_change(project=project, user=members["curator"], role="manager")
    membership_role_change(project=project, user=members["manager"], role="viewer")
    assert role_of(project, members["manager"]) == "viewer"


def test_removal_drops_untouched_assignments_and_keeps_work(project, members):
    student = members["annotator"]
    untouched, started, done = (DocumentFactory(project=project) for _ in range(3))
    AnnotationSet.objects.create(document=untouched, annotator=student)
    annotate(project, started, "annotator", [(0, 5, "Claim")], status="in_progress")
    annotate(project, done, "annotator", [(0, 5, "Claim")])
    report = membership_remove(project=project, user=student)
    assert (report.assignments_dropped, report.sets_kept) == (1, 2)
    assert not Membership.objects.filter(project=project, user=student).exists()
    assert AnnotationSet.objects.filter(annotator=student).count() == 2


def test_join_by_code_makes_an_annotator_and_never_demotes(project, members):
    project_join_code_regenerate(project=project)
    newcomer = UserFactory(username="newcomer")
    result = project_join_by_code(user=newcomer, code=f"  {project.join_code} ")
    assert result.joined and result.project == project
    assert role_of(project, newcomer) == Role.ANNOTATOR
    again = project_join_by_code(user=members["manager"], code=project.join_code)
    assert not again.joined
    assert role_of(project, members["manager"]) == Role.MANAGER


@pytest.mark.parametrize("code", ["", "   ", "nope-nope"])
def test_a_wrong_or_empty_code_joins_nothing(project, members, code):
    with pytest.raises(WarrantError, match="no project has this join code"):
        project_join_by_code(user=members["non_member"], code=code)
    assert not Membership.objects.filter(user=members["non_member"]).exists()


def test_a_new_code_retires_the_old_one_and_switching_off_stops_joining(project, members):
    old = project.join_code or "x"
    project_join_code_regenerate(project=project)
    assert project.join_code and project.join_code != old
    with pytest.raises(WarrantError):
        project_join_by_code(user=members["non_member"], code=old)
    project_join_code_regenerate(project=project, enabled=False)
    assert project.join_code == ""
    with pytest.raises(WarrantError):
        project_join_by_code(user=members["non_member"], code="")


def test_project_update_changes_only_what_it_is_given(project):
    project_update(project=project, guidelines="# New", annotators_per_document=3, blind=False)
    project.refresh_from_db()
    assert (project.guidelines, project.annotators_per_document, project.blind) == (
        "# New", 3, False)
    assert project.name == "Sanctions briefs"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "  ", "project name"),
        ("annotators_per_document", 0, "annotators per document"),
        ("annotators_per_document", True, "annotators per document"),
        ("guidelines", "x" * 100_001, "guidelines"),
    ],
)
def test_project_update_refuses_bad_values(project, field, value, message):
    with pytest.raises(WarrantError, match=message):
        project_update(project=project, **{field: value})


def test_project_deadline_moves_assignments_that_follow_it(project, members):
    from annotator.services.assignments import project_deadline_set

    d1, d2, d3 = (DocumentFactory(project=project) for _ in range(3))
    student = members["annotator"]
    follows = AnnotationSet.objects.create(document=d1, annotator=student)
    own = AnnotationSet.objects.create(document=d2, annotator=student, due=dt.date(2031, 1, 1))
    done = AnnotationSet.objects.create(document=d3, annotator=student, status="submitted")
    assert project_deadline_set(project=project, due=dt.date(2030, 5, 1)) == 1
    assert project_deadline_set(project=project, due=dt.date(2030, 6, 1)) == 1
    for aset in (follows, own, done):
        aset.refresh_from_db()
    assert follows.due == dt.date(2030, 6, 1)
    assert own.due == dt.date(2031, 1, 1)
    assert done.due is None
