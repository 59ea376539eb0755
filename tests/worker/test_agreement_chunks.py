"""Agreement runs in chunks over real Celery workers (issue 12, point 4).

* a run of a project cut into several chunks is read by both workers and
  pooled into the report of one in-process reading, to 1e-12;
* a worker killed in the middle of a chunk: the chunk's message is handed to
  another worker, and the run still ends with one correct report.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from annotator.metrics.report import agreement_figures
from annotator.models import AgreementChunk, AgreementRun, JobStatus
from annotator.selectors.agreement import agreement_data
from annotator.services import agreement as agreement_service
from annotator.services.agreement import agreement_run_request
from tests.agreement_helpers import celery_broker, full_report
from tests.live import wait_until
from tests.metrics.test_pooling import assert_close
from tests.scale import build_project

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

#: Documents per chunk on the workers: the project below makes 6 or 7 chunks.
CHUNK = 4
DOCUMENTS = 24
RUN_TIMEOUT = 60
SHORT_VISIBILITY_TIMEOUT = 2


def in_process(project):
    data = agreement_data(project=project)
    return agreement_figures(
        project.slug, data.documents, unit="token", annotators=data.annotators,
        n_resamples=agreement_service.BOOTSTRAP_RESAMPLES, seed=agreement_service.BOOTSTRAP_SEED,
    )


@pytest.fixture
def chunked_project(settings):
    settings.WARRANT_AGREEMENT_CHUNK_DOCUMENTS = CHUNK
    built = build_project(slug="chunked", documents=DOCUMENTS, students=3, spans=12,
                          relations=5, words=150, with_jobs=False)
    return built.project


def chunk_tasks(worker) -> tuple[int, int]:
    """(received, succeeded) agreement_chunk_task messages in a worker's log."""
    log = worker.log_tail(100_000)
    received = len(re.findall(r"Task annotator\.tasks\.agreement_chunk_task\[[^]]*\] received",
                              log))
    done = len(re.findall(r"Task annotator\.tasks\.agreement_chunk_task\[[^]]*\] succeeded",
                          log))
    return received, done


def test_a_run_in_chunks_uses_both_workers_and_equals_one_reading(
    chunked_project, queue, start_worker, redis_url
):
    env = {"WARRANT_AGREEMENT_CHUNK_DOCUMENTS": str(CHUNK)}
    workers = [start_worker(queue, delay=0.3, extra_env=env) for _ in range(2)]
    with celery_broker(redis_url, queue=queue):
        run = agreement_run_request(project=chunked_project)
    wait_until(
        lambda: AgreementRun.objects.filter(pk=run.pk, status=JobStatus.DONE).exists(),
        RUN_TIMEOUT, "the run to finish on the workers", workers,
    )
    run.refresh_from_db()
    chunks = run.plan["chunks"]
    # Cut every CHUNK documents by id, so 6 or 7 chunks for 24 documents.
    assert len(chunks) >= DOCUMENTS // CHUNK
    assert sum(c["documents"] for c in chunks) == DOCUMENTS
    assert AgreementChunk.objects.filter(project=chunked_project).count() == len(chunks)
    # Both workers read chunks.
    assert all(chunk_tasks(w)[1] >= 1 for w in workers), [chunk_tasks(w) for w in workers]
    report, intervals = in_process(chunked_project)
    assert_close(full_report(run), report)
    assert_close(run.intervals, intervals)


def test_a_worker_killed_mid_chunk_still_gives_one_correct_report(
    chunked_project, queue, start_worker, redis_url
):
    env = {"WARRANT_AGREEMENT_CHUNK_DOCUMENTS": str(CHUNK)}
    doomed = start_worker(queue, delay=1.5, extra_env=env)
    steady = start_worker(queue, delay=1.5, extra_env=env)
    with celery_broker(redis_url, queue=queue):
        run = agreement_run_request(project=chunked_project)

    def doomed_mid_chunk():
        received, done = chunk_tasks(doomed)
        return received > done

    wait_until(doomed_mid_chunk, RUN_TIMEOUT, "the first worker to start a chunk",
               [doomed, steady])
    doomed.kill()
    run.refresh_from_db()
    assert run.status == JobStatus.RUNNING and run.stage == "chunks"

    # The replacement looks for abandoned messages older than its visibility timeout.
    replacement = start_worker(queue, delay=0.1, visibility_timeout=SHORT_VISIBILITY_TIMEOUT,
                               extra_env=env)
    wait_until(
        lambda: AgreementRun.objects.filter(pk=run.pk, status=JobStatus.DONE).exists(),
        RUN_TIMEOUT, "the run to finish without the killed worker",
        [doomed, steady, replacement],
    )
    run.refresh_from_db()
    assert AgreementRun.objects.count() == 1
    assert AgreementChunk.objects.filter(project=chunked_project).count() == len(
        run.plan["chunks"]
    )
    report, intervals = in_process(chunked_project)
    assert_close(full_report(run), report)
    assert_close(run.intervals, intervals)


def test_automatic_runs_wait_so_that_submissions_meanwhile_join_them(
    settings, queue, start_worker, redis_url
):
    """Two submissions within the window: one automatic run covers both."""
    from annotator.models import AnnotationSet
    from annotator.services.annotations import annotation_set_reopen, annotation_set_submit

    settings.WARRANT_AGREEMENT_COALESCE_SECONDS = 3
    built = build_project(slug="coalesce", documents=4, students=2, spans=6, relations=2,
                          with_jobs=False)
    # Grades not released: released grades would close these graded sets (issue 11).
    built.project.allow_reopen = True
    built.project.grades_released = False
    built.project.save(update_fields=["allow_reopen", "grades_released"])
    worker = start_worker(queue)
    first, second = built.sets[0], built.sets[3]
    for aset in (first, second):  # back to in progress (runs in-process: no broker yet)
        annotation_set_reopen(annotation_set=aset, expected_version=aset.version)
    before = set(AgreementRun.objects.values_list("pk", flat=True))
    with celery_broker(redis_url, queue=queue):
        for aset in (first, second):
            aset.refresh_from_db()
            annotation_set_submit(annotation_set=aset, expected_version=aset.version)
    runs = AgreementRun.objects.filter(project=built.project).exclude(pk__in=before)
    assert runs.count() == 1 and runs.get().status == JobStatus.PENDING
    wait_until(lambda: runs.filter(status=JobStatus.DONE).exists(), RUN_TIMEOUT,
               "the automatic run", [worker])
    run = runs.get()
    assert run.automatic
    assert run.started_at - run.created_at >= timedelta(seconds=2.5)
    assert AnnotationSet.objects.get(pk=second.pk).status == "submitted"
    report, _ = in_process(built.project)
    assert_close(full_report(run), report)
