"""Export jobs on a real Celery worker process, against Redis.

An export job requested through the service (its row committed: the test
database is shared with the worker) is built by the worker, not in-process:
the row goes DONE and the file is in MEDIA_ROOT with the size and md5 the row
records, and it holds the project's data.
"""

from __future__ import annotations

import hashlib
import json
import re
import zipfile

import pytest

from annotator.models import ExportJob, JobStatus
from annotator.services.export_jobs import export_job_request
from tests.agreement_helpers import celery_broker
from tests.formats.export_samples import import_sample
from tests.live import wait_until

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

#: Exporting the 3-document sample takes well under a second; this is the limit.
EXPORT_TIMEOUT = 30


@pytest.fixture
def media_root(tmp_path, monkeypatch):
    """MEDIA_ROOT of the workers started after this: a folder of this test's own.

    The worker reads it from the environment (config.settings.test); this process
    only reads the file, at the path the worker's settings give.
    """
    monkeypatch.setenv("MEDIA_ROOT", str(tmp_path))
    return tmp_path / "warrant-test-media"


@pytest.mark.parametrize(("fmt", "check"), [("jsonl", "lines"), ("brat", "zip")])
def test_an_export_job_is_built_by_the_worker(
    project, members, queue, media_root, start_worker, redis_url, fmt, check
):
    import_sample(project)
    worker = start_worker(queue)
    with celery_broker(redis_url, queue=queue):
        job = export_job_request(project=project, requested_by=members["manager"],
                                 format=fmt, scope="both")

    wait_until(
        lambda: ExportJob.objects.filter(
            pk=job.pk, status__in=[JobStatus.DONE, JobStatus.FAILED]
        ).exists(),
        EXPORT_TIMEOUT,
        f"the worker to build the {fmt} export",
        [worker],
    )
    job.refresh_from_db()
    assert job.status == JobStatus.DONE, f"{job.error}\n{worker.log_tail()}"
    assert (job.progress, job.documents) == (1.0, 3)
    # The worker ran it (the startup banner lists task names too, so look for a task id
    # in brackets, which only a delivered message has): built there, not here.
    assert re.search(r"annotator\.tasks\.export_job_task\[[0-9a-f-]{36}\]",
                     worker.log_tail(200))

    path = media_root / job.file.name
    assert path.is_file(), f"no file at {path}"
    data = path.read_bytes()
    assert job.size == len(data) > 0
    assert job.md5 == hashlib.md5(data).hexdigest()
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no temporary file
    if check == "lines":
        lines = [json.loads(line) for line in data.decode("utf-8").splitlines()]
        assert [line["id"] for line in lines] == ["brief-1", "brief-2", "brief-3"]
    else:
        with zipfile.ZipFile(path) as zf:
            assert zf.testzip() is None
            assert "gold/brief-1.ann" in zf.namelist()
