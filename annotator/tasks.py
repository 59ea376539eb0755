"""Celery tasks: take a row's id, re-fetch, call a service. Idempotent.

Only tasks that can run twice without harm acknowledge late (``acks_late``):
their message stays in the broker until they finish, so a worker killed in
the middle hands the job to another worker (``reject_on_worker_lost`` does the
same when only the pool's child process dies).
"""

from __future__ import annotations

from celery import shared_task

from annotator.services.agreement import agreement_run_execute

#: Soft limit of one agreement run, in seconds. A 10,000-brief project computes
#: in a few minutes on two cores (benchmarks/agreement_run.py); past this the
#: service gets SoftTimeLimitExceeded and records the failure on the row.
AGREEMENT_SOFT_TIME_LIMIT = 30 * 60
#: Hard limit: the worker process is killed if the soft limit could not stop it.
#: It must stay below the broker's visibility timeout (CELERY_VISIBILITY_TIMEOUT,
#: one hour by default), or Redis would hand a still-running job to a second worker.
AGREEMENT_HARD_TIME_LIMIT = AGREEMENT_SOFT_TIME_LIMIT + 5 * 60


def _late_task(name: str, soft_time_limit: int = AGREEMENT_SOFT_TIME_LIMIT,
               time_limit: int = AGREEMENT_HARD_TIME_LIMIT):
    """A task that acknowledges late (see above) with these limits, its result ignored."""
    return shared_task(name=name, acks_late=True, reject_on_worker_lost=True,
                       soft_time_limit=soft_time_limit, time_limit=time_limit,
                       ignore_result=True)


@_late_task("annotator.tasks.agreement_run_task")
def agreement_run_task(run_id: int) -> None:
    """Compute agreement run ``run_id`` (idempotent: a finished run is left alone)."""
    agreement_run_execute(run_id=run_id)


@_late_task("annotator.tasks.agreement_chunk_task")
def agreement_chunk_task(run_id: int, index: int) -> None:
    """Read chunk ``index`` of running run ``run_id`` (idempotent: a stored chunk is kept)."""
    from annotator.services.agreement import agreement_chunk_execute

    agreement_chunk_execute(run_id=run_id, index=index)


@_late_task("annotator.tasks.agreement_pool_task")
def agreement_pool_task(run_id: int, ranks_queued: bool = False) -> None:
    """Pool the chunks of run ``run_id`` into its report (idempotent: a finished run stays);
    its documents' ranks too, unless ``agreement_ranks_task`` was queued for them."""
    from annotator.services.agreement import agreement_run_pool

    agreement_run_pool(run_id=run_id, ranks_queued=ranks_queued)


@_late_task("annotator.tasks.agreement_ranks_task")
def agreement_ranks_task(run_id: int) -> None:
    """Store the documents' ranks of run ``run_id`` beside its pooling (idempotent)."""
    from annotator.services.agreement import agreement_run_rank_documents

    agreement_run_rank_documents(run_id=run_id)


# --- Import jobs (issue 12) ------------------------------------------------------------

#: A 100,000-brief JSONL imports in a few minutes; the limits of the other jobs hold.
IMPORT_SOFT_TIME_LIMIT = AGREEMENT_SOFT_TIME_LIMIT
IMPORT_HARD_TIME_LIMIT = AGREEMENT_HARD_TIME_LIMIT


@_late_task("annotator.tasks.import_job_task", IMPORT_SOFT_TIME_LIMIT, IMPORT_HARD_TIME_LIMIT)
def import_job_task(job_id: int) -> None:
    """Import job ``job_id``'s files (idempotent: one transaction, a finished job stays)."""
    from annotator.services.import_jobs import import_job_execute

    import_job_execute(job_id=job_id)


# --- Export jobs (issue 6) ------------------------------------------------------------

#: Soft limit of one export job, in seconds: a 5,000-brief project exports in
#: under a minute in every format (benchmarks/export_formats.py). Below the
#: broker's visibility timeout, like the agreement limits.
EXPORT_SOFT_TIME_LIMIT = 30 * 60
EXPORT_HARD_TIME_LIMIT = EXPORT_SOFT_TIME_LIMIT + 5 * 60


@_late_task("annotator.tasks.export_job_task", EXPORT_SOFT_TIME_LIMIT, EXPORT_HARD_TIME_LIMIT)
def export_job_task(job_id: int) -> None:
    """Build export job ``job_id`` (idempotent: a finished job is left alone)."""
    from annotator.services.export_jobs import export_job_execute

    export_job_execute(job_id=job_id)


@shared_task(name="annotator.tasks.export_jobs_purge_task", ignore_result=True)
def export_jobs_purge_task() -> int:
    """Delete expired export files and their rows (run it daily from celery beat or cron)."""
    from annotator.services.export_jobs import export_jobs_purge_expired

    return export_jobs_purge_expired()


# --- Suggestion models (issue 16) ---------------------------------------------------------

#: Training on 1,000 briefs takes under a minute (benchmarks/suggestions.py); the limits of
#: the other jobs leave room for far larger projects.
SUGGESTION_SOFT_TIME_LIMIT = AGREEMENT_SOFT_TIME_LIMIT
SUGGESTION_HARD_TIME_LIMIT = AGREEMENT_HARD_TIME_LIMIT


@_late_task("annotator.tasks.suggestion_model_train_task", SUGGESTION_SOFT_TIME_LIMIT,
            SUGGESTION_HARD_TIME_LIMIT)
def suggestion_model_train_task(model_id: int) -> None:
    """Train suggestion model ``model_id`` (idempotent: a finished job is left alone)."""
    from annotator.services.suggestions import suggestion_model_train

    suggestion_model_train(model_id=model_id)
