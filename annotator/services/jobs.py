"""What agreement runs and export jobs share: queueing a row's task, and a test-only delay.

Both are rows (``AgreementRun``, ``ExportJob``) with a status that a Celery task
moves along; both are queued once the row is committed, and both fail visibly
on the row when the broker cannot take the task.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.db import models
from django.utils import timezone

from annotator.models import JobStatus

logger = logging.getLogger(__name__)

#: What a row says when the broker could not take its task (the pages show it; the
#: API answers 503 with it: ``job_not_queued``).
QUEUE_UNREACHABLE = "the worker queue is unreachable"
_NOT_QUEUED = "could not queue the {what}: " + QUEUE_UNREACHABLE + " ({exc})"


def job_enqueue(
    task,
    model: type[models.Model],
    pk: int,
    *,
    what: str,
    args: tuple | None = None,
    countdown: float | None = None,
) -> None:
    """Queue ``task`` for row ``pk``; if the broker cannot take it, say so on the row.

    Called once the row is committed. With no broker configured (the embedded
    mode) the task runs right here, in-process, which is the documented
    default; with a broker that is down, the row fails visibly instead of the
    work being done in the request. ``args`` replaces the task's arguments (the
    row's id by default); ``countdown`` delays the start on a worker (in-process
    runs start at once).
    """
    try:
        if countdown:
            task.apply_async(args or (pk,), countdown=countdown)
        else:
            task.delay(*(args or (pk,)))
    except Exception as exc:  # kombu's OperationalError, a refused connection, DNS...
        logger.exception("could not queue %s %s", what, pk)
        model.objects.filter(pk=pk, status=JobStatus.PENDING).update(
            status=JobStatus.FAILED,
            error=_NOT_QUEUED.format(what=what, exc=exc),
            finished_at=timezone.now(),
        )


def job_not_queued(row) -> bool:
    """Whether ``job_enqueue`` failed ``row`` because the broker could not take its task."""
    prefix = _NOT_QUEUED.split("{what}", 1)[0]
    return (row.status == JobStatus.FAILED and row.error.startswith(prefix)
            and QUEUE_UNREACHABLE in row.error)


def slow_down_for_tests(setting: str) -> None:
    """Sleep for ``settings.<setting>`` seconds when the test suite asks for a slow job.

    The worker and fault tests set it so that a job lasts long enough to kill its
    worker in the middle; it is 0 (absent) everywhere else.
    """
    delay = float(getattr(settings, setting, 0) or 0)
    if delay > 0:
        time.sleep(delay)
