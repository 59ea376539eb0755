"""A member whose role changes loses what the role loses at once (issue 11, point 9).

Demoted to viewer, or removed from the project, an annotator's next write to
their own set is refused, through the page (htmx and without JavaScript) and
the API; their work stays as it was. The role is read again on every request:
nothing a browser tab or an API token holds keeps the old one.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from annotator.models import AnnotationSet, Membership, Span
from annotator.services.members import membership_remove, membership_role_change
from tests.factories import AnnotationSetFactory, DocumentFactory, SpanFactory

CHANGES = ["demoted to viewer", "removed"]


@pytest.fixture
def student_work(project, members):
    brief = DocumentFactory(project=project)
    aset = AnnotationSetFactory(document=brief, annotator=members["annotator"],
                                status="in_progress", version=1)
    SpanFactory(annotation_set=aset)
    return aset


def _change(change, project, members, client_for):
    """As the manager does it: through the members page."""
    student = members["annotator"]
    manager = client_for("manager")
    if change == "demoted to viewer":
        url = reverse("member-role", kwargs={"slug": project.slug, "user_id": student.pk})
        assert manager.post(url, {"role": "viewer"}).status_code == 302
        assert Membership.objects.get(project=project, user=student).role == "viewer"
    else:
        url = reverse("member-remove", kwargs={"slug": project.slug, "user_id": student.pk})
        assert manager.post(url).status_code == 302
        assert not Membership.objects.filter(project=project, user=student).exists()


def _work(aset):
    aset = AnnotationSet.objects.get(pk=aset.pk)
    return aset.version, aset.status, sorted(
        Span.objects.filter(annotation_set=aset).values_list("start", "end", "label_id"))


@pytest.mark.parametrize("change", CHANGES)
def test_the_next_write_through_the_page_is_refused_and_the_work_stays(
    client, client_for, project, members, student_work, change
):
    student = members["annotator"]
    page = reverse("annotate", kwargs={"slug": project.slug,
                                       "document_id": student_work.document_id})
    create = reverse("annotate-span-create", kwargs={"slug": project.slug,
                                                     "document_id": student_work.document_id})
    label = project.span_labels.get(name="Reason").pk
    # The student's tab is open, logged in, before the change.
    client.force_login(student)
    assert client.get(page).status_code == 200
    before = _work(student_work)
    _change(change, project, members, client_for)
    client.force_login(student)  # the same person again, the same session cookie
    for htmx in (True, False):
        headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
        response = client.post(create, {"label": label, "start": 10, "end": 20,
                                        "expected_version": before[0]}, **headers)
        assert response.status_code == (403 if change == "demoted to viewer" else 404)
    submit = reverse("annotate-submit", kwargs={"slug": project.slug,
                                                "document_id": student_work.document_id})
    assert client.post(submit, {"expected_version": before[0]}).status_code in (403, 404)
    assert _work(student_work) == before


@pytest.mark.parametrize("change", CHANGES)
def test_the_next_write_through_the_api_is_refused_and_the_work_stays(
    client_for, project, members, student_work, change
):
    student = members["annotator"]
    token = Token.objects.create(user=student)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    url = f"/api/annotation-sets/{student_work.pk}/spans/"
    body = {"label": "Reason", "start": 10, "end": 20, "version": 1}
    before = _work(student_work)
    _change(change, project, members, client_for)
    response = api.post(url, body, format="json")
    assert response.status_code == (403 if change == "demoted to viewer" else 404)
    assert response.json()["detail"]
    batch = api.post(f"/api/annotation-sets/{student_work.pk}/batch/",
                     {"version": 1, "spans": [{"ref": "a", "label": "Reason", "start": 10,
                                               "end": 20}]}, format="json")
    assert batch.status_code in (403, 404)
    assert _work(student_work) == before


def test_a_student_made_annotator_again_finds_their_work(client_for, project, members,
                                                        student_work):
    membership_role_change(project=project, user=members["annotator"], role="viewer")
    membership_role_change(project=project, user=members["annotator"], role="annotator")
    page = reverse("annotate", kwargs={"slug": project.slug,
                                       "document_id": student_work.document_id})
    assert client_for("annotator").get(page).status_code == 200
    membership_remove(project=project, user=members["annotator"])
    assert AnnotationSet.objects.filter(pk=student_work.pk).exists()


@pytest.mark.parametrize("change", ["demoted to viewer", "removed"])
def test_exports_built_for_the_old_role_go_with_it(client_for, project, members, student_work,
                                                   change, django_capture_on_commit_callbacks,
                                                   settings, tmp_path):
    """A manager's export holds every set. Made a viewer of this blind project (or taken
    out of it), they must not keep downloading it: the files built for the old role go."""
    from pathlib import Path

    from annotator.models import ExportJob
    from annotator.services.export_jobs import export_job_request

    settings.MEDIA_ROOT = tmp_path
    second = members["curator"]
    Membership.objects.filter(project=project, user=second).update(role="manager")
    boss = members["manager"]
    with django_capture_on_commit_callbacks(execute=True):
        job = export_job_request(project=project, requested_by=boss, format="jsonl")
    job.refresh_from_db()
    assert job.status == "done" and job.spans == 1
    path = Path(tmp_path) / job.file.name
    assert path.exists()
    others = ExportJob.objects.create(project=project, format="csv", requested_by=second)
    download = reverse("export-download", kwargs={"slug": project.slug, "job_id": job.pk})
    assert client_for("manager").get(download).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        if change == "demoted to viewer":
            membership_role_change(project=project, user=boss, role="viewer")
        else:
            membership_remove(project=project, user=boss)
    assert client_for("manager").get(download).status_code == 404
    api = APIClient()
    api.force_authenticate(boss)
    assert api.get(f"/api/export-jobs/{job.pk}/download/").status_code == 404
    assert not ExportJob.objects.filter(pk=job.pk).exists() and not path.exists()
    assert ExportJob.objects.filter(pk=others.pk).exists()  # someone else's stays
