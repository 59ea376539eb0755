"""A big import on a real Celery worker (issue 12, point 3): progress shows while it
runs, and a worker killed in the middle leaves nothing half-imported; the job is
delivered again and imports everything once."""

from __future__ import annotations

import pytest

from annotator.models import Document, ImportJob, JobStatus
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
