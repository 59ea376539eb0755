"""Redis stopped and started again under gunicorn and a Celery worker.

Warrant runs in the production topology (tests/live.py): gunicorn and a
prefork worker on a fresh PostgreSQL database holding the demo project, and a
private ``redis-server`` with an append-only file, as compose.yaml runs it.

One test, in three phases (one gunicorn, one worker, to keep the time down):

1. A job queued while Redis was up but no worker ran is still queued after a
   Redis restart (the append-only file), and completes when a worker starts.
2. With Redis stopped, annotating never needs the broker: logging in, opening
   the annotation page, saving and deleting spans (the htmx posts the page
   makes) and submitting the set work and are in the database. What needs the
   worker fails visibly and fast: the automatic agreement run after the
   submission, a requested export and a requested agreement run are FAILED
   rows saying the queue is unreachable, the pages show it, and no request
   waits more than ``REQUEST_LIMIT``.
3. Redis started again: the worker reconnects by itself, and a new export and
   agreement run complete on it.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from annotator.web.outage import RETRY_AFTER_SECONDS
from tests import live
from tests.faults.conftest import PASSWORD, RedisServer, sql, timed, wait_until

pytestmark = pytest.mark.worker

#: The longest a request may take with Redis down (it takes milliseconds:
#: config/settings/base.py, CELERY_TASK_PUBLISH_RETRY_POLICY and socket timeouts).
REQUEST_LIMIT = 3.0
LOGIN_LIMIT = 10.0
#: A job on the demo project takes about a second on the worker; this is the limit.
JOB_TIMEOUT = 30
#: The worker retries its connection after 2, 4, 6 ... s (kombu), so it is back
#: within seconds of Redis; this is the limit.
RECONNECT_TIMEOUT = 30
UNREACHABLE = "the worker queue is unreachable"
CONNECTED = "Connected to redis://"


@dataclass
class Stack:
    redis: RedisServer
    web: live.Process
    env: dict
    db: str
    base_url: str
    media: Path
    log_dir: Path

    def client(self, username: str) -> live.HttpClient:
        client = live.HttpClient(self.base_url, timeout=20)
        client.login(username, PASSWORD)
        return client


@pytest.fixture
def stack(demo_database, redis_server, tmp_path):
    """Gunicorn on a fresh database with the demo project, sending jobs to the private Redis."""
    db = demo_database("redis")
    media = tmp_path / "media"
    env = live.app_env(database_url=db, redis_url=redis_server.url, MEDIA_ROOT=str(media))
    port = live.free_port()
    web = live.start_gunicorn(env=env, port=port, log_dir=tmp_path)
    try:
        yield Stack(redis_server, web, env, db, f"http://127.0.0.1:{port}", media, tmp_path)
    finally:
        web.stop()


def demo_ids(db: str) -> tuple[int, int]:
    """The demo brief's id and the id of its Claim label."""
    [(document_id, project_id)] = sql(
        db, "SELECT d.id, p.id FROM annotator_document d JOIN annotator_project p "
        "ON p.id = d.project_id WHERE p.slug = 'demo'")
    [(label_id,)] = sql(db, "SELECT id FROM annotator_spanlabel WHERE project_id = %s "
                        "AND name = 'Claim'", project_id)
    return document_id, label_id


def job_status(db: str, table: str, job_id: int) -> tuple[str, str]:
    [(status, error)] = sql(db, f"SELECT status, error FROM annotator_{table} WHERE id = %s",
                            job_id)
    return status, error


def latest_id(db: str, table: str) -> int:
    return sql(db, f"SELECT max(id) FROM annotator_{table}")[0][0]


def a_job_queued_without_a_worker_survives_a_redis_restart(stack, manager) -> live.Process:
    """Phase 1: an export queued with no worker running; Redis restarted; a worker starts."""
    response = manager.post("/p/demo/exports/", {"format": "csv", "scope": "both"})
    assert response.status == 200
    job_id = latest_id(stack.db, "exportjob")
    assert job_status(stack.db, "exportjob", job_id) == ("pending", "")
    with stack.redis.client() as client:
        assert client.llen("celery") == 1  # the message waits in Redis

    stack.redis.stop()
    stack.redis.start()  # same port, same append-only file
    with stack.redis.client() as client:
        assert client.llen("celery") == 1

    worker = live.start_worker(env=stack.env, log_dir=stack.log_dir)
    try:
        wait_until(lambda: job_status(stack.db, "exportjob", job_id)[0] == "done",
                   JOB_TIMEOUT, "the queued export to complete", [worker, stack.web])
    except BaseException:
        worker.stop()
        raise
    [(name, md5)] = sql(stack.db, "SELECT file, md5 FROM annotator_exportjob WHERE id = %s",
                        job_id)
    assert hashlib.md5((stack.media / name).read_bytes()).hexdigest() == md5
    return worker


def test_redis_stopped_and_restarted_under_gunicorn_and_a_worker(stack):
    db = stack.db
    document_id, claim = demo_ids(db)
    annotate = f"/p/demo/d/{document_id}/annotate/"
    htmx = {"HX-Request": "true"}
    manager = stack.client("instructor")
    worker = a_job_queued_without_a_worker_survives_a_redis_restart(stack, manager)
    try:
        # Phase 2: Redis stopped under a connected worker.
        assert worker.log().count(CONNECTED) == 1
        stack.redis.stop()
        took: dict[str, float] = {}

        # --- annotating, with Redis down
        carol = live.HttpClient(stack.base_url, timeout=20)
        _, took["log in"] = timed(carol.login, "carol", PASSWORD)
        page, took["annotate page"] = timed(carol.get, annotate)
        assert page.status == 200 and "/accounts/login/" not in page.url
        version = int(re.search(r'name="expected_version" value="(\d+)"', page.text)[1])
        [(set_id,)] = sql(db, "SELECT s.id FROM annotator_annotationset s JOIN annotator_user u "
                          "ON u.id = s.annotator_id WHERE u.username = 'carol' "
                          "AND s.document_id = %s", document_id)

        saved, took["save a span"] = timed(
            carol.post, annotate + "spans/",
            {"label": claim, "start": 0, "end": 10, "snap": "1", "expected_version": version},
            headers=htmx)
        assert saved.status == 200, saved.text
        version = int(saved.headers["X-Warrant-Version"])
        [(span_id,)] = sql(db, "SELECT id FROM annotator_span WHERE annotation_set_id = %s",
                           set_id)

        deleted, took["delete a span"] = timed(
            carol.post, f"{annotate}spans/{span_id}/delete/", {"expected_version": version},
            headers=htmx)
        assert deleted.status == 200, deleted.text
        version = int(deleted.headers["X-Warrant-Version"])
        assert sql(db, "SELECT id FROM annotator_span WHERE annotation_set_id = %s",
                   set_id) == []

        saved = carol.post(annotate + "spans/", {"label": claim, "start": 0, "end": 10,
                                                 "expected_version": version}, headers=htmx)
        assert saved.status == 200, saved.text
        version = int(saved.headers["X-Warrant-Version"])
        runs_before = latest_id(db, "agreementrun")
        submitted, took["submit the set"] = timed(
            carol.post, annotate + "submit/", {"expected_version": version}, headers=htmx)
        assert submitted.status == 200 and "HX-Redirect" in submitted.headers, submitted.text
        assert sql(db, "SELECT status FROM annotator_annotationset WHERE id = %s",
                   set_id) == [("submitted",)]
        assert len(sql(db, "SELECT id FROM annotator_span WHERE annotation_set_id = %s",
                       set_id)) == 1
        # The automatic agreement run after the submission could not be queued: it says so.
        automatic = latest_id(db, "agreementrun")
        assert automatic > runs_before
        status, error = job_status(db, "agreementrun", automatic)
        assert status == "failed" and UNREACHABLE in error

        # --- jobs, with Redis down: failed rows, shown on the pages, and quickly
        exports, took["request an export"] = timed(
            manager.post, "/p/demo/exports/", {"format": "jsonl", "scope": "both"})
        assert exports.status == 200 and exports.url.endswith("/p/demo/exports/")
        export_id = latest_id(db, "exportjob")
        status, error = job_status(db, "exportjob", export_id)
        assert status == "failed" and UNREACHABLE in error
        row = re.search(rf'<tr id="export-job-{export_id}".*?</tr>', exports.text, re.S)[0]
        assert "Failed" in row and UNREACHABLE in row and "Download" not in row

        agreement, took["request an agreement run"] = timed(
            manager.post, "/p/demo/agreement/run/", {"unit": "token"})
        assert agreement.status == 200 and agreement.url.endswith("/p/demo/agreement/")
        run_id = latest_id(db, "agreementrun")
        assert run_id > automatic
        status, error = job_status(db, "agreementrun", run_id)
        assert status == "failed" and UNREACHABLE in error
        assert f"Agreement run #{run_id} failed" in agreement.text
        assert UNREACHABLE in agreement.text

        # The API answers such a request 503 with Retry-After and the sentence, not 202
        # with a row that has already failed (issue 11).
        for what, path, body in (
            ("export", "/api/projects/demo/export-jobs/", {"format": "jsonl"}),
            ("agreement run", "/api/projects/demo/agreement/", {"unit": "token"}),
        ):
            answer, took[f"API: request an {what}"] = timed(
                manager.request, "POST", path, json_body=body, follow=False)
            assert answer.status == 503, answer.text
            assert answer.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
            assert UNREACHABLE in answer.json()["detail"]

        print("\nwith Redis stopped: " + ", ".join(f"{k} {v:.2f} s" for k, v in took.items()))
        # Logging in hashes a password (PBKDF2, CPU-bound, about a second on a busy
        # machine) and never needs Redis; every other request is held to the limit.
        assert took.pop("log in") < LOGIN_LIMIT, took
        assert max(took.values()) < REQUEST_LIMIT, took

        # Phase 3. Redis back: the worker reconnects by itself, and new jobs complete on it
        stack.redis.start()
        restarted = time.monotonic()
        wait_until(lambda: worker.log().count(CONNECTED) >= 2, RECONNECT_TIMEOUT,
                   "the worker to reconnect to Redis", [worker])
        reconnect = time.monotonic() - restarted
        assert worker.alive

        manager.post("/p/demo/exports/", {"format": "jsonl", "scope": "both"})
        new_export = latest_id(db, "exportjob")
        manager.post("/p/demo/agreement/run/", {"unit": "token"})
        new_run = latest_id(db, "agreementrun")
        assert (new_export, new_run) != (export_id, run_id)
        wait_until(lambda: job_status(db, "exportjob", new_export)[0] == "done",
                   JOB_TIMEOUT, "the export after the restart", [worker, stack.web])
        wait_until(lambda: job_status(db, "agreementrun", new_run)[0] == "done",
                   JOB_TIMEOUT, "the agreement run after the restart", [worker, stack.web])
        done = time.monotonic() - restarted
        print(f"after Redis restarted: worker reconnected in {reconnect:.1f} s; "
              f"new export and agreement run done {done:.1f} s after the restart")
        download = manager.get(f"/p/demo/exports/{new_export}/download/")
        assert download.status == 200
        [(md5,)] = sql(db, "SELECT md5 FROM annotator_exportjob WHERE id = %s", new_export)
        assert hashlib.md5(download.body).hexdigest() == md5
    finally:
        worker.stop()
