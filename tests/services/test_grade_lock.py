"""Grades cannot be changed after release (issue 11, point 1).

The attack: a student reads *My feedback* (every gold span they missed, with its
text), reopens their submitted set (reopening is on by default), adds the missed
spans, submits again, and their released grade goes from 0.667 to 1.000. Once
grades are released, or once the set's deadline has passed, a student's set
that counts for a grade (its brief has a final gold) takes no reopening and no
edit, on the page and in the API. A manager can still reopen it: that is
recorded (who, when) and shown on the grades page.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from annotator.models import AnnotationSet, AnnotationStatus, Span
from annotator.selectors.grading import grades_for_project
from annotator.services import annotations as svc
from annotator.services.errors import WarrantError
from annotator.services.grading import grades_release
from tests.agreement_helpers import TEXT, annotate
from tests.factories import DocumentFactory
from tests.services.test_grading import CLAIM, EVIDENCE, REASON, make_gold


def _f1(project, username="annotator"):
    row = next(r for r in grades_for_project(project=project) if r.student == username)
    return row.score.span_f1_exact


@pytest.fixture
def graded(project, members):
    """The issue's case: the student found 2 of the gold's 3 spans (F1 0.8), submitted."""
    brief = DocumentFactory(project=project, text=TEXT)
    make_gold(project, brief, [CLAIM, REASON, EVIDENCE])
    mine = annotate(project, brief, "annotator", [CLAIM, REASON])
    return {"brief": brief, "set": mine}


def _fresh(aset):
    return AnnotationSet.objects.get(pk=aset.pk)


def _add_missed_span(aset):
    """What the attacker does after reading the feedback: mark the missed evidence."""
    aset = _fresh(aset)
    return svc.span_create(
        annotation_set=aset, label=aset.document.project.span_labels.get(name="Evidence"),
        start=EVIDENCE[0], end=EVIDENCE[1], expected_version=aset.version,
    )


def test_before_release_the_student_may_still_reopen_and_improve(project, graded):
    """Reopening is on by default: before the release nothing is fixed yet."""
    aset = graded["set"]
    svc.annotation_set_reopen(annotation_set=_fresh(aset), expected_version=aset.version)
    _add_missed_span(aset)
    svc.annotation_set_submit(annotation_set=_fresh(aset), expected_version=_fresh(aset).version)
    assert _f1(project) == pytest.approx(1.0)


def test_after_release_the_student_cannot_reopen_and_the_grade_stays(project, graded):
    grades_release(project=project, released=True)
    before = _f1(project)
    assert before == pytest.approx(0.8)
    aset = graded["set"]
    with pytest.raises(WarrantError, match="grades are released") as refused:
        svc.annotation_set_reopen(annotation_set=_fresh(aset), expected_version=aset.version)
    assert "ask a manager" in str(refused.value)
    assert _fresh(aset).status == AnnotationStatus.SUBMITTED
    assert _f1(project) == before


def test_after_release_an_unsubmitted_set_on_a_graded_brief_takes_no_edit_and_no_submit(
    project, members
):
    brief = DocumentFactory(project=project, text=TEXT)
    make_gold(project, brief, [CLAIM, REASON, EVIDENCE])
    aset = annotate(project, brief, "annotator", [CLAIM], status=AnnotationStatus.IN_PROGRESS)
    grades_release(project=project, released=True)
    with pytest.raises(WarrantError, match="grades are released"):
        _add_missed_span(aset)
    with pytest.raises(WarrantError, match="grades are released"):
        svc.annotation_set_submit(annotation_set=_fresh(aset), expected_version=aset.version)
    assert Span.objects.filter(annotation_set=aset).count() == 1
    assert _fresh(aset).status == AnnotationStatus.IN_PROGRESS


def test_after_its_deadline_a_graded_set_takes_no_edit_even_before_release(project, members):
    brief = DocumentFactory(project=project, text=TEXT)
    make_gold(project, brief, [CLAIM, REASON, EVIDENCE])
    aset = annotate(project, brief, "annotator", [CLAIM], status=AnnotationStatus.IN_PROGRESS)
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    AnnotationSet.objects.filter(pk=aset.pk).update(due=yesterday)
    with pytest.raises(WarrantError, match=f"deadline \\({yesterday.isoformat()}\\) has passed"):
        _add_missed_span(aset)
    with pytest.raises(WarrantError, match="deadline"):
        svc.annotation_set_submit(annotation_set=_fresh(aset), expected_version=aset.version)
    # Moving the deadline (a manager's act) opens it again.
    AnnotationSet.objects.filter(pk=aset.pk).update(due=timezone.localdate())
    _add_missed_span(aset)


def test_a_brief_without_a_final_gold_counts_for_no_grade_and_stays_open(project, members):
    brief = DocumentFactory(project=project, text=TEXT)
    make_gold(project, brief, [CLAIM], final=False)
    aset = annotate(project, brief, "annotator", [CLAIM], status=AnnotationStatus.IN_PROGRESS)
    AnnotationSet.objects.filter(pk=aset.pk).update(
        due=timezone.localdate() - dt.timedelta(days=3))
    grades_release(project=project, released=True)
    _add_missed_span(aset)  # no error: nothing to be graded against, nothing to game


def test_a_manager_annotating_is_not_graded_and_not_locked(project, members, graded):
    grades_release(project=project, released=True)
    own = AnnotationSet.objects.create(document=graded["brief"], annotator=members["manager"],
                                       status=AnnotationStatus.SUBMITTED, version=1)
    svc.annotation_set_reopen(annotation_set=own, expected_version=1)


def test_a_manager_reopens_a_students_set_and_that_is_recorded(project, members, graded):
    from annotator.models import SetReopening
    from annotator.services.grading import annotation_set_reopen_for_student

    grades_release(project=project, released=True)
    aset = graded["set"]
    annotation_set_reopen_for_student(annotation_set=_fresh(aset), by=members["manager"])
    reopening = SetReopening.objects.get(annotation_set=aset)
    assert reopening.reopened_by == members["manager"]
    assert abs((timezone.now() - reopening.reopened_at).total_seconds()) < 60
    assert _fresh(aset).status == AnnotationStatus.IN_PROGRESS
    # Now the student may change it and submit it again; the grade moves (a manager acted).
    _add_missed_span(aset)
    svc.annotation_set_submit(annotation_set=_fresh(aset), expected_version=_fresh(aset).version)
    assert _f1(project) == pytest.approx(1.0)
    # Submitted again, it is closed again.
    with pytest.raises(WarrantError, match="grades are released"):
        svc.annotation_set_reopen(annotation_set=_fresh(aset),
                                  expected_version=_fresh(aset).version)


def test_only_a_submitted_students_set_is_reopened_for_them(project, members, graded):
    from annotator.services.grading import annotation_set_reopen_for_student

    open_set = AnnotationSet.objects.create(document=DocumentFactory(project=project),
                                            annotator=members["annotator"])
    with pytest.raises(WarrantError, match="not submitted"):
        annotation_set_reopen_for_student(annotation_set=open_set, by=members["manager"])


# --------------------------------------------------------------------------- pages and API


def test_the_page_says_why_and_offers_no_reopen_button(client_for, project, graded):
    grades_release(project=project, released=True)
    url = reverse("annotate", kwargs={"slug": project.slug, "document_id": graded["brief"].pk})
    html = client_for("annotator").get(url).content.decode()
    assert 'id="reopen-button"' not in html
    assert "Grades are released" in html and "ask a manager" in html.lower()
    # A reopen posted anyway (an old tab) is refused with the sentence, and changes nothing.
    reopen = reverse("annotate-reopen",
                     kwargs={"slug": project.slug, "document_id": graded["brief"].pk})
    response = client_for("annotator").post(reopen, {"expected_version": 1},
                                            HTTP_HX_REQUEST="true")
    assert response.status_code == 409
    assert "grades are released" in response.content.decode()
    response = client_for("annotator").post(reopen, {"expected_version": 1}, follow=True)
    assert "grades are released" in response.content.decode()
    assert _fresh(graded["set"]).status == AnnotationStatus.SUBMITTED


def test_the_api_refuses_with_409_and_a_message(members, project, graded):
    grades_release(project=project, released=True)
    client = APIClient()
    client.force_authenticate(members["annotator"])
    aset = graded["set"]
    response = client.post(f"/api/annotation-sets/{aset.pk}/reopen/", {"version": 1},
                           format="json")
    assert response.status_code == 409
    assert "grades are released" in response.json()["detail"]
    assert _fresh(aset).status == AnnotationStatus.SUBMITTED


def test_a_manager_reopens_through_the_api_and_it_is_recorded(members, project, graded):
    from annotator.models import SetReopening

    grades_release(project=project, released=True)
    aset = graded["set"]
    client = APIClient()
    client.force_authenticate(members["manager"])
    response = client.post(f"/api/annotation-sets/{aset.pk}/reopen/", {"version": 1},
                           format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "in_progress"
    assert SetReopening.objects.get(annotation_set=aset).reopened_by == members["manager"]
    # A curator may not.
    AnnotationSet.objects.filter(pk=aset.pk).update(status=AnnotationStatus.SUBMITTED)
    client.force_authenticate(members["curator"])
    response = client.post(f"/api/annotation-sets/{aset.pk}/reopen/", {"version": 2},
                           format="json")
    assert response.status_code == 403


def test_a_manager_reopens_from_the_feedback_page_and_the_grades_page_shows_it(
    client_for, project, members, graded
):
    grades_release(project=project, released=True)
    feedback = reverse("feedback", kwargs={"slug": project.slug}) + "?student=annotator"
    html = client_for("manager").get(feedback).content.decode()
    url = reverse("grades-reopen", kwargs={"slug": project.slug,
                                            "document_id": graded["brief"].pk})
    assert f'action="{url}"' in html
    response = client_for("manager").post(url, {"student": "annotator"}, follow=True)
    assert response.status_code == 200
    assert _fresh(graded["set"]).status == AnnotationStatus.IN_PROGRESS
    grades = client_for("manager").get(reverse("grades", kwargs={"slug": project.slug}))
    html = grades.content.decode()
    assert "Reopened by a manager" in html
    assert "manager" in html and graded["brief"].title in html
    when = timezone.localtime().strftime("%Y-%m-%d")
    assert when in html
