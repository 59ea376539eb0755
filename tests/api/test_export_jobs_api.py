"""Export jobs over the API: list, request, poll, download — once per actor.

A job is checked against its own project's permission matrix
(``export.create``), never served by id alone.
"""

import json
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from annotator.models import ExportJob
from tests.api.conftest import detail
from tests.conftest import ALL_ACTORS
from tests.factories import MembershipFactory, ProjectFactory

# fmt: off
STATUS = {
    #                 manager curator annotator viewer non_member anonymous
    "list":          (200,    200,    403,      200,   404,       401),
    "create":        (202,    202,    403,      202,   404,       401),
    # The job is the manager's: a viewer sees only their own jobs, which hold only what
    # they may read (issue 11); managers and curators read every set, and every job.
    "detail":        (200,    200,    403,      404,   404,       401),
    "download":      (200,    200,    403,      404,   404,       401),
}
# fmt: on


@pytest.fixture
def done_job(project, members):
    job = ExportJob.objects.create(
        project=project,
        requested_by=members["manager"],
        format="jsonl",
        status="done",
        progress=1.0,
        finished_at=timezone.now(),
        expires_at=timezone.now() + timedelta(days=1),
    )
    job.file.save(f"exports/test-{job.pk}.jsonl", ContentFile(b'{"id": "brief-1"}\n'))
    yield job
    job.file.delete(save=False)


def request(endpoint, client, project, job):
    if endpoint == "list":
        return client.get(f"/api/projects/{project.slug}/export-jobs/")
    if endpoint == "create":
        return client.post(
            f"/api/projects/{project.slug}/export-jobs/",
            {"format": "jsonl", "scope": "both"},
            format="json",
        )
    if endpoint == "detail":
        return client.get(f"/api/export-jobs/{job.pk}/")
    return client.get(f"/api/export-jobs/{job.pk}/download/")


@pytest.mark.parametrize(
    ("endpoint", "actor", "status"),
    [
        (endpoint, actor, status)
        for endpoint, statuses in STATUS.items()
        for actor, status in zip(ALL_ACTORS, statuses, strict=True)
    ],
)
def test_status_per_actor(api_for, project, document, done_job, endpoint, actor, status):
    jobs_before = ExportJob.objects.count()
    response = request(endpoint, api_for(actor), project, done_job)
    assert response.status_code == status
    if status >= 400:
        detail(response)
    if endpoint == "create":
        assert ExportJob.objects.count() == jobs_before + (status == 202)
    if endpoint == "download" and status == 200:
        assert b"".join(response.streaming_content) == b'{"id": "brief-1"}\n'
        assert "attachment" in response["Content-Disposition"]


def test_an_export_requested_through_the_api_runs_and_downloads(
    api_for, project, document, django_capture_on_commit_callbacks
):
    client = api_for("viewer")
    with django_capture_on_commit_callbacks(execute=True):
        created = client.post(
            f"/api/projects/{project.slug}/export-jobs/", {"format": "jsonl"}, format="json"
        )
    assert created.status_code == 202
    job_url = created["Location"]
    job = client.get(job_url).json()
    assert job["status"] == "done", job
    assert job["requested_by"] == "viewer"
    download = client.get(job["download_url"])
    assert download.status_code == 200
    lines = b"".join(download.streaming_content).decode().splitlines()
    record = json.loads(lines[0])
    assert record["text"] == document.text
    ExportJob.objects.get(pk=job["id"]).file.delete(save=False)


def test_an_unfinished_export_is_409_and_an_expired_one_410(api_for, project, members, done_job):
    client = api_for("curator")
    pending = ExportJob.objects.create(project=project, format="csv")
    response = client.get(f"/api/export-jobs/{pending.pk}/download/")
    assert response.status_code == 409
    assert "not finished" in detail(response)
    assert client.get(f"/api/export-jobs/{pending.pk}/").json()["download_url"] is None
    done_job.expires_at = timezone.now() - timedelta(minutes=1)
    done_job.save()
    response = client.get(f"/api/export-jobs/{done_job.pk}/download/")
    assert response.status_code == 410
    detail(response)


def test_a_failed_export_says_why(api_for, project):
    failed = ExportJob.objects.create(project=project, format="hf", status="failed",
                                      error="no documents")
    response = api_for("manager").get(f"/api/export-jobs/{failed.pk}/download/")
    assert response.status_code == 409
    assert "no documents" in detail(response)


def test_a_job_of_another_project_is_404_even_for_a_manager_here(api_for, members):
    other = ProjectFactory(slug="other")
    job = ExportJob.objects.create(project=other, format="jsonl")
    response = api_for("manager").get(f"/api/export-jobs/{job.pk}/download/")
    assert response.status_code == 404
    detail(response)


def test_a_job_needs_export_create_in_its_own_project(
    api_for, project, members
):
    other = ProjectFactory(slug="other")
    MembershipFactory(project=other, user=members["annotator"], role="annotator")
    job = ExportJob.objects.create(project=other, format="jsonl")
    response = api_for("annotator").get(f"/api/export-jobs/{job.pk}/")
    assert response.status_code == 403
    detail(response)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"format": "pdf"}, "format"),
        ({"format": "jsonl", "scope": "some"}, "scope"),
        ({}, "format"),
    ],
)
def test_a_bad_export_request_is_400_and_starts_nothing(api_for, project, body, field):
    response = api_for("manager").post(
        f"/api/projects/{project.slug}/export-jobs/", body, format="json"
    )
    assert response.status_code == 400
    assert field in detail(response)
    assert not ExportJob.objects.exists()


def test_the_job_list_is_newest_first_and_paginated(api_for, project, members):
    jobs = [ExportJob.objects.create(project=project, format="csv",
                                     requested_by=members["viewer"]) for _ in range(3)]
    body = api_for("viewer").get(f"/api/projects/{project.slug}/export-jobs/").json()
    assert body["count"] == 3
    assert [j["id"] for j in body["results"]] == [j.pk for j in reversed(jobs)]
