"""A big import on a real Celery worker (issue 12, point 3): progress shows while it
runs, and a worker killed in the middle leaves nothing half-imported; the job is
delivered again and imports everything once. A bad record near the end of a big
JSONL fails the job with a line naming it, and nothing is written."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model

from annotator.formats.readers import MAX_UPLOAD_DOCUMENTS
from annotator.models import AnnotationSet, Document, ImportJob, JobStatus, Span
from annotator.services.import_jobs import import_job_request
from tests.agreement_helpers import celery_broker
from tests.live import wait_until
from tests.web.test_import_jobs import jsonl

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

RUN_TIMEOUT = 60
SHORT_VISIBILITY_TIMEOUT = 2
DOCUMENTS = 600  # progress is written every 100 records: six steps


def test_a_worker_killed_mid_import_leaves_nothing_then_the_job_imports_once(
    project, members, queue, start_worker, redis_url
):
    # The workers inherit this process's MEDIA_ROOT: they read the stored upload.
    env = {"WARRANT_IMPORT_TEST_DELAY": "0.6"}
    doomed = start_worker(queue, extra_env=env)
    with celery_broker(redis_url, queue=queue):
        job = import_job_request(project=project, files=[("briefs.jsonl", jsonl(DOCUMENTS))],
                                 requested_by=members["manager"])
    # Writing has begun, and its progress is visible before the import commits.
    wait_until(
        lambda: ImportJob.objects.filter(pk=job.pk, status=JobStatus.RUNNING,
                                         progress__gt=0.35).exists(),
        RUN_TIMEOUT, "the progress of the writing phase", [doomed],
    )
    assert not Document.objects.filter(project=project).exists()  # one transaction
    doomed.kill()
    assert not Document.objects.filter(project=project).exists()

    replacement = start_worker(queue, visibility_timeout=SHORT_VISIBILITY_TIMEOUT)
    wait_until(
        lambda: ImportJob.objects.filter(pk=job.pk, status=JobStatus.DONE).exists(),
        RUN_TIMEOUT, "the replacement worker to import", [doomed, replacement],
    )
    job.refresh_from_db()
    assert (job.attempts, job.documents, job.progress) == (2, DOCUMENTS, 1.0)
    assert Document.objects.filter(project=project).count() == DOCUMENTS


def _briefs(n: int, *, bad_line: int, fault: str) -> bytes:
    """``n`` annotated briefs, one a line, each by a new annotator (the import creates
    the accounts); line ``bad_line`` carries ``fault``."""
    lines = []
    for i in range(n):
        text = f"Brief {i}. Sanctions work because exports fell by {i} percent."
        span = {"id": "T1", "start": 0, "end": 8, "label": "Claim"}
        if i + 1 == bad_line and fault == "span outside the text":
            span["end"] = 10**6  # found while the file is read
        if i + 1 == bad_line and fault == "unknown label":
            span["label"] = "Rebuttal"  # found only when its document is written
        lines.append(json.dumps({
            "id": f"b{i}", "text": text,
            "annotations": [{"annotator": f"student{i % 50}", "status": "submitted",
                             "spans": [span], "relations": []}]}))
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.parametrize(
    ("fault", "documents", "message"),
    [
        # More lines than an upload imported in the request may have: the job reads them.
        ("span outside the text", MAX_UPLOAD_DOCUMENTS + 2_000, "span T1"),
        # Every document before it is written, then all of it is rolled back.
        ("unknown label", 2_500, "label 'Rebuttal' is not in the project's schema"),
    ],
)
def test_a_bad_line_near_the_end_of_a_big_jsonl_fails_the_job_naming_it_and_writes_nothing(
    project, members, queue, start_worker, redis_url, fault, documents, message
):
    bad_line = documents - 1
    data = _briefs(documents, bad_line=bad_line, fault=fault)
    users_before = get_user_model().objects.count()
    worker = start_worker(queue)
    with celery_broker(redis_url, queue=queue):
        job = import_job_request(project=project, files=[("briefs.jsonl", data)],
                                 requested_by=members["manager"])
    wait_until(
        lambda: ImportJob.objects.filter(pk=job.pk, status=JobStatus.FAILED).exists(),
        RUN_TIMEOUT * 3, f"the job to fail on line {bad_line}", [worker],
    )
    job.refresh_from_db()
    assert job.error.startswith(f"briefs.jsonl:{bad_line}: "), job.error
    assert message in job.error and "\n" not in job.error
    assert job.documents == 0 and job.finished_at is not None
    assert not Document.objects.filter(project=project).exists()
    assert not AnnotationSet.objects.filter(document__project=project).exists()
    assert not Span.objects.exists()
    assert get_user_model().objects.count() == users_before  # no annotator account either
