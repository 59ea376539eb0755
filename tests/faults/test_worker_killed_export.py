"""A worker SIGKILLed while building an export: a new worker builds it, once.

The export task acknowledges late, so its message stays in Redis while the
first worker writes the file; the worker (and its pool child) is killed in
the middle, leaving a half-written temporary file. A replacement worker
restores the unacknowledged message once the visibility timeout has passed,
builds the export from the start and removes the leftover: exactly one file,
the job DONE once, its md5 that of the file and of the same export built in
this process. The agreement run's version of this fault is
tests/worker/test_agreement_worker.py (it checks ``attempts == 2`` and one
report, and that a further delivery changes nothing).
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest

from annotator.models import ExportJob, JobStatus
from annotator.services.export_jobs import export_job_request
from annotator.services.exports import export_write
from tests import live
from tests.agreement_helpers import celery_broker
from tests.faults.conftest import wait_until
from tests.formats.export_samples import import_sample

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

#: The small sample exports in well under a second; this is the limit.
EXPORT_TIMEOUT = 30
#: The killed worker's message is handed out again after this (seconds).
SHORT_VISIBILITY_TIMEOUT = 2
#: Per document on the worker that gets killed: 3 documents make it last ~3 s.
SLOW_EXPORT_DELAY = 1.0
TASK_SUCCEEDED = "Task annotator.tasks.export_job_task["


def worker_env(database_url: str, broker_url: str, queue: str, media: Path, *,
               delay: float = 0.0, visibility_timeout: int = 3600) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.faults.worker_settings",
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": broker_url,
        "CELERY_VISIBILITY_TIMEOUT": str(visibility_timeout),
        "WARRANT_TEST_QUEUE": queue,
        "WARRANT_EXPORT_TEST_DELAY": str(delay),
        "MEDIA_ROOT": str(media),
        "PYTHONPATH": str(live.ROOT),
    }
    env.pop("REDIS_URL", None)
    return env


def test_a_worker_killed_mid_export_is_replaced_and_the_export_is_built_once(
    project, members, queue, redis_url, worker_database_url, tmp_path, settings
):
    import_sample(project)
    # tests.worker.settings puts export files under MEDIA_ROOT/warrant-test-media.
    media = tmp_path / "warrant-test-media"
    settings.MEDIA_ROOT = media
    exports_dir = media / "exports"
    workers: list[live.Process] = []
    try:
        doomed = live.start_worker(
            env=worker_env(worker_database_url, redis_url, queue, tmp_path,
                           delay=SLOW_EXPORT_DELAY),
            log_dir=tmp_path, name="doomed", queue=queue,
        )
        workers.append(doomed)
        with celery_broker(redis_url, queue=queue):
            job = export_job_request(project=project, requested_by=members["manager"],
                                     format="jsonl", scope="both")

        # In the middle: one document written (progress on the row), the file not renamed yet.
        wait_until(
            lambda: ExportJob.objects.filter(
                pk=job.pk, status=JobStatus.RUNNING, documents__gt=0).exists(),
            EXPORT_TIMEOUT, "the first worker to start the export", workers,
        )
        doomed.kill()
        killed_at = time.monotonic()
        job.refresh_from_db()
        first_started = job.started_at
        assert (job.status, job.file.name, job.md5) == (JobStatus.RUNNING, "", "")
        leftovers = sorted(p.name for p in exports_dir.iterdir())
        assert len(leftovers) == 1 and leftovers[0].startswith(".")  # the half-written file

        replacement = live.start_worker(
            env=worker_env(worker_database_url, redis_url, queue, tmp_path,
                           visibility_timeout=SHORT_VISIBILITY_TIMEOUT),
            log_dir=tmp_path, name="replacement", queue=queue,
        )
        workers.append(replacement)
        wait_until(
            lambda: ExportJob.objects.filter(pk=job.pk, status=JobStatus.DONE).exists(),
            EXPORT_TIMEOUT, "the replacement worker to finish the export", workers,
        )
        print(f"\nexport done {time.monotonic() - killed_at:.1f} s after the kill "
              "(starting the replacement included)")
        job.refresh_from_db()
        assert job.started_at > first_started  # built again from the start

        # Exactly one file: the job's own, whole; the killed attempt's leftover is gone.
        path = media / job.file.name
        assert sorted(p.name for p in exports_dir.iterdir()) == [path.name]
        data = path.read_bytes()
        assert (job.size, job.md5) == (len(data), hashlib.md5(data).hexdigest())
        in_process = tmp_path / "in-process.jsonl"
        export_write(project=project, format="jsonl", path=in_process, scope="both")
        assert data == in_process.read_bytes()

        # Once: a further sweep of the replacement changes nothing, and one attempt succeeded.
        finished_at = job.finished_at
        time.sleep(SHORT_VISIBILITY_TIMEOUT + 1)
        job.refresh_from_db()
        assert (job.status, job.finished_at, job.md5) == (JobStatus.DONE, finished_at,
                                                          hashlib.md5(data).hexdigest())
        assert ExportJob.objects.count() == 1
        succeeded = [line for w in workers for line in w.log().splitlines()
                     if TASK_SUCCEEDED in line and "succeeded" in line]
        assert len(succeeded) == 1, succeeded
        assert "succeeded" not in doomed.log()
    finally:
        for worker in workers:
            worker.stop()
