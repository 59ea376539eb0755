"""``/healthz``: 200 when the database answers, 503 when it does not; the broker is reported.

A load balancer points at it: with Redis down annotating keeps working, so the
answer stays 200 with ``"broker": "down"``; ``?require=broker`` (``run.py
stack``'s start-up check) makes it 503. In-process for the broker's cases (a
real Redis, and a real port where none listens); a real gunicorn for a
database that does not exist and for a Redis that accepts and never answers.
No case needs a log-in, and no answer sets a cookie.
"""

from __future__ import annotations

import time
import urllib.parse
import uuid

import pytest
from django.test import override_settings

from annotator.web.health import BROKER_TIMEOUT_SECONDS
from tests import live

#: The longest /healthz may take with Redis hung: the PING's timeout and a margin.
HUNG_BROKER_LIMIT = BROKER_TIMEOUT_SECONDS + 1.0


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
def test_healthz_answers_200_and_reports_the_broker_down_when_only_the_broker_is_down(client):
    nothing_there = f"redis://127.0.0.1:{live.free_port()}/0"
    began = time.monotonic()
    with override_settings(CELERY_BROKER_URL=nothing_there, CELERY_TASK_ALWAYS_EAGER=False):
        response = client.get("/healthz")
    assert time.monotonic() - began < 3
    # Pages and saves do not need Redis: a load balancer must keep this process in service.
    assert (response.status_code, response.json()) == (200, {"database": "ok", "broker": "down"})
    assert nothing_there not in response.content.decode(), "no address in a public answer"


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["?require=broker", "?require=database,broker",
                                   "?require=database&require=broker"])
def test_healthz_require_broker_answers_503_when_the_broker_is_down(client, query):
    nothing_there = f"redis://127.0.0.1:{live.free_port()}/0"
    with override_settings(CELERY_BROKER_URL=nothing_there, CELERY_TASK_ALWAYS_EAGER=False):
        response = client.get("/healthz" + query)
    assert (response.status_code, response.json()) == (503, {"database": "ok", "broker": "down"})


@pytest.mark.django_db
def test_healthz_require_broker_answers_200_when_the_broker_answers(client, topology_redis_url):
    with override_settings(CELERY_BROKER_URL=topology_redis_url, CELERY_TASK_ALWAYS_EAGER=False):
        response = client.get("/healthz?require=broker")
    assert (response.status_code, response.json()) == (200, {"database": "ok", "broker": "ok"})


@pytest.mark.django_db
def test_healthz_require_broker_in_the_embedded_mode_has_no_broker_to_wait_for(client):
    response = client.get("/healthz?require=broker")
    assert (response.status_code, response.json()) == (
        200, {"database": "ok", "broker": "not configured"})


@pytest.mark.django_db
def test_healthz_refuses_an_unknown_required_part(client):
    # A misspelt strict check must not pass as the lenient one.
    response = client.get("/healthz?require=brokr")
    assert response.status_code == 400
    assert "broker" in response.json()["detail"]


@pytest.mark.django_db
def test_healthz_takes_no_writes(client):
    assert client.post("/healthz").status_code == 405
    assert client.head("/healthz").status_code == 200


def test_healthz_on_gunicorn_answers_503_when_the_database_is_down(tmp_path, postgres_server):
    # A name of this run's own: nothing to create, nothing another run could drop.
    name = f"warrant_topology_missing_{uuid.uuid4().hex[:8]}"
    missing = live.postgres_database(postgres_server, name, drop=True)
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
    assert name not in response.text


def test_healthz_on_gunicorn_answers_at_once_when_redis_accepts_and_never_answers(
    tmp_path, postgres_server, hung_port
):
    # A hung Redis (the port accepts, nothing answers) as REDIS_URL: the PING gives up
    # after BROKER_TIMEOUT_SECONDS, and the database answering keeps the answer 200.
    # /healthz only reads (SELECT 1): the server's maintenance database will do.
    database_url = urllib.parse.urlunsplit(
        urllib.parse.urlsplit(postgres_server)._replace(path="/postgres"))
    env = live.app_env(database_url=database_url, redis_url=f"redis://127.0.0.1:{hung_port}/0",
                       WARRANT_DATA_DIR=str(tmp_path))
    port = live.free_port()
    web = live.start_gunicorn(env=env, port=port, log_dir=tmp_path, workers=1)
    try:
        client = live.HttpClient(f"http://127.0.0.1:{port}", timeout=HUNG_BROKER_LIMIT + 5)
        took = {}
        began = time.monotonic()
        lenient = client.get("/healthz")
        took["lenient"] = round(time.monotonic() - began, 2)
        began = time.monotonic()
        strict = client.get("/healthz?require=broker")
        took["strict"] = round(time.monotonic() - began, 2)
    finally:
        web.stop()
    assert (lenient.status, lenient.json()) == (200, {"database": "ok", "broker": "down"}), (
        web.log_tail())
    assert (strict.status, strict.json()) == (503, {"database": "ok", "broker": "down"})
    assert max(took.values()) < HUNG_BROKER_LIMIT, took
    assert "health check: the broker does not answer" in web.log()
    print(f"\n/healthz with Redis hung: {took}")
