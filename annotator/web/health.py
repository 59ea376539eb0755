"""``/healthz``: can this web process serve? Its database must answer; its broker is reported.

For load balancers, ``compose.yaml``'s healthcheck and ``run.py stack``. It
needs no log-in, opens no session, sets no cookie and writes nothing: one
trivial query, and a Redis PING when a broker is configured (the embedded
mode runs tasks in-process and has none).

200 when the database answers, whatever the broker says: with Redis down,
annotating keeps working (only exports and agreement runs wait for it), so a
load balancer must not take every web process out of service for it. 503 when
the database does not answer: then no page can be served. The broker's state
is in the body (``"broker": "down"``) for monitoring.

``?require=broker`` makes the broker count too (503 when it is down), for a
start-up check that wants the whole topology up: ``run.py stack`` asks that.

The answer never carries an error's text, which could hold a host name or a
user: that goes to the log.
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
#: What ``?require=`` may name. The database is always required.
PARTS = ("database", "broker")


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


def _required(request) -> set[str] | None:
    """The parts that must answer for a 200, or None when ``?require=`` names an unknown one."""
    named = {name.strip() for value in request.GET.getlist("require")
             for name in value.split(",") if name.strip()}
    if not named <= set(PARTS):
        return None
    return {"database"} | named


@never_cache
@require_safe
def healthz(request):
    required = _required(request)
    if required is None:
        # A misspelt strict check must not pass as a lenient one.
        return JsonResponse({"detail": f"require= takes {', '.join(PARTS)}"}, status=400)
    url = _broker_url()
    parts = {"database": _database(), "broker": _broker(url) if url else NOT_CONFIGURED}
    # "not configured" is not down: the embedded mode has no broker to wait for.
    healthy = all(parts[name] != DOWN for name in required)
    return JsonResponse(parts, status=200 if healthy else 503)
