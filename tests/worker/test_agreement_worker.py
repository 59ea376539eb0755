"""Agreement runs on a real Celery worker process, against Redis.

* a run requested from the page completes on the worker, and the page's
  polling stops (HTTP 286) with the report;
* ``manage.py agreement`` goes through the worker when a broker is configured;
* a worker killed with SIGKILL in the middle of a run: its message stays in
  Redis (the task acknowledges late), another worker gets it once the
  visibility timeout has passed, and the run completes once, with the same
  report as an in-process computation.
"""

from __future__ import annotations

import json
import time
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from annotator.metrics.report import bootstrap_intervals, build_report
from annotator.models import AgreementRun, JobStatus
from annotator.selectors.agreement import agreement_data
from annotator.services import agreement as agreement_service
from annotator.services.agreement import agreement_run_request
from tests.agreement_helpers import annotated_project, celery_broker, full_report
from tests.live import wait_until

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

#: A run of the small test project takes well under a second; this is the limit.
RUN_TIMEOUT = 30
#: The killed worker's message is handed out again after this (seconds).
SHORT_VISIBILITY_TIMEOUT = 2
#: Per phase (load, report, intervals) of the run on the worker that gets killed:
#: the run lasts about 3 x this, long enough to be killed in the middle.
SLOW_RUN_DELAY = 2.0


def in_process_result(project, run: AgreementRun):
    """What the embedded mode computes for the same parameters."""
    params = run.parameters
    data = agreement_data(project=project, documents=params["documents"],
                          annotators=params["annotators"])
    report = build_report(project.slug, data.documents, unit=params["unit"],
                          annotators=data.annotators)
    intervals = bootstrap_intervals(
        data.documents, unit=params["unit"], annotators=data.annotators,
        n_resamples=agreement_service.BOOTSTRAP_RESAMPLES, seed=agreement_service.BOOTSTRAP_SEED,
    )
    return report, intervals


def test_a_run_requested_from_the_page_completes_on_the_worker(
    client_for, project, queue, start_worker, redis_url
):
    annotated_project(project)
    worker = start_worker(queue)
    client = client_for("manager")
    with celery_broker(redis_url, queue=queue):
        response = client.post(
            reverse("agreement-run", kwargs={"slug": project.slug}), {"unit": "token"}
        )
    assert response.status_code == 302
    run = AgreementRun.objects.get()
    status_url = reverse(
        "agreement-run-status", kwargs={"slug": project.slug, "run_id": run.pk}
    )

    def poll():
        response = client.get(status_url, HTTP_HX_REQUEST="true")
        return response if response.status_code == 286 else None

    stopped = wait_until(poll, RUN_TIMEOUT, "the page's polling to stop", [worker])
    assert stopped["HX-Retarget"] == "#agreement-run"
    assert "Krippendorff&#x27;s alpha (nominal)" in stopped.content.decode()
    run.refresh_from_db()
    assert (run.status, run.attempts, run.progress) == (JobStatus.DONE, 1, 1.0)
    report, intervals = in_process_result(project, run)
    assert full_report(run) == report
    assert run.intervals == intervals


def test_the_command_computes_through_the_worker(project, members, queue, start_worker,
                                                 redis_url):
    annotated_project(project)
    start_worker(queue)
    out = StringIO()
    with celery_broker(redis_url, queue=queue):
        call_command("agreement", project.slug, "--json", "--timeout", str(RUN_TIMEOUT),
                     stdout=out)
    run = AgreementRun.objects.get()
    assert run.status == JobStatus.DONE
    printed = json.loads(out.getvalue())
    # The command prints the run's report with what makes it citable around it.
    whole = full_report(run)
    assert {k: printed[k] for k in whole} == whole
    assert printed["run"]["id"] == run.pk
    assert printed["intervals"]["intervals"] == run.intervals["intervals"]


def test_a_worker_killed_mid_run_is_replaced_and_the_run_completes_once(
    project, members, queue, start_worker, redis_url
):
    annotated_project(project)
    doomed = start_worker(queue, delay=SLOW_RUN_DELAY)
    with celery_broker(redis_url, queue=queue):
        run = agreement_run_request(project=project, requested_by=members["manager"])

    # In the middle: data loaded (progress written to the row), report not yet stored.
    wait_until(
        lambda: AgreementRun.objects.filter(
            pk=run.pk, status=JobStatus.RUNNING, progress__gt=0
        ).exists(),
        RUN_TIMEOUT,
        "the first worker to start the run",
        [doomed],
    )
    doomed.kill()
    run.refresh_from_db()
    assert (run.status, run.attempts, run.report) == (JobStatus.RUNNING, 1, None)

    # The replacement looks for abandoned messages older than its visibility timeout.
    replacement = start_worker(queue, visibility_timeout=SHORT_VISIBILITY_TIMEOUT)
    wait_until(
        lambda: AgreementRun.objects.filter(pk=run.pk, status=JobStatus.DONE).exists(),
        RUN_TIMEOUT,
        "the replacement worker to finish the run",
        [doomed, replacement],
    )
    run.refresh_from_db()
    assert run.attempts == 2
    report, intervals = in_process_result(project, run)
    assert full_report(run) == report
    assert run.intervals == intervals

    # Once: a further delivery (the replacement's own sweeps) changes nothing.
    finished_at = run.finished_at
    time.sleep(SHORT_VISIBILITY_TIMEOUT + 1)
    run.refresh_from_db()
    assert (run.status, run.attempts, run.finished_at) == (JobStatus.DONE, 2, finished_at)
    assert AgreementRun.objects.count() == 1
    assert "agreement_run_task" in replacement.log_tail(200)
