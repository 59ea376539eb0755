"""``/healthz``: 200 when the database and the broker answer, 503 naming what does not.

In-process for the broker's cases (a real Redis, and a real port where none
listens); a real gunicorn on a database that does not exist for the database's.
No case needs a log-in, and no answer sets a cookie.
"""

from __future__ import annotations

import time

import pytest
from django.test import override_settings

from tests import live


def _no_cookie(response) -> bool:
    return not response.cookies and "Set-Cookie" not in response.headers


@pytest.mark.django_db
def test_healthz_in_the_embedded_mode_checks_the_database_only(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "broker": "not configured"}
    assert _no_cookie(response)
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_healthz_pings_the_configured_redis(client, topology_redis_url):
    with override_settings(CELERY_BROKER_URL=topology_redis_url, CELERY_TASK_ALWAYS_EAGER=False):
        response = client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"database": "ok", "broker": "ok"})


@pytest.mark.django_db
def test_healthz_answers_503_within_its_timeout_when_the_broker_is_down(client):
    nothing_there = f"redis://127.0.0.1:{live.free_port()}/0"
    began = time.monotonic()
    with override_settings(CELERY_BROKER_URL=nothing_there, CELERY_TASK_ALWAYS_EAGER=False):
        response = client.get("/healthz")
    assert time.monotonic() - began < 3
    assert (response.status_code, response.json()) == (503, {"database": "ok", "broker": "down"})
    assert nothing_there not in response.content.decode(), "no address in a public answer"


@pytest.mark.django_db
def test_healthz_takes_no_writes(client):
    assert client.post("/healthz").status_code == 405
    assert client.head("/healthz").status_code == 200


def test_healthz_on_gunicorn_answers_503_when_the_database_is_down(tmp_path, postgres_server):
    missing = live.postgres_database(postgres_server, "warrant_topology_missing", drop=True)
    env = live.app_env(database_url=missing, WARRANT_DATA_DIR=str(tmp_path))
    port = live.free_port()
    web = live.start_gunicorn(env=env, port=port, log_dir=tmp_path, workers=1)
    try:
        response = live.HttpClient(f"http://127.0.0.1:{port}").get("/healthz")
    finally:
        web.stop()
    assert response.status == 503, web.log_tail()
    assert response.json() == {"database": "down", "broker": "not configured"}
    assert "Set-Cookie" not in response.headers
    assert "warrant_topology_missing" not in response.text
