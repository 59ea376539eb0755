"""Big imports as background jobs: the upload is stored, the worker imports it.

An upload too big for a request's few seconds (more than
``WARRANT_IMPORT_INLINE_BYTES``) becomes an ``ImportJob``: the files are
written under ``MEDIA_ROOT/imports/<job>/``, the job is queued once its row is
committed, and the worker reads the files and imports them exactly as the
page would (``formats.readers.read_uploads`` then ``services.imports.
documents_import``): in one transaction, so a bad file anywhere leaves the
project unchanged and the job FAILED with the reader's one-line message (an
error found only when a document is written names its line too:
``briefs.jsonl:99998: ...``). A job reads up to ``MAX_JOB_DOCUMENTS``
(200,000) documents, twenty times what a request may import (a 100,000-brief
JSONL: figures in benchmarks/import_briefs.py ``--jsonl-documents``). The page
polls the row's progress: reading the files fills the first part of the bar
(by the share of their bytes read, a JSONL line by line), writing the
documents the rest. The stored files are removed when the
job ends, either way (the documents keep their originals).

Progress inside the import's transaction is written through a connection of
its own (PostgreSQL), so that the page sees it before the import commits;
SQLite (the embedded mode, where the job runs in the request anyway) cannot
take a second writer and shows the bar at the end of each phase only.
"""

from __future__ import annotations

import logging
import re
import shutil
import time
from pathlib import Path

from django.conf import settings
from django.db import connection, connections, transaction
from django.db.models import F
from django.utils import timezone

from annotator.models import ImportJob, JobStatus, Project

from .errors import WarrantError
from .jobs import job_enqueue, slow_down_for_tests

logger = logging.getLogger(__name__)

#: Progress is written at most this often (seconds): the page polls once a second.
PROGRESS_WRITE_INTERVAL = 0.5
#: Share of the bar for reading the files; writing the documents takes the rest.
READ_SHARE = 0.3
#: A job whose worker died this many times is failed instead of delivered again.
MAX_ATTEMPTS = 3
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def import_folder(job_id: int) -> Path:
    return Path(settings.MEDIA_ROOT) / "imports" / str(job_id)


@transaction.atomic
def import_job_request(
    *,
    project: Project,
    files: list[tuple[str, bytes]],
    requested_by=None,
    clean: bool = True,
    add_labels: bool = False,
    annotator: str | None = None,
) -> ImportJob:
    """Store ``files`` (name, bytes) and queue their import into ``project``."""
    if not files:
        raise WarrantError("no file to import")
    job = ImportJob.objects.create(
        project=project,
        requested_by=requested_by if requested_by is not None and requested_by.pk else None,
        options={"clean": clean, "add_labels": add_labels, "annotator": annotator or ""},
        size=sum(len(data) for _, data in files),
    )
    folder = import_folder(job.pk)
    folder.mkdir(parents=True, exist_ok=True)
    stored = []
    for k, (name, data) in enumerate(files):
        # The name is kept for the readers (pairs like a.txt + a.ann are found by it);
        # the stored file's own name cannot climb out of the folder.
        safe = f"{k:04d}-{_SAFE_NAME.sub('_', Path(name).name)[:150]}"
        (folder / safe).write_bytes(data)
        stored.append({"name": name, "stored": safe})
    job.files = stored
    job.save(update_fields=["files"])
    transaction.on_commit(lambda: _enqueue(job.pk))
    return job


def _enqueue(job_id: int) -> None:
    from annotator.tasks import import_job_task  # tasks import this module

    job_enqueue(import_job_task, ImportJob, job_id, what="import")


class _Progress:
    """Write a job's progress, also from inside the import's transaction."""

    def __init__(self, job_id: int):
        self.job_id = job_id
        self.last = 0.0
        self.side = None

    def set(self, value: float, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < PROGRESS_WRITE_INTERVAL:
            return
        self.last = now
        value = min(max(value, 0.0), 0.99)
        if not connection.in_atomic_block:
            ImportJob.objects.filter(pk=self.job_id, status=JobStatus.RUNNING).update(
                progress=value
            )
        elif connection.vendor == "postgresql":
            if self.side is None:
                self.side = connections.create_connection("default")
            with self.side.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {ImportJob._meta.db_table} SET progress = %s "
                    "WHERE id = %s AND status = %s",
                    [value, self.job_id, JobStatus.RUNNING],
                )

    def close(self) -> None:
        if self.side is not None:
            self.side.close()


def _start(job_id: int) -> ImportJob | None:
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status in (JobStatus.DONE, JobStatus.FAILED):
            return None
        if job.attempts >= MAX_ATTEMPTS:
            _finish_failed(job, f"gave up after {job.attempts} attempts: the worker stopped "
                                "during each")
            return None
        job.status = JobStatus.RUNNING
        job.attempts = F("attempts") + 1
        job.progress = 0.0
        job.started_at = timezone.now()
        job.save(update_fields=["status", "attempts", "progress", "started_at"])
        return job


def _finish_failed(job: ImportJob, error: str) -> None:
    ImportJob.objects.filter(pk=job.pk).exclude(status=JobStatus.DONE).update(
        status=JobStatus.FAILED, error=error[:2000], finished_at=timezone.now()
    )
    shutil.rmtree(import_folder(job.pk), ignore_errors=True)


def import_job_execute(*, job_id: int) -> ImportJob | None:
    """Import a job's stored files; idempotent (a DONE or FAILED job is left alone).

    The import is one transaction (``documents_import``): run again after a
    worker died, it starts from nothing, since nothing of the first try was
    committed.
    """
    from annotator.formats.readers import MAX_JOB_DOCUMENTS, read_uploads
    from annotator.formats.records import FormatError

    from .imports import documents_import

    job = _start(job_id)
    if job is None:
        return ImportJob.objects.filter(pk=job_id).first()
    progress = _Progress(job.pk)
    options = job.options or {}

    def writing(done: float) -> None:
        progress.set(READ_SHARE + (1 - READ_SHARE) * done)
        # The worker tests slow the writing down to kill a worker in the middle of it.
        slow_down_for_tests("WARRANT_IMPORT_TEST_DELAY")

    try:
        folder = import_folder(job.pk)
        uploads = [(f["name"], (folder / f["stored"]).read_bytes()) for f in job.files]
        records = read_uploads(uploads, clean=options.get("clean", True),
                               max_documents=MAX_JOB_DOCUMENTS,
                               progress=lambda read: progress.set(READ_SHARE * read))
        progress.set(READ_SHARE, force=True)
        report = documents_import(
            project=job.project,
            records=records,
            add_labels=options.get("add_labels", False),
            annotator=options.get("annotator") or None,
            progress=writing,
        )
    except (FormatError, WarrantError, OSError) as exc:
        _finish_failed(job, str(exc).splitlines()[0] if str(exc) else "the import failed")
    except Exception as exc:
        logger.exception("import job %s failed", job.pk)
        _finish_failed(job, f"{type(exc).__name__}: {exc}")
    else:
        ImportJob.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(
            status=JobStatus.DONE, progress=1.0, report=report.lines(),
            documents=len(report.imported), finished_at=timezone.now(),
        )
        shutil.rmtree(import_folder(job.pk), ignore_errors=True)
    finally:
        progress.close()
    return ImportJob.objects.filter(pk=job.pk).first()
