"""``/healthz``: can this web process reach its database and its broker?

For load balancers, ``compose.yaml``'s healthcheck and ``run.py stack``. It
needs no log-in, opens no session, sets no cookie and writes nothing: one
trivial query, and a Redis PING when a broker is configured (the embedded
mode runs tasks in-process and has none). 200 when every part answers, 503
naming the part that does not. The answer never carries an error's text,
which could hold a host name or a user: that goes to the log.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)

#: A broker that does not answer a PING within this long counts as down: the
#: check must answer well within a healthcheck's own timeout (5 s in compose.yaml).
BROKER_TIMEOUT_SECONDS = 1.0

OK = "ok"
DOWN = "down"
NOT_CONFIGURED = "not configured"


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        logger.warning("health check: the database does not answer", exc_info=True)
        return DOWN
    return OK


def _broker_url() -> str | None:
    """The broker's URL, or None when tasks run in-process (the embedded mode)."""
    url = getattr(settings, "CELERY_BROKER_URL", "") or ""
    if getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False) or url.startswith("memory://"):
        return None
    return url or None


def _broker(url: str) -> str:
    try:
        if url.startswith(("redis://", "rediss://", "unix://")):
            import redis

            client = redis.Redis.from_url(
                url,
                socket_connect_timeout=BROKER_TIMEOUT_SECONDS,
                socket_timeout=BROKER_TIMEOUT_SECONDS,
            )
            try:
                client.ping()
            finally:
                client.close()
        else:  # another kombu transport: connecting is what we can check
            from kombu import Connection

            with Connection(url, connect_timeout=BROKER_TIMEOUT_SECONDS) as conn:
                conn.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT_SECONDS)
    except Exception:
        logger.warning("health check: the broker does not answer", exc_info=True)
        return DOWN
    return OK


@never_cache
@require_safe
def healthz(request):
    url = _broker_url()
    parts = {"database": _database(), "broker": _broker(url) if url else NOT_CONFIGURED}
    healthy = DOWN not in parts.values()
    return JsonResponse(parts, status=200 if healthy else 503)
