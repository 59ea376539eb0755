"""Agreement runs: request one, compute it (on the worker), start one after submissions.

A run is a row (``AgreementRun``): the page, the API and the command line
poll it, never Celery's result backend. The life of a run::

    agreement_run_request  -> row PENDING, task queued when the row is committed
    agreement_run_task     -> agreement_run_execute(run_id=...)
    agreement_run_execute  -> RUNNING (attempts + 1), plan, chunks read (here or
                              by agreement_chunk_task on the workers), then
    agreement_run_pool     -> the report, intervals and timings, and (here, or
    agreement_run_rank_documents by agreement_ranks_task beside it) the
                              documents' ranks; DONE when both are stored,
                              or FAILED with the error

Design note (running twice). The task acknowledges late, so a worker that
dies mid-run has its message delivered again to another worker, which runs
the computation from the start: the result is a pure function of the data
(bootstrap resampling is seeded), so the second attempt stores the same
report. A run already DONE or FAILED is left alone, which makes a duplicate
delivery harmless. A run whose worker died ``MAX_ATTEMPTS`` times is marked
failed rather than handed round for ever (a brief that crashes every worker,
for instance by running out of memory, would otherwise never stop).

Design note (chunks). A run first plans: the submitted sets it covers, its
scope (unit, annotators, labels, types) and its documents cut into chunks of
at most WARRANT_AGREEMENT_CHUNK_DOCUMENTS, each fingerprinted by the scope and
its sets' ids and versions (``selectors.agreement.agreement_plan``). A chunk's
sums (``metrics.pooling``) are stored (``AgreementChunk``) and reused by every
later run while its fingerprint holds, so after a submission a run reads one
chunk again, not the project. A chunk is read from the database straight into
arrays (``selectors.agreement.agreement_chunk_columns``: four queries, no object
per span) and its document pairs are matched all at once
(``metrics.report.ChunkColumns``). Chunks not stored yet are read by
``agreement_chunk_task`` on every free worker; the chunk that completes the
set moves the run's ``stage`` from chunks to pooling in one conditional UPDATE
and queues ``agreement_pool_task``, which pools the sums into the report and
the bootstrap (the same figures as one reading, to 1e-12), and
``agreement_ranks_task``, which copies each document's figures from the chunks
into the run's ranks (mostly the database's work) on another worker meanwhile;
the second of the two to store its part marks the run DONE (``_finish``). Every
task acknowledges late and is idempotent, so a worker killed in a chunk has its
chunk delivered again. In the embedded mode, or with one chunk to read, the run
reads, ranks and pools here.

At most one run per project is PENDING (the database constraint
``one_pending_agreement_run_per_project``): new submissions arriving while a
run waits in the queue are covered by that run, since it reads the data when it
starts, not when it was requested.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from functools import partial
from itertools import islice

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from annotator.metrics.types import UNITS
from annotator.models import (
    AgreementChunk,
    AgreementDocumentRank,
    AgreementRun,
    Document,
    JobStatus,
    Project,
    Span,
)
from annotator.prepared import prepared_cursor
from annotator.selectors.agreement import (
    agreement_chunk_columns,
    agreement_document_pks,
    agreement_plan,
    agreement_run_summary,
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
#: Share of the progress bar for reading chunks (after the plan, before pooling).
CHUNK_SHARE = 0.3
#: Stored chunk sums that no run has used for this long are deleted: a chunk
#: whose documents changed is not read again, and other scopes (unit, subsets
#: of annotators) keep theirs while they are in use.
CHUNK_KEEP_SECONDS = 24 * 3600
#: Stored chunks fetched by one query when a run pools them, on other databases than
#: PostgreSQL (each is unpacked as it arrives; about 1 MB of bytes per 1,000 briefs).
POOL_READ_CHUNKS = 20
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


def _enqueue(run_id: int, countdown: float | None = None) -> None:
    from annotator.tasks import agreement_run_task  # tasks import this module

    job_enqueue(agreement_run_task, AgreementRun, run_id, what="run", countdown=countdown)


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
            # An automatic run waits a little on the worker: the submissions that
            # arrive meanwhile are covered by it (they find it pending), so a class
            # submitting at once costs one run, not one per submission.
            wait = settings.WARRANT_AGREEMENT_COALESCE_SECONDS if automatic else None
            transaction.on_commit(partial(_enqueue, run.pk, wait or None))
            return run
        if automatic or (pending.parameters == parameters and not pending.automatic):
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
            # A person asked: the run starts now, not at the end of the automatic run's
            # coalescing wait (its delayed message then finds it started: harmless).
            transaction.on_commit(partial(_enqueue, pending.pk))
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
    is. Otherwise it plans the run (the submitted sets it covers, in chunks of
    documents: see the design note on chunks above), reads the chunks whose
    sums are not stored yet — on the workers, in parallel, when there are
    several and a broker is configured; here otherwise — and pools the stored
    sums into the report and its bootstrap intervals, stored with the data
    version it saw and the time of each phase. Any error is stored on the row
    (status FAILED) rather than raised: the row is where people look.

    Not one transaction on purpose: progress has to be committed as it goes so
    that the page can show it, so each write is its own short transaction
    (marking the run started is one, storing the result another).
    """
    run = _start(run_id)
    if run is None:
        return AgreementRun.objects.filter(pk=run_id).first()
    progress = _Progress(run.pk)
    progress.set(0.0, force=True)
    began = time.perf_counter()
    try:
        params = run.parameters or {}
        plan = agreement_plan(
            project=run.project,
            unit=params.get("unit", "token"),
            chunk_documents=settings.WARRANT_AGREEMENT_CHUNK_DOCUMENTS,
            documents=params.get("documents"),
            annotators=params.get("annotators"),
        )
        plan["keys"] = [chunk["key"] for chunk in plan["chunks"]]
        plan["planned_in"] = time.perf_counter() - began
        AgreementRun.objects.filter(pk=run.pk, status=JobStatus.RUNNING).update(
            plan=plan, stage="chunks", data_version=plan["data_version"]
        )
        progress.set(PHASES["load"][1], force=True)
        _test_delay()
        missing = _missing_chunks(run.project_id, plan["keys"])
        if len(missing) > 1 and _on_workers():
            # Each chunk on whichever worker is free; the last one to finish
            # queues the pooling (agreement_chunk_execute).
            for index in missing:
                job_enqueue(_chunk_task(), AgreementRun, run.pk, what="run",
                            args=(run.pk, index))
            # Without the plan just written (hundreds of kilobytes of JSON at 10,000
            # briefs): this worker's first chunk waits for the task to return.
            return AgreementRun.objects.filter(pk=run.pk).defer(*_LARGE_FIELDS).first()
        for done, index in enumerate(missing, start=1):
            _read_chunk(run.project_id, plan, plan["chunks"][index])
            progress.set(_chunk_progress(done, len(missing)))
        _test_delay()
    except Exception as exc:
        _fail(run.pk, exc, {"total": time.perf_counter() - began})
        return AgreementRun.objects.filter(pk=run.pk).first()
    return agreement_run_pool(run_id=run.pk)


#: A run's fields of up to megabytes, read only by who needs them.
_LARGE_FIELDS = ("plan", "report", "intervals", "report_summary")


def _fail(run_id: int, exc: Exception, timings: dict) -> None:
    logger.exception("agreement run %s failed", run_id)
    AgreementRun.objects.filter(pk=run_id, status=JobStatus.RUNNING).update(
        status=JobStatus.FAILED,
        error=f"{type(exc).__name__}: {exc}"[:2000],
        timings=timings,
        finished_at=timezone.now(),
    )


def _on_workers() -> bool:
    """Whether queued tasks run on worker processes (not in-process, the embedded mode)."""
    from annotator.tasks import agreement_chunk_task  # tasks import this module

    return not agreement_chunk_task.app.conf.task_always_eager


def _chunk_task():
    from annotator.tasks import agreement_chunk_task

    return agreement_chunk_task


def _chunk_progress(done: int, total: int) -> float:
    low, high = PHASES["load"][1], PHASES["report"][0] + CHUNK_SHARE
    return low + (high - low) * done / max(total, 1)


def _missing_chunks(project_id: int, keys: list[str]) -> list[int]:
    """Indexes of the chunks (by their ``keys``) whose sums are not stored yet."""
    stored = set(
        AgreementChunk.objects.filter(project_id=project_id, key__in=keys)
        .values_list("key", flat=True)
    )
    return [k for k, key in enumerate(keys) if key not in stored]


def _read_chunk(project_id: int, plan: dict, chunk: dict) -> None:
    """Read ``chunk`` of ``plan`` (its scope: unit, annotators, labels, types) and store
    its sums (once: a twin is ignored)."""
    from annotator.metrics.pooling import chunk_sums_of_columns

    if AgreementChunk.objects.filter(project_id=project_id, key=chunk["key"]).exists():
        return
    clock = time.process_time()
    project = Project.objects.get(pk=project_id)
    columns = agreement_chunk_columns(project=project, plan=plan, sets=chunk["sets"])
    sums = chunk_sums_of_columns(columns, unit=plan["unit"], annotators=plan["annotators"],
                                 labels=plan["labels"], types=plan["types"])
    _store_chunk(project_id, chunk["key"], len(columns.doc_ids), sums.to_bytes(),
                 time.process_time() - clock)


#: A chunk's sums stored apart from the statement (PostgreSQL).
_INSERT_CHUNK = (
    f"INSERT INTO {AgreementChunk._meta.db_table} (project_id, key, documents, sums, seconds, "
    "created_at, used_at) VALUES (%s, %s, %s, %s, %s, %s, %s) "
    "ON CONFLICT (project_id, key) DO NOTHING")
_SELECT_CHUNK = (f"SELECT sums FROM {AgreementChunk._meta.db_table} "
                 "WHERE project_id = %s AND key = %s")


def _store_chunk(project_id: int, key: str, documents: int, sums: bytes,
                 seconds: float) -> None:
    """Store a chunk's sums, once: a twin another worker stored first (the same sums) is
    kept.

    On PostgreSQL the megabyte of sums goes apart from the statement, as bytes
    (``prepared_cursor``: server-side binding), not written into it as two megabytes of
    hexadecimal text for the database to parse back, as the ORM's client-side binding
    does: a chunk is stored in about 11 ms instead of 40."""
    try:
        with transaction.atomic():
            if connection.vendor != "postgresql":
                AgreementChunk.objects.create(project_id=project_id, key=key,
                                              documents=documents, sums=sums, seconds=seconds)
                return
            now = timezone.now()
            with prepared_cursor() as cursor:
                cursor.execute(_INSERT_CHUNK, [project_id, key, documents, sums, seconds,
                                               now, now])
    except IntegrityError:
        pass  # another worker stored the same chunk first: the same sums


def agreement_chunk_execute(*, run_id: int, index: int) -> None:
    """Read one chunk of a running run on a worker; the last chunk queues the pooling.

    Idempotent: a chunk already stored is not read again, and the pooling is
    queued once (the run's ``stage`` moves from chunks to pooling in one
    conditional UPDATE). A chunk whose worker dies is delivered again.
    """
    # Only this chunk of the plan and the scope: the whole plan lists every set of
    # the run (megabytes at 100,000 briefs), and every chunk task would parse it.
    fields = ("project_id", "plan__unit", "plan__annotators", "plan__labels", "plan__types",
              "plan__keys", f"plan__chunks__{int(index)}")
    row = (AgreementRun.objects.filter(pk=run_id, status=JobStatus.RUNNING)
           .values_list(*fields).first())
    if row is None or row[-1] is None:
        return
    project_id, unit, annotators, labels, types, keys, chunk = row
    scope = {"unit": unit, "annotators": annotators, "labels": labels, "types": types}
    if keys is None:  # a plan made before plans listed their keys
        keys = [c["key"] for c in AgreementRun.objects.get(pk=run_id).plan["chunks"]]
    try:
        _read_chunk(project_id, scope, chunk)
        _test_delay()
        missing = _missing_chunks(project_id, keys)
        _Progress(run_id).set(_chunk_progress(len(keys) - len(missing), len(keys)), force=True)
    except Exception as exc:
        _fail(run_id, exc, {})
        return
    if missing:
        return
    if AgreementRun.objects.filter(pk=run_id, status=JobStatus.RUNNING, stage="chunks").update(
        stage="pooling"
    ):
        from annotator.tasks import agreement_pool_task, agreement_ranks_task

        # The documents' ranks on another worker while this one pools the sums.
        job_enqueue(agreement_ranks_task, AgreementRun, run_id, what="run")
        job_enqueue(agreement_pool_task, AgreementRun, run_id, what="run", args=(run_id, True))


def agreement_run_pool(*, run_id: int, ranks_queued: bool = False) -> AgreementRun | None:
    """Pool a running run's stored chunk sums into its report and intervals, and store them
    with its documents' ranks (:func:`agreement_run_rank_documents`: written here
    first, or by their own task on another worker meanwhile when ``ranks_queued``).

    Idempotent: a run that is no longer RUNNING is left alone. The run is DONE when
    both its report and its ranks are stored, whichever comes last (see
    :func:`_finish`).
    """
    from annotator.metrics.pooling import ChunkSums, histogram_bounds, pool, pooled_figures
    from annotator.metrics.report import REPORT_PROGRESS

    # The plan's scope and chunk keys only: its chunks list every set of the run
    # (tens of megabytes as Python objects at 100,000 briefs).
    run = (AgreementRun.objects.filter(pk=run_id, status=JobStatus.RUNNING)
           .defer(*_LARGE_FIELDS).first())
    if run is None:
        return AgreementRun.objects.filter(pk=run_id).first()
    plan = _plan_scope(run_id)
    progress = _Progress(run.pk)
    timings: dict[str, float] = {}
    began = time.perf_counter()
    _release_free_memory()  # what the chunks read by this worker left to the allocator
    try:
        keys = plan["keys"]
        # The sums of every chunk, without their documents' histograms and figures.
        parts_of: dict[str, ChunkSums] = {}
        for key, sums in _stored_chunks(run.project_id, keys):
            parts_of[key] = ChunkSums.from_bytes(sums, documents=False)
        parts = [parts_of.pop(key) for key in keys]
        AgreementChunk.objects.filter(project_id=run.project_id, key__in=keys).update(
            used_at=timezone.now()
        )
        # Planning and reading the chunks (on any worker), then loading their sums.
        timings["load"] = _total_seconds(run)
        if not ranks_queued:
            agreement_run_rank_documents(run_id=run.pk, finish=False)
        clock = time.perf_counter()
        histograms = _resampling_histograms(
            run.project_id, keys, histogram_bounds(parts, len(plan["labels"])))
        corpus = pool(parts, unit=plan["unit"], annotators=plan["annotators"],
                      labels=plan["labels"], types=plan["types"], histograms=histograms,
                      consume=True)
        del parts, histograms
        _release_free_memory()
        low, high = PHASES["report"][0] + CHUNK_SHARE, PHASES["intervals"][1]
        report_done: list[float] = []

        def figures_progress(fraction: float) -> None:
            built = fraction >= REPORT_PROGRESS and not report_done
            if built:
                report_done.append(time.perf_counter())
            progress.set(low + (high - low) * fraction, force=built)

        report, intervals = pooled_figures(
            run.project.slug, corpus, unit=plan["unit"], n_resamples=BOOTSTRAP_RESAMPLES,
            seed=BOOTSTRAP_SEED, progress=figures_progress,
        )
        del corpus
        timings["report"] = report_done[0] - clock
        timings["intervals"] = time.perf_counter() - report_done[0]
        _add_suggestion_split(report, run)
        progress.set(PHASES["intervals"][1], force=True)
        _test_delay()
        # The report without by_document (the ranks hold each document's figures, for
        # every finished run: selectors.agreement_report writes the whole report).
        if _finish(run, report={
            "report": report, "report_summary": report, "intervals": intervals,
            "data_version": plan["data_version"], "timings": timings,
        }, ranked=not ranks_queued):
            _forget_old_chunks(run.project_id, keys)
    except Exception as exc:
        _fail(run.pk, exc, {**timings, "total": time.perf_counter() - began})
    # The report (megabytes on a large project) is read again only if asked for.
    return AgreementRun.objects.filter(pk=run.pk).defer("report", "intervals").first()


def _plan_scope(run_id: int) -> dict:
    """The run's plan without its chunks' sets (tens of megabytes as Python objects at
    100,000 briefs): its scope, data version and chunk keys."""
    fields = ("unit", "annotators", "labels", "types", "keys", "data_version")
    plan = dict(zip(fields, AgreementRun.objects.filter(pk=run_id).values_list(
        *(f"plan__{name}" for name in fields)).get(), strict=True))
    if plan["keys"] is None:  # a plan made before plans listed their keys
        plan["keys"] = [chunk["key"]
                        for chunk in AgreementRun.objects.get(pk=run_id).plan["chunks"]]
    return plan


#: A running run's ``stage`` once one of its two last parts is stored: the report
#: and its intervals, or the documents' ranks.
REPORTED, RANKED = "reported", "ranked"


def _finish(run: AgreementRun, *, report: dict | None = None, ranked: bool = False) -> bool:
    """Store one last part of the running ``run`` (``report``: the report's fields; or,
    with ``ranked`` alone, that its ranks are written), and mark it DONE when the other
    part is stored too. Returns whether the run is DONE by this call.

    The two parts are stored by two tasks, in either order, each possibly twice: the
    run's row is locked (``FOR NO KEY UPDATE``, which the rank rows' foreign keys do
    not wait for) so that exactly one of them sees the other's part.
    """
    with transaction.atomic():
        stage = (AgreementRun.objects.select_for_update(no_key=True)
                 .filter(pk=run.pk, status=JobStatus.RUNNING)
                 .values_list("stage", flat=True).first())
        if stage is None:
            return False
        fields = dict(report or {})
        if not ((report is not None or stage == REPORTED) and (ranked or stage == RANKED)):
            fields["stage"] = REPORTED if report is not None else RANKED
            AgreementRun.objects.filter(pk=run.pk).update(**fields)
            return False
        timings = fields.get("timings")
        if timings is None:
            timings = AgreementRun.objects.filter(pk=run.pk).values_list(
                "timings", flat=True).get() or {}
        total = _total_seconds(run)
        # Saving: what the run took beyond its load, report and bootstrap (the ranks
        # when they came last, and this).
        timings = {**timings, "total": total, "save": max(0.0, total - sum(
            timings.get(name, 0.0) for name in ("load", "report", "intervals")))}
        fields.update(status=JobStatus.DONE, progress=1.0, timings=timings, stage="",
                      error="", finished_at=timezone.now())
        AgreementRun.objects.filter(pk=run.pk).update(**fields)
        return True


def agreement_run_rank_documents(*, run_id: int, finish: bool = True) -> None:
    """Store a running run's ``AgreementDocumentRank`` rows from its stored chunks: each
    document's figures (computed with its chunk), its place by disagreement and in the
    report. With ``finish``, as a task of its own beside the pooling: mark the ranks
    stored (:func:`_finish`). Idempotent: an earlier attempt's rows are replaced.

    The writing is mostly the database's (PostgreSQL parses each document's figures as
    jsonb and indexes the rows): on another worker than the pooling's, it costs the run
    no time while the pooling and the bootstrap run.
    """
    import numpy as np

    from annotator.metrics.pooling import ChunkSums, ranks_of

    run = (AgreementRun.objects.filter(pk=run_id, status=JobStatus.RUNNING)
           .defer(*_LARGE_FIELDS).first())
    if run is None:
        return
    try:
        keys = _plan_scope(run_id)["keys"]
        # Each document's disagreement, a chunk at a time, for the ranks.
        values_of: dict[str, tuple] = {}
        for key, sums in _stored_chunks(run.project_id, keys):
            values_of[key] = ChunkSums.values_of(sums)
        doc_ids = [doc_id for key in keys for doc_id in values_of[key][0]]
        ranks = ranks_of(doc_ids, np.concatenate([values_of[key][1][:, 0] for key in keys])
                         if keys else np.zeros(0))
        positions = _report_positions(doc_ids)
        sizes = [len(values_of[key][0]) for key in keys]
        del values_of, doc_ids
        clock = time.perf_counter()
        _write_ranks(run.pk, run.project_id, keys, sizes, ranks, positions)
        logger.info("agreement run %s: documents ranked and stored in %.2f s", run.pk,
                    time.perf_counter() - clock)
        if finish and _finish(run, ranked=True):
            _forget_old_chunks(run.project_id, keys)
    except Exception as exc:
        if not finish:
            raise
        _fail(run.pk, exc, {})


def _release_free_memory() -> None:
    """Give the memory freed since the last call back to the system (glibc's
    ``malloc_trim``; nothing elsewhere).

    A worker that read chunks before it pools keeps their freed arrays in its heap:
    glibc serves allocations of a few megabytes from the heap once larger ones have
    been freed, and returns the heap's free pages only when asked; the pooling's
    arrays then come on top of the chunks' high-water mark (issue 12: peak memory
    per worker)."""
    import contextlib
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _stored_chunks(project_id: int, keys: list[str]):
    """(key, stored bytes) of the chunks ``keys`` (those stored), one at a time: the raw
    bytes of every chunk are never held at once.

    On PostgreSQL one query per chunk whose bytes come back as they are (a binary
    result), not as hexadecimal text that the database writes and psycopg decodes,
    and not through a server-side cursor, which Django declares ``WITH HOLD`` outside
    a transaction, so that PostgreSQL copied every chunk of the query into a
    temporary store before the first came back: the 11 chunks of 10,000 briefs are
    read in about 55 ms instead of 150-250 ms, and a run reads them four times."""
    if connection.vendor == "postgresql":
        for key in keys:
            with prepared_cursor() as cursor, connection.wrap_database_errors:
                cursor.cursor.execute(_SELECT_CHUNK, [project_id, key], binary=True)
                row = cursor.cursor.fetchone()
            if row is not None:
                yield key, bytes(row[0])
        return
    for begin in range(0, len(keys), POOL_READ_CHUNKS):
        for key, sums in AgreementChunk.objects.filter(
            project_id=project_id, key__in=keys[begin:begin + POOL_READ_CHUNKS]
        ).values_list("key", "sums").iterator(chunk_size=1):
            yield key, bytes(sums)


def _write_ranks(run_id: int, project_id: int, keys: list[str], sizes: list[int], ranks,
                 positions) -> None:
    """Store the run's ``AgreementDocumentRank`` rows (``ranks`` and ``positions``: each
    document's place by disagreement and in the report, in chunk order) from its chunks'
    figures (by COPY on PostgreSQL), a chunk at a time. Rows of an earlier attempt of
    the run are replaced."""
    from annotator.metrics.pooling import ChunkSums

    starts, at = {}, 0
    for key, size in zip(keys, sizes, strict=True):
        starts[key] = at
        at += size
    with transaction.atomic():
        AgreementDocumentRank.objects.filter(run_id=run_id).delete()
        write = _copy_ranks if connection.vendor == "postgresql" else _create_ranks
        for key, sums in _stored_chunks(project_id, keys):
            doc_ids, values, figures = ChunkSums.figures_of(sums)
            del sums
            pks = agreement_document_pks(project_id=project_id, external_ids=doc_ids)
            first = starts[key]
            write(run_id, [
                (int(ranks[first + k]), int(positions[first + k]), doc_id, pks.get(doc_id),
                 row, text)
                for k, (doc_id, row, text) in enumerate(zip(
                    doc_ids, values.tolist(), figures, strict=True))
            ])


def _resampling_histograms(project_id: int, keys: list[str], bounds) -> list[tuple]:
    """Each chunk's unitizing histograms for the bootstrap
    (``metrics.pooling.resampling_histograms``), read a chunk at a time."""
    from annotator.metrics.pooling import ChunkSums, resampling_histograms

    histograms: dict[str, tuple] = {}
    for key, sums in _stored_chunks(project_id, keys):
        units, gaps = ChunkSums.units_and_gaps_of(sums)
        histograms[key] = resampling_histograms(units, gaps, bounds)
    return [histograms[key] for key in keys]


def _report_positions(doc_ids: list[str]):
    """Each document's place among the keys of the run's report's ``by_document`` as
    the database would give them back (``AgreementDocumentRank.position``): jsonb's
    order on PostgreSQL (length in bytes, then bytewise), the order of reading (the
    project's) elsewhere, as ``services.agreement_reports`` places a run's ranks."""
    import numpy as np

    if connection.vendor != "postgresql":
        return np.arange(len(doc_ids))
    from annotator.selectors.agreement_report import jsonb_key_order

    order = sorted(range(len(doc_ids)), key=lambda k: jsonb_key_order(doc_ids[k]))
    positions = np.empty(len(doc_ids), dtype=np.int64)
    positions[order] = np.arange(len(doc_ids))
    return positions


def _copy_ranks(run_id: int, rows: list[tuple]) -> None:
    """Insert ``rows`` (rank, position, external id, document id, values, figures as JSON)
    into the run's ranks by one COPY."""
    columns = ", ".join(f'"{AgreementDocumentRank._meta.get_field(name).column}"' for name in (
        "run", "rank", "position", "external_id", "document", "disagreement", "alpha",
        "span_f1", "relation_f1", "figures"))
    with connection.cursor() as cursor, cursor.cursor.copy(
        f"COPY {AgreementDocumentRank._meta.db_table} ({columns}) FROM STDIN"
    ) as copy:
        for rank, position, doc_id, pk, values, figures in rows:  # nan: undefined
            copy.write_row((run_id, rank, position, doc_id, pk, *(_defined(x) for x in values),
                            figures))


def _create_ranks(run_id: int, rows: list[tuple]) -> None:
    """As :func:`_copy_ranks`, by ``bulk_create`` (SQLite, the embedded mode)."""
    import json

    AgreementDocumentRank.objects.bulk_create(
        AgreementDocumentRank(
            run_id=run_id, rank=rank, position=position, external_id=doc_id, document_id=pk,
            disagreement=_defined(values[0]), alpha=_defined(values[1]),
            span_f1=_defined(values[2]), relation_f1=_defined(values[3]),
            figures=json.loads(figures))
        for rank, position, doc_id, pk, values, figures in rows)


def _defined(value: float) -> float | None:
    """A figure as stored: None for an undefined one (nan)."""
    return None if value != value else value


def _add_suggestion_split(report: dict, run: AgreementRun) -> None:
    """Figures split by spans from accepted suggestions and by hand (issue 16), when the
    run's sets have any of the first: ``report["suggestions"]``."""
    from annotator.selectors.suggestions import suggestion_split

    # Most projects have no accepted suggestion at all: one EXISTS over the project's
    # submitted sets (a superset of the run's) says so without sending the run's
    # set ids (300,000 of them at 100,000 briefs) to the database.
    project = run.project
    if not Span.objects.filter(
        annotation_set__in=submitted_sets(project=project).values("id")
    ).exclude(suggested_by="").exists():
        return
    chunks = AgreementRun.objects.filter(pk=run.pk).values_list("plan__chunks", flat=True).get()
    set_ids = [set_id for chunk in chunks for set_id, _ in chunk["sets"]]
    split = suggestion_split(project=project, set_ids=set_ids)
    if split is not None:
        report["suggestions"] = split


#: Rows written by one INSERT when a run's documents are ranked.
RANK_BATCH = 5000


def agreement_run_finished(*, project: Project) -> AgreementRun | None:
    """The newest finished run with its summary and ranks (``agreement_run_summary``);
    a run finished before they were stored (or restored from a backup) gets them
    here, on its first view."""
    done = agreement_run_summary(project=project)
    if done is not None and done.report_summary is None:
        agreement_run_rank(run=AgreementRun.objects.get(pk=done.pk))
        done = agreement_run_summary(project=project)
    return done


def agreement_run_rank(*, run: AgreementRun, report: dict | None = None) -> None:
    """Store the finished run's documents by disagreement (``AgreementDocumentRank``)
    from its stored report's ``by_document``, and its ``report_summary``: the agreement
    page reads a page of ranks and the summary instead of sorting and decoding the
    whole report on every view (issue 12).

    For a run whose report holds ``by_document``: ``agreement_run_finished`` calls it
    for a run finished before the ranks existed (or restored from a backup). Running
    it twice does no harm.
    """
    # annotator.metrics imports numpy and scipy: only when a report is ranked.
    from annotator.metrics.report import document_disagreement, documents_by_disagreement

    report = run.report if report is None else report
    by_document = (report or {}).get("by_document") or {}
    pks = dict(Document.objects.filter(project_id=run.project_id)
               .values_list("external_id", "pk"))
    rows = (
        AgreementDocumentRank(
            run_id=run.pk, rank=rank, external_id=external_id, document_id=pks.get(external_id),
            disagreement=document_disagreement(figures),
            alpha=figures["krippendorff_alpha"]["value"],
            span_f1=figures["span_f1"]["exact"]["value"],
            relation_f1=figures["relation_f1"]["value"], figures=figures,
        )
        for rank, external_id in enumerate(documents_by_disagreement(report), start=1)
        for figures in (by_document[external_id],)
    )
    with transaction.atomic():
        while batch := list(islice(rows, RANK_BATCH)):
            AgreementDocumentRank.objects.bulk_create(batch, ignore_conflicts=True)
        AgreementRun.objects.filter(pk=run.pk).update(report_summary={
            key: value for key, value in (report or {}).items() if key != "by_document"})


def _total_seconds(run: AgreementRun) -> float:
    """Wall time since the run started (its chunks may have run on other workers)."""
    return (timezone.now() - run.started_at).total_seconds() if run.started_at else 0.0


def _forget_old_chunks(project_id: int, keep: list[str]) -> None:
    """Drop stored chunks that no run has used for a while (superseded by new data)."""
    stale = timezone.now() - timedelta(seconds=CHUNK_KEEP_SECONDS)
    AgreementChunk.objects.filter(project_id=project_id, used_at__lt=stale).exclude(
        key__in=keep
    ).delete()
