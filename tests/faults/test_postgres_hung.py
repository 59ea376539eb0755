"""PostgreSQL that accepts connections and never answers, under gunicorn.

A hung server (or a network path that drops packets) is worse than a stopped
one: connecting is not refused, it waits. Without a connect timeout every
request that needs the database would hang until gunicorn kills the worker
(60 s) and the proxy answers 502. With ``connect_timeout``
(config/settings/base.py) the request fails after it: ``/healthz`` answers 503
``"database": "down"``, and a log-in, which needs the database, answers the
503 outage page (annotator/web/outage.py). The two requests run at once, one
per gunicorn worker, so the test takes one timeout, not two.
"""

from __future__ import annotations

import secrets
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from annotator.web.outage import MESSAGE, RETRY_AFTER_SECONDS
from config.settings.base import DATABASE_CONNECT_TIMEOUT_SECONDS
from tests import live
from tests.topology.conftest import hung_port  # noqa: F401 - the fixture

#: The timeout, plus gunicorn's and Django's own time and a busy machine's.
LIMIT = DATABASE_CONNECT_TIMEOUT_SECONDS + 3


def _timed(client: live.HttpClient, method: str, path: str, **kwargs):
    began = time.monotonic()
    try:
        response = client.request(method, path, **kwargs)
    except OSError as exc:  # the client's own timeout: the server is hanging
        pytest.fail(f"{method} {path}: no answer in {client.timeout} s ({exc})")
    return response, time.monotonic() - began


def test_a_hung_postgres_answers_503_within_the_connect_timeout(tmp_path, hung_port):  # noqa: F811
    env = live.app_env(database_url=f"postgres://postgres@127.0.0.1:{hung_port}/warrant",
                       WARRANT_DATA_DIR=str(tmp_path))
    port = live.free_port()
    # The log-in page's GET (start_gunicorn's probe) needs no database: no session yet.
    web = live.start_gunicorn(env=env, port=port, log_dir=tmp_path, workers=2)
    try:
        base = f"http://127.0.0.1:{port}"
        # A CSRF cookie of the client's own making, as a browser holding one from an
        # earlier visit would send: the log-in then gets past CSRF to the database.
        token = secrets.token_hex(16)
        login = {
            "data": {"username": "carol", "password": "whatever",
                     "csrfmiddlewaretoken": token},
            "headers": {"Cookie": f"csrftoken={token}"}, "follow": False,
        }
        with ThreadPoolExecutor(max_workers=2) as pool:
            health = pool.submit(_timed, live.HttpClient(base, timeout=LIMIT + 2), "GET",
                                 "/healthz")
            posted = pool.submit(_timed, live.HttpClient(base, timeout=LIMIT + 2), "POST",
                                 "/accounts/login/", **login)
            (health, health_seconds), (page, page_seconds) = health.result(), posted.result()
    finally:
        web.stop()
    assert health.status == 503, web.log_tail()
    assert health.json() == {"database": "down", "broker": "not configured"}
    assert page.status == 503, page.text[:500]
    assert page.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert page.headers["Content-Type"].startswith("text/html")
    assert MESSAGE in page.text
    took = {"healthz": round(health_seconds, 2), "log-in": round(page_seconds, 2)}
    assert max(took.values()) < LIMIT, took
    assert "database unreachable, answered 503: POST /accounts/login/" in web.log()
    print(f"\nPostgreSQL hung: {took}")
