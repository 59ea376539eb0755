"""Agreement runs: request one, compute it (on the worker), start one after submissions.

A run is a row (``AgreementRun``): the page, the API and the command line
poll it, never Celery's result backend. The life of a run::

    agreement_run_request  -> row PENDING, task queued when the row is committed
    agreement_run_task     -> agreement_run_execute(run_id=...)
    agreement_run_execute  -> RUNNING (attempts + 1), progress written as it goes,
                              then DONE with report, intervals and timings,
                              or FAILED with the error

Design note (running twice). The task acknowledges late, so a worker that
dies mid-run has its message delivered again to another worker, which runs
the computation from the start: the result is a pure function of the data
(bootstrap resampling is seeded), so the second attempt stores the same
report. A run already DONE or FAILED is left alone, which makes a duplicate
delivery harmless. A run whose worker died ``MAX_ATTEMPTS`` times is marked
failed rather than handed round for ever (a brief that crashes every worker,
for instance by running out of memory, would otherwise never stop).

At most one run per project is PENDING (the database constraint
``one_pending_agreement_run_per_project``): new submissions arriving while a
run waits in the queue are covered by that run, since it reads the data when it
starts, not when it was requested.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from functools import partial

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from annotator.metrics.types import UNITS
from annotator.models import AgreementRun, JobStatus, Project
from annotator.selectors.agreement import (
    agreement_data,
    agreement_runs,
    submitted_sets,
)

from .errors import WarrantError
from .jobs import job_enqueue, slow_down_for_tests

logger = logging.getLogger(__name__)

#: A run whose worker died this many times is failed instead of redelivered again.
MAX_ATTEMPTS = 3
#: Progress is written to the row at most this often: the page polls once a
#: second, and a write per document would slow a large run down for nothing.
PROGRESS_WRITE_INTERVAL = 0.5
#: Share of the progress bar given to each phase. The report and its intervals
#: are computed in one pass whose own progress moves the bar evenly from the
#: start of "report" to the end of "intervals".
PHASES = {"load": (0.0, 0.1), "report": (0.1, 0.5), "intervals": (0.5, 0.95)}
#: A pending run older than this is queued again when someone asks for a run:
#: a broker that restarted without persistence may have lost its message, and
#: queuing a run twice is harmless (see the design note above).
REQUEUE_PENDING_AFTER_SECONDS = 10 * 60
#: Bootstrap resamples for the confidence intervals of the headline figures.
BOOTSTRAP_RESAMPLES = 1000
BOOTSTRAP_SEED = 0


def _clean_parameters(
    *,
    project: Project,
    unit: str,
    documents: Sequence[str] | None,
    annotators: Sequence[str] | None,
) -> dict:
    """Check a run's parameters; return them as stored on the row."""
    if unit not in UNITS:
        raise WarrantError(f"unknown unit {unit!r} (units: {', '.join(UNITS)})")
    parameters: dict = {"unit": unit, "documents": None, "annotators": None}
    if documents is not None:
        wanted = list(dict.fromkeys(str(d).strip() for d in documents if str(d).strip()))
        if not wanted:
            raise WarrantError("the subset of documents is empty")
        known = set(
            project.documents.filter(external_id__in=wanted).values_list("external_id", flat=True)
        )
        missing = [d for d in wanted if d not in known]
        if missing:
            raise WarrantError(f"no such document in {project.slug}: {', '.join(missing[:10])}")
        parameters["documents"] = wanted
    if annotators is not None:
        wanted = list(dict.fromkeys(str(a).strip() for a in annotators if str(a).strip()))
        if not wanted:
            raise WarrantError("the subset of annotators is empty")
        known = set(
            submitted_sets(project=project, annotators=wanted)
            .values_list("annotator__username", flat=True)
            .distinct()
        )
        missing = [a for a in wanted if a not in known]
        if missing:
            raise WarrantError(
                f"no submitted annotation set in {project.slug} by: {', '.join(missing[:10])}"
            )
        parameters["annotators"] = sorted(wanted)
    return parameters


def _enqueue(run_id: int) -> None:
    from annotator.tasks import agreement_run_task  # tasks import this module

    job_enqueue(agreement_run_task, AgreementRun, run_id, what="run")


@transaction.atomic
def agreement_run_request(
    *,
    project: Project,
    requested_by=None,
    unit: str = "token",
    documents: Sequence[str] | None = None,
    annotators: Sequence[str] | None = None,
    automatic: bool = False,
) -> AgreementRun:
    """Ask for an agreement run of ``project``; return the run that will do it.

    Parameters
    ----------
    project : Project
    requested_by : User, optional
        Who asked (None for automatic runs and scripts).
    unit : {"token", "char"}
    documents : sequence of str, optional
        External ids of a subset of documents; all when None.
    annotators : sequence of str, optional
        Usernames of a subset of annotators; all when None.
    automatic : bool
        True when new submissions, not a person, asked.

    Returns
    -------
    AgreementRun
        The new PENDING run, queued once this transaction commits; or the run
        already pending for the project when it will compute the same thing
        (an automatic request is always covered by the pending run). A manual
        request takes over a pending automatic run, which has not started.

    Raises
    ------
    WarrantError
        Unknown unit, document or annotator; or another person's run with
        different parameters is already waiting.
    """
    parameters = _clean_parameters(
        project=project, unit=unit, documents=documents, annotators=annotators
    )
    for _ in range(3):  # a concurrent request may create or start the pending run meanwhile
        pending = (
            AgreementRun.objects.filter(project=project, status=JobStatus.PENDING)
            .defer("report", "intervals")
            .first()
        )
        if pending is None:
            try:
                with transaction.atomic():  # a savepoint: the unique constraint may refuse
                    run = AgreementRun.objects.create(
                        project=project,
                        requested_by=requested_by,
                        automatic=automatic,
                        parameters=parameters,
                    )
            except IntegrityError:
                continue  # another request created the pending run first
            transaction.on_commit(partial(_enqueue, run.pk))
            return run
        if automatic or pending.parameters == parameters:
            _requeue_if_stale(pending)
            return pending
        if not pending.automatic:
            raise WarrantError(
                f"agreement run #{pending.pk} with other parameters is waiting to start; "
                "ask again when it has started"
            )
        taken = AgreementRun.objects.filter(pk=pending.pk, status=JobStatus.PENDING).update(
            parameters=parameters, automatic=False, requested_by=requested_by
        )
        if taken:
            pending.refresh_from_db(fields=["parameters", "automatic", "requested_by"])
            _requeue_if_stale(pending)
            return pending
    raise WarrantError("agreement runs are being requested concurrently; try again")


def _requeue_if_stale(run: AgreementRun) -> None:
    age = (timezone.now() - run.created_at).total_seconds()
    if age > REQUEUE_PENDING_AFTER_SECONDS:
        transaction.on_commit(partial(_enqueue, run.pk))


def agreement_after_submission(*, project_id: int) -> AgreementRun | None:
    """Start an automatic run after new submissions (cheap and safe to call often).

    Called through ``transaction.on_commit`` by ``annotation_set_submit``.
    Costs two or three small queries: when a run is already pending, it will
    read the new submission too, and nothing is added. The automatic run uses
    the unit of the project's latest run, so the page keeps showing the
    figures the manager chose. Never raises: a submission must not fail
    because agreement could not be queued.
    """
    try:
        project = Project.objects.get(pk=project_id)
        unit = (
            agreement_runs(project=project).values_list("parameters__unit", flat=True).first()
        )
        return agreement_run_request(
            project=project, unit=unit if unit in UNITS else "token", automatic=True
        )
    except Exception:
        logger.exception("could not start an automatic agreement run for project %s", project_id)
        return None


# --- Computing a run ----------------------------------------------------------------


class _Progress:
    """Write a run's progress to its row, at most every PROGRESS_WRITE_INTERVAL."""

    def __init__(self, run_id: int):
        self.run_id = run_id
        self.last_write = 0.0
        self.value = 0.0

    def set(self, value: float, *, force: bool = False) -> None:
        value = min(max(float(value), 0.0), 1.0)
        if value < self.value:
            return
        self.value = value
        now = time.monotonic()
        if force or now - self.last_write >= PROGRESS_WRITE_INTERVAL:
            self.last_write = now
            AgreementRun.objects.filter(pk=self.run_id, status=JobStatus.RUNNING).update(
                progress=value
            )

    def phase(self, name: str) -> Callable:
        """A callback for one phase, mapping its own 0..1 onto the phase's share."""
        low, high = PHASES[name]

        def report(fraction: float) -> None:
            self.set(low + (high - low) * fraction)

        return report


def _test_delay() -> None:
    """Between phases: lets the worker tests kill a run in the middle (tests/worker)."""
    slow_down_for_tests("WARRANT_AGREEMENT_TEST_DELAY")


def _start(run_id: int) -> AgreementRun | None:
    """Mark the run RUNNING (one more attempt), or return None when there is nothing to do."""
    with transaction.atomic():
        run = (
            AgreementRun.objects.select_for_update()
            .defer("report", "intervals")
            .filter(pk=run_id)
            .first()
        )
        if run is None or run.status in (JobStatus.DONE, JobStatus.FAILED):
            return None
        if run.attempts >= MAX_ATTEMPTS:
            run.status = JobStatus.FAILED
            run.error = (
                f"gave up after {run.attempts} attempts: the worker stopped during each "
                "(out of memory, or killed)"
            )
            run.finished_at = timezone.now()
            run.save(update_fields=["status", "error", "finished_at"])
            return None
        run.status = JobStatus.RUNNING
        run.attempts = F("attempts") + 1
        run.progress = 0.0
        run.error = ""
        run.started_at = timezone.now()
        run.save(update_fields=["status", "attempts", "progress", "error", "started_at"])
        run.refresh_from_db(fields=["attempts"])
        return run


def agreement_run_execute(*, run_id: int) -> AgreementRun | None:
    """Compute an agreement run; idempotent.

    Re-fetches the row: a run that is DONE or FAILED (or deleted) is left as it
    is. Otherwise it reads the submitted sets, builds the report and its
    bootstrap intervals, and stores them with the data version it saw and the
    time of each phase. Any error is stored on the row (status FAILED) rather
    than raised: the row is where people look.

    Not one transaction on purpose: progress has to be committed as it goes so
    that the page can show it, so each write is its own short transaction
    (marking the run started is one, storing the result another).
    """
    from annotator.metrics.report import REPORT_PROGRESS, agreement_figures

    run = _start(run_id)
    if run is None:
        return AgreementRun.objects.filter(pk=run_id).first()
    progress = _Progress(run.pk)
    progress.set(0.0, force=True)
    timings: dict[str, float] = {}
    began = time.perf_counter()
    try:
        params = run.parameters or {}
        unit = params.get("unit", "token")
        clock = time.perf_counter()
        data = agreement_data(
            project=run.project,
            documents=params.get("documents"),
            annotators=params.get("annotators"),
        )
        timings["load"] = time.perf_counter() - clock
        progress.set(PHASES["load"][1], force=True)
        _test_delay()

        # One pass: the report and its intervals come from the same per-document
        # sums, and its progress moves the bar evenly across both phases (reading
        # the documents takes most of the time, the bootstrap little).
        clock = time.perf_counter()
        low, high = PHASES["report"][0], PHASES["intervals"][1]
        report_done: list[float] = []  # when the report was built, and after the delay

        def figures_progress(fraction: float) -> None:
            built = fraction >= REPORT_PROGRESS and not report_done
            if built:
                report_done.append(time.perf_counter())
            progress.set(low + (high - low) * fraction, force=built)
            if built:
                _test_delay()
                report_done.append(time.perf_counter())

        report, intervals = agreement_figures(
            run.project.slug,
            data.documents,
            unit=unit,
            annotators=data.annotators,
            n_resamples=BOOTSTRAP_RESAMPLES,
            seed=BOOTSTRAP_SEED,
            progress=figures_progress,
        )
        timings["report"] = report_done[0] - clock
        timings["intervals"] = time.perf_counter() - report_done[1]
        progress.set(PHASES["intervals"][1], force=True)
        _test_delay()

        clock = time.perf_counter()
        timings["save"] = 0.0
        timings["total"] = time.perf_counter() - began
        with transaction.atomic():
            stored = AgreementRun.objects.filter(pk=run.pk, status=JobStatus.RUNNING).update(
                status=JobStatus.DONE,
                progress=1.0,
                report=report,
                intervals=intervals,
                data_version=data.data_version,
                timings=timings,
                error="",
                finished_at=timezone.now(),
            )
        timings["save"] = time.perf_counter() - clock
        timings["total"] = time.perf_counter() - began
        if stored:
            AgreementRun.objects.filter(pk=run.pk).update(timings=timings)
    except Exception as exc:
        logger.exception("agreement run %s failed", run.pk)
        AgreementRun.objects.filter(pk=run.pk, status=JobStatus.RUNNING).update(
            status=JobStatus.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:2000],
            timings={**timings, "total": time.perf_counter() - began},
            finished_at=timezone.now(),
        )
    return AgreementRun.objects.filter(pk=run.pk).first()
