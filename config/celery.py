"""The Celery app: `celery -A config worker`."""

import os

from celery import Celery
from celery.signals import worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("warrant")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def _load_the_metrics(**_) -> None:
    """A worker loads agreement's metrics (NumPy, SciPy) once, before it forks its
    processes, which then share them: not each process in the middle of its first
    chunk of a run (0.5-0.7 s on the critical path of a run on fresh workers). Web
    processes never do (issue 12, point 8)."""
    import annotator.metrics.pooling  # noqa: F401
