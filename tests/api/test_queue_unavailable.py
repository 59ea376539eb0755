"""A job the queue cannot take answers 503 in the API (issue 11, point 8).

With the broker down, requesting an export or an agreement run through the API
answered 202 with a row that had already failed. Now: 503 Service Unavailable,
``Retry-After``, and the sentence the page shows in ``detail``; the row stays
failed with that sentence, which the pages list as before. (The same with a
real Redis stopped: tests/faults/test_redis_outage.py.)
"""

from __future__ import annotations

import pytest

from annotator.models import AgreementRun, ExportJob, JobStatus
from annotator.tasks import agreement_run_task, export_job_task
from annotator.web.outage import RETRY_AFTER_SECONDS
from tests.agreement_helpers import annotated_project

UNREACHABLE = "the worker queue is unreachable"


@pytest.fixture
def broker_down(monkeypatch):
    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("[Errno 111] Connection refused")

    for task in (export_job_task, agreement_run_task):
        monkeypatch.setattr(task, "delay", refuse)
        monkeypatch.setattr(task, "apply_async", refuse)


def _assert_503(response, what):
    assert response.status_code == 503, response.content
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    detail = response.json()["detail"]
    assert UNREACHABLE in detail and what in detail and "\n" not in detail


# Committed for real, as in production: the row is queued when the request's transaction
# commits, before the view answers (a test transaction would hold that back).
pytestmark = pytest.mark.django_db(transaction=True)


def test_an_export_the_queue_cannot_take_is_503(api_for, project, members, broker_down):
    response = api_for("manager").post(f"/api/projects/{project.slug}/export-jobs/",
                                       {"format": "jsonl", "scope": "both"}, format="json")
    _assert_503(response, "export")
    job = ExportJob.objects.get()
    assert job.status == JobStatus.FAILED and UNREACHABLE in job.error


def test_an_agreement_run_the_queue_cannot_take_is_503(api_for, project, members, broker_down):
    annotated_project(project)
    response = api_for("manager").post(f"/api/projects/{project.slug}/agreement/",
                                       {"unit": "token"}, format="json")
    _assert_503(response, "agreement run")
    run = AgreementRun.objects.latest("id")
    assert run.status == JobStatus.FAILED and UNREACHABLE in run.error


def test_with_the_queue_up_the_answer_is_still_202(api_for, project, members):
    response = api_for("manager").post(f"/api/projects/{project.slug}/export-jobs/",
                                       {"format": "jsonl", "scope": "both"}, format="json")
    assert response.status_code == 202
    assert "Retry-After" not in response
