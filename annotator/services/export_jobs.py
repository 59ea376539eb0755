"""Export jobs: request one, build it on the worker, serve it for a while, purge it.

A job is a row (``ExportJob``); the page and the API poll it, never Celery's
result backend. The life of a job::

    export_job_request  -> row PENDING, task queued when the row is committed
    export_job_task     -> export_job_execute(job_id=...)
    export_job_execute  -> RUNNING, progress written as documents stream out,
                           then DONE with the file, its size, md5 and counts,
                           or FAILED with the error and no file
    export_jobs_purge_expired -> files past expires_at deleted with their rows

Design note (running twice). The task acknowledges late, so a worker that
dies mid-export has its message delivered again. A second run of a RUNNING
job starts over: the file is built under a temporary name and only renamed to
the job's file name when complete, so no reader ever sees half a file, and
the final name is the same on each attempt; the temporary file a killed
attempt left behind is removed when the next one starts (tested with a real
worker SIGKILLed mid-export in tests/faults/). A DONE or FAILED job is left
alone, which makes a duplicate delivery harmless.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import time
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from annotator.models import ExportJob, ExportScope, JobStatus, Project

from .errors import WarrantError
from .exports import EXPORT_FORMATS, export_formats, export_options_check, export_write
from .jobs import job_enqueue, slow_down_for_tests

logger = logging.getLogger(__name__)

#: How long a finished export stays downloadable: long enough to fetch it after
#: a weekend, short enough that old copies of the data do not pile up.
EXPORT_RETENTION = timedelta(days=7)
#: Folder of export files under MEDIA_ROOT (the FileField's upload_to).
EXPORT_FOLDER = "exports"
#: Progress is written to the row at most this often (the page polls every second).
PROGRESS_WRITE_INTERVAL = 0.5


def _enqueue(job_id: int) -> None:
    from annotator.tasks import export_job_task  # tasks import this module

    job_enqueue(export_job_task, ExportJob, job_id, what="export")


@transaction.atomic
def export_job_request(
    *, project: Project, requested_by, format: str, scope: str = ExportScope.BOTH,
    parameters: dict | None = None,
) -> ExportJob:
    """Ask for an export of ``project``; the job is queued when this transaction commits.

    Parameters
    ----------
    project : Project
    requested_by : User
        Whom the export is for: its file holds only the sets they may read, and
        only they (and those who read every set) see the job.
    format : str
        One of ``export_formats()``.
    scope : {"gold", "annotators", "both"}
    parameters : dict, optional
        Options of the format (``seed``, ``license``, ``language`` for hf).

    Raises
    ------
    WarrantError
        Unknown format or scope, or options that ``export_options_check`` refuses.
    """
    if format not in EXPORT_FORMATS:
        raise WarrantError(
            f"unknown export format {format!r} (available: {', '.join(export_formats())})"
        )
    if scope not in ExportScope.values:
        raise WarrantError(f"unknown scope {scope!r} (scopes: {', '.join(ExportScope.values)})")
    if requested_by is None:
        raise WarrantError("an export job is made for someone: give requested_by")
    job = ExportJob.objects.create(
        project=project,
        requested_by=requested_by,
        format=format,
        scope=scope,
        parameters=export_options_check(parameters),
    )
    job_id = job.pk
    transaction.on_commit(lambda: _enqueue(job_id))
    return job


def _start(job_id: int) -> ExportJob | None:
    """Mark the job RUNNING, or return None when there is nothing to do."""
    with transaction.atomic():
        job = ExportJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status in (JobStatus.DONE, JobStatus.FAILED):
            return None
        job.status = JobStatus.RUNNING
        job.progress = 0.0
        job.error = ""
        job.started_at = timezone.now()
        job.save(update_fields=["status", "progress", "error", "started_at"])
        return job


def export_file_name(job: ExportJob) -> str:
    """The job's file, relative to MEDIA_ROOT; the same on every attempt."""
    suffix = EXPORT_FORMATS[job.format].suffix
    return f"{EXPORT_FOLDER}/{job.project.slug}-{job.pk}-{job.format}-{job.scope}{suffix}"


def download_name(job: ExportJob) -> str:
    """The file name offered to the browser."""
    suffix = EXPORT_FORMATS[job.format].suffix
    day = (job.finished_at or job.created_at).strftime("%Y-%m-%d")
    return f"{job.project.slug}-{job.format}-{job.scope}-{day}{suffix}"


def _md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def export_job_execute(*, job_id: int) -> ExportJob | None:
    """Build an export job's file; idempotent.

    Re-fetches the row: a DONE or FAILED (or deleted) job is left as it is.
    Otherwise the export streams into ``MEDIA_ROOT/exports/`` through a
    temporary file; on success the row gets the file, size, md5, counts,
    ``finished_at`` and ``expires_at`` (now + ``EXPORT_RETENTION``). Any error
    is stored on the row (FAILED) rather than raised, and no file is left.
    Expired jobs are purged first (the worker has no scheduler in the embedded mode).
    """
    job = _start(job_id)
    if job is None:
        return ExportJob.objects.filter(pk=job_id).first()
    try:  # cheap, and keeps the embedded mode (no scheduler) from piling up old files
        export_jobs_purge_expired()
    except Exception:
        logger.exception("could not purge expired exports")
    name = export_file_name(job)
    target = Path(settings.MEDIA_ROOT) / name
    last_write = 0.0

    def progress(done: int, total: int) -> None:
        nonlocal last_write
        now = time.monotonic()
        if total and now - last_write >= PROGRESS_WRITE_INTERVAL:
            last_write = now
            # Capped below 1: the file is not finished until it is renamed.
            ExportJob.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(
                progress=min(done / total, 0.99), documents=done
            )
        _test_delay()

    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _remove_leftovers(target)
        summary = export_write(
            project=job.project,
            format=job.format,
            path=target,
            scope=job.scope,
            options=job.parameters or {},
            progress=progress,
            reader=job.requested_by,
        )
        finished = timezone.now()
        stored = ExportJob.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(
            status=JobStatus.DONE,
            progress=1.0,
            documents=summary.documents,
            spans=summary.spans,
            notes=summary.left_out_note(),
            file=name,
            size=target.stat().st_size,
            md5=_md5(target),
            error="",
            finished_at=finished,
            expires_at=finished + EXPORT_RETENTION,
        )
        if not stored:  # the row was failed or deleted meanwhile: offer nothing
            target.unlink(missing_ok=True)
    except Exception as exc:
        logger.exception("export job %s failed", job.pk)
        target.unlink(missing_ok=True)
        ExportJob.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(
            status=JobStatus.FAILED,
            error=_describe(exc),
            file="",
            size=0,
            md5="",
            finished_at=timezone.now(),
        )
    return ExportJob.objects.filter(pk=job.pk).first()


def _remove_leftovers(target: Path) -> None:
    """Delete the temporary files and folders of an earlier attempt at the same job.

    A worker killed while building the file leaves its temporary ``.<name>.*``
    beside the target (exports.export_write); the next attempt, which the
    redelivered message starts, removes it so that only one file remains.
    """
    for leftover in target.parent.glob(f".{target.name}.*"):
        if leftover.is_dir():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)


def _test_delay() -> None:
    """After each document: lets the fault tests kill an export in the middle (tests/faults)."""
    slow_down_for_tests("WARRANT_EXPORT_TEST_DELAY")


def _describe(exc: Exception) -> str:
    """The error as the page shows it: a WarrantError's own sentence, else its type too."""
    text = str(exc) if isinstance(exc, WarrantError) else f"{type(exc).__name__}: {exc}"
    return text[:2000]


def export_jobs_purge_expired(*, now=None) -> int:
    """Delete the files and rows of jobs past ``expires_at``; return how many.

    Failed jobs (which have no file and no ``expires_at``) go after
    ``EXPORT_RETENTION`` from their end, so the list does not grow for ever.
    """
    now = now or timezone.now()
    expired = ExportJob.objects.filter(expires_at__lt=now) | ExportJob.objects.filter(
        status=JobStatus.FAILED, finished_at__lt=now - EXPORT_RETENTION
    )
    count = 0
    for job in expired.only("pk", "file"):
        if job.file:
            job.file.delete(save=False)
        job.delete()
        count += 1
    return count


def export_jobs_withdraw(*, project: Project, user) -> int:
    """Delete the export jobs ``user`` asked for in ``project``, with their files.

    An export holds what its requester could read when it was built; when their
    role changes or they leave the project, those files go at once (a manager
    made a viewer must not keep downloading every annotator's work), and jobs
    still waiting or running go too (a worker that finishes one finds no row and
    keeps no file). Files are deleted once the change is committed. Returns how
    many jobs went.
    """
    jobs = list(ExportJob.objects.filter(project=project, requested_by=user).only("pk", "file"))
    names = [job.file.name for job in jobs if job.file]
    ExportJob.objects.filter(pk__in=[job.pk for job in jobs]).delete()
    storage = ExportJob._meta.get_field("file").storage

    def delete_files():
        for name in names:
            storage.delete(name)

    transaction.on_commit(delete_files)
    return len(jobs)


def export_job_available(job: ExportJob, *, now=None) -> bool:
    """Whether the job's file may be downloaded now."""
    now = now or timezone.now()
    return (
        job.status == JobStatus.DONE
        and bool(job.file)
        and (job.expires_at is None or job.expires_at > now)
    )
