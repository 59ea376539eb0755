"""``python3 run.py stack``, driven over HTTP the way people use it.

The script starts the production topology natively (migrate, collectstatic,
gunicorn, two Celery workers on PostgreSQL and Redis) with the demo loaded;
the test then works through it like a class does:

* a student logs in, opens the brief's annotation page, creates two spans and
  a relation and deletes a third span through the endpoints the page's htmx
  posts to (each write names the version the page last saw), and submits;
* the instructor starts an agreement run from the agreement page, polls its
  status until the report is there; the run was computed by a Celery worker
  (the worker's log received the task, the row counts one attempt and the
  timings the worker writes);
* the instructor starts JSONL and Hugging Face exports, polls them, downloads
  both; the JSONL holds the student's spans and relation and not the deleted span;
* SIGTERM stops the stack: the script exits 0 and no process of it is left.

SIGHUP (the terminal closed, the ssh session dropped) stops it the same way; a
SIGKILL of the script, which it cannot handle, still stops every child (each is
told by the kernel: PR_SET_PDEATHSIG); a signal during migrate stops migrate,
and nothing is started after it.

The refusals of the script (no DATABASE_URL or REDIS_URL, production without
SECRET_KEY, plain HTTP off loopback) exit 2 with one line, before anything runs.
"""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
import zipfile
from pathlib import Path

import pytest

from tests import live

#: Starting the stack (migrate on an empty database, collectstatic, the demo,
#: gunicorn, two workers) takes 10-20 s on a busy 2-CPU machine; this is the limit.
STACK_START_TIMEOUT = 90
#: An agreement run or an export of the demo takes well under a second on a worker.
JOB_TIMEOUT = 30
STOP_TIMEOUT = 40
#: After a SIGKILL of the script its children stop as on SIGTERM: idle, in 1-3 s.
KILLED_STACK_CHILDREN_TIMEOUT = 20
PASSWORD = "stack-e2e-demo-pw"
BRIEF = (live.ROOT / "annotator" / "demo" / "brief.txt").read_text(encoding="utf-8")
# What the student marks (carol has nothing in the demo).
CLAIM = "Most residents already support it."
REASON = "Cleaner air would save lives."
DELETED = "The money would pay for better buses."


def _stack_env(**extra: str) -> dict[str, str]:
    """The caller's environment without anything that would decide for the script."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    for name in ("DJANGO_SETTINGS_MODULE", "SECRET_KEY", "ALLOWED_HOSTS", "CELERY_BROKER_URL",
                 "CELERY_TASK_ALWAYS_EAGER", "MEDIA_ROOT", "STATIC_ROOT", "PORT"):
        env.pop(name, None)
    env.update(extra)
    return env


def _wait(predicate, what: str, timeout: float, stack: live.Process):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if not stack.alive:
            pytest.fail(f"the stack exited while waiting for {what}:\n{stack.log_tail(60)}")
        time.sleep(0.2)
    pytest.fail(f"no {what} in {timeout} s:\n{stack.log_tail(60)}")


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _offsets(phrase: str) -> tuple[int, int]:
    start = BRIEF.replace("\r\n", "\n").index(phrase)
    return start, start + len(phrase)


class Page:
    """What annotate.js reads from the annotation page: the version, and the schema's
    ids and the endpoints' URLs from the page's ``schema-data`` JSON."""

    def __init__(self, html: str):
        self.version = int(re.search(r'data-version="(\d+)"', html).group(1))
        schema = json.loads(re.search(
            r'<script id="schema-data" type="application/json">(.*?)</script>', html, re.S
        ).group(1))
        self.labels = {label["name"]: label["id"] for label in schema["labels"]}
        self.types = {kind["name"]: kind["id"] for kind in schema["types"]}
        self.urls = schema["urls"]

    def url(self, name: str, item: int | None = None) -> str:
        """An endpoint's URL; patterns with an id hold 0 in its place, as annotate.js fills in."""
        url = self.urls[name]
        if item is None:
            return url
        head, placeholder, tail = url.rpartition("/0/")
        assert placeholder, url
        return f"{head}/{item}/{tail}"


def _htmx_post(client: live.HttpClient, page: Page, url: str, **fields) -> dict:
    """POST as htmx.ajax does, with the version; returns the warrant:saved event."""
    response = client.post(
        url, {**fields, "expected_version": page.version}, headers={"HX-Request": "true"}
    )
    assert response.status == 200, f"{url}: {response.status} {response.text[:300]}"
    page.version = int(response.headers["X-Warrant-Version"])
    return json.loads(response.headers["HX-Trigger-After-Swap"])["warrant:saved"]


def _poll(client: live.HttpClient, url: str, what: str, stack: live.Process) -> live.Response:
    """Poll like hx-trigger="every 1s" (faster): until the view answers 286, stop polling."""

    def done():
        response = client.get(url, headers={"HX-Request": "true"})
        assert response.status in (200, 286), f"{url}: {response.status}"
        return response if response.status == 286 else None

    return _wait(done, what, JOB_TIMEOUT, stack)


def _received(stack: live.Process, task: str) -> int:
    return len(re.findall(rf"Task annotator\.tasks\.{task}\[[0-9a-f-]+\] received", stack.log()))


def _database_name(label: str) -> str:
    """A name of this run's own: two runs on one server neither share nor drop each other's."""
    return f"warrant_topology_{label}_{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def stack_database(postgres_server):
    """A database of its own, shared by the tests of this module, dropped after them."""
    name = _database_name("e2e")
    yield live.postgres_database(postgres_server, name)
    live.postgres_database(postgres_server, name, drop=True)


@pytest.fixture(scope="module")
def stack_data_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("stack-data")


def _start_stack(log_dir: Path, database_url: str, data_dir: Path, redis_url: str, port: int,
                 *extra: str, celery_workers: int = 2) -> live.Process:
    env = _stack_env(DATABASE_URL=database_url, REDIS_URL=redis_url,
                     WARRANT_DATA_DIR=str(data_dir))
    return live.Process(
        "stack",
        [sys.executable, "run.py", "stack", "--insecure-http", "--port", str(port),
         "--web-workers", "1", "--celery-workers", str(celery_workers), "--concurrency", "1",
         *extra],
        env=env, log_dir=log_dir,
    ).start()


def _children(stack: live.Process) -> dict[str, int]:
    """The script's children by name, with their pids (each leads its process group)."""
    return {name: int(pid) for name, pid in re.findall(r"started (\w+) \(pid (\d+)\)",
                                                       stack.log())}


def _stop_all(stack: live.Process) -> None:
    """Whatever happened, nothing of the stack outlives the test."""
    children = _children(stack)
    stack.stop(timeout=STOP_TIMEOUT)
    for pgid in children.values():
        if _group_alive(pgid):
            os.killpg(pgid, signal.SIGKILL)


@pytest.fixture
def stack(tmp_path, stack_database, stack_data_dir, topology_redis_url):
    port = live.free_port()
    began = time.monotonic()
    process = _start_stack(tmp_path, stack_database, stack_data_dir, topology_redis_url, port,
                           "--demo", "--demo-password", PASSWORD)
    process.base_url = f"http://127.0.0.1:{port}"
    process.database_url = stack_database
    try:
        process.wait_for_log("Warrant is up at", timeout=STACK_START_TIMEOUT)
        process.start_seconds = time.monotonic() - began
        yield process
    finally:
        _stop_all(process)


def test_stack_serves_annotation_agreement_and_exports_then_stops_cleanly(stack):
    began = time.monotonic()
    health = live.HttpClient(stack.base_url).get("/healthz")
    # "broker": "ok", not "not configured": web queues jobs in Redis, it never runs them.
    assert (health.status, health.json()) == (200, {"database": "ok", "broker": "ok"})
    # /healthz answers once web is up; the two workers report ready on their own.
    _wait(lambda: set(re.findall(r"\] (worker\d)@\S+ ready\.", stack.log())) == {
        "worker1", "worker2"}, "two ready Celery workers", STACK_START_TIMEOUT, stack)

    # --- A student annotates the brief and submits.
    carol = live.HttpClient(stack.base_url)
    carol.login("carol", PASSWORD)
    project = carol.get("/p/demo/")
    assert project.status == 200
    annotate_url = re.search(r'href="(/p/demo/d/\d+/annotate/)"', project.text).group(1)
    page_html = carol.get(annotate_url)
    assert page_html.status == 200
    page = Page(page_html.text)
    assert {"Claim", "Reason"} <= set(page.labels) and "supports" in page.types

    claim = _htmx_post(carol, page, page.url("span_create"), label=page.labels["Claim"],
                       start=_offsets(CLAIM)[0], end=_offsets(CLAIM)[1], snap="1")
    reason = _htmx_post(carol, page, page.url("span_create"), label=page.labels["Reason"],
                        start=_offsets(REASON)[0], end=_offsets(REASON)[1], snap="1")
    gone = _htmx_post(carol, page, page.url("span_create"), label=page.labels["Reason"],
                      start=_offsets(DELETED)[0], end=_offsets(DELETED)[1], snap="1")
    claim_id, reason_id, gone_id = (e["change"]["spans"][0][0] for e in (claim, reason, gone))
    assert claim["change"]["spans"][0][2:] == list(_offsets(CLAIM))
    _htmx_post(carol, page, page.url("relation_create"), source=reason_id, target=claim_id,
               type=page.types["supports"])
    deleted = _htmx_post(carol, page, page.url("span_delete", gone_id))
    assert deleted["change"]["removed_spans"] == [gone_id]
    # A stale version is refused, as a second tab's save would be.
    stale = carol.post(page.url("span_delete", claim_id),
                       {"expected_version": page.version - 1}, headers={"HX-Request": "true"})
    assert stale.status == 409
    submitted = carol.post(page.url("submit"), {"expected_version": page.version},
                           headers={"HX-Request": "true"})
    assert submitted.status == 200 and "HX-Redirect" in submitted.headers

    # --- The instructor runs agreement through the worker.
    teacher = live.HttpClient(stack.base_url)
    teacher.login("instructor", PASSWORD)
    assert teacher.get("/p/demo/agreement/").status == 200
    received_before = _received(stack, "agreement_run_task")
    started = teacher.post("/p/demo/agreement/run/", {"unit": "char"},
                           headers={"HX-Request": "true"})
    assert started.status == 200, started.text[:300]
    run_id = int(re.search(r"/p/demo/agreement/runs/(\d+)/", started.text).group(1))
    _poll(teacher, f"/p/demo/agreement/runs/{run_id}/status/", "finished agreement run", stack)
    report = teacher.get(f"/p/demo/agreement/runs/{run_id}/report.json")
    assert report.status == 200
    report = report.json()
    assert report["unit"] == "char"
    assert set(report["annotators"]) == {"alice", "bob", "carol"}
    overall = report["overall"]
    assert isinstance(overall["krippendorff_alpha"]["value"], float)
    assert "alice|carol" in overall["cohen_kappa"]["pairs"]
    assert overall["span_f1"]["exact"]["pairs"]
    # The submission above queued an automatic run; a request while that run waits is the
    # same run (coalescing), so the count may not grow: a worker received at least one.
    _wait(lambda: _received(stack, "agreement_run_task") >= max(received_before, 1),
          "agreement task in a worker's log", 5, stack)
    run = _agreement_row(stack.database_url, run_id)
    assert run["status"] == "done" and run["attempts"] == 1
    assert run["timings"].get("total", 0) > 0, "the worker records its timings"

    # --- The instructor exports the project and downloads it.
    files = {}
    for fmt in ("jsonl", "hf"):
        requested = teacher.post("/p/demo/exports/", {
            "format": fmt, "scope": "both", "csrfmiddlewaretoken": teacher.cookie("csrftoken"),
        })
        assert requested.status == 200, requested.text[:300]
        job_id = int(re.search(rf"Export #(\d+) \({fmt}\) has started", requested.text).group(1))
        _poll(teacher, f"/p/demo/exports/{job_id}/progress/", f"finished {fmt} export", stack)
        download = teacher.get(f"/p/demo/exports/{job_id}/download/")
        assert download.status == 200, f"{fmt} download: {download.status}"
        files[fmt] = download.body
    assert _received(stack, "export_job_task") >= 2

    records = [json.loads(line) for line in files["jsonl"].decode().splitlines() if line]
    sets = {a["annotator"]: a for record in records for a in record["annotations"]}
    carol_set = sets["carol"]
    assert carol_set["status"] == "submitted"
    spans = {s["id"]: (s["label"], s["start"], s["end"], s["text"]) for s in carol_set["spans"]}
    assert sorted(spans.values()) == sorted([
        ("Claim", *_offsets(CLAIM), CLAIM), ("Reason", *_offsets(REASON), REASON),
    ]), "the student's spans, without the deleted one"
    [relation] = carol_set["relations"]
    assert relation["type"] == "supports"
    assert (spans[relation["source"]][3], spans[relation["target"]][3]) == (REASON, CLAIM)
    with zipfile.ZipFile(io.BytesIO(files["hf"])) as archive:
        names = archive.namelist()
    assert any(n.endswith(".parquet") for n in names) and any(n.endswith("README.md")
                                                               for n in names)
    flow_seconds = time.monotonic() - began

    # --- SIGTERM stops everything; the script exits 0.
    children = _children(stack)
    assert set(children) == {"web", "worker1", "worker2"}
    stopping = time.monotonic()
    stack.proc.send_signal(signal.SIGTERM)
    code = stack.proc.wait(timeout=STOP_TIMEOUT)
    stop_seconds = time.monotonic() - stopping
    assert code == 0, stack.log_tail(40)
    left = [name for name, pgid in children.items() if _group_alive(pgid)]
    assert not left, f"still running after the stack exited: {left}"
    print(f"\nstack start {stack.start_seconds:.1f} s, flow {flow_seconds:.1f} s, "
          f"stop {stop_seconds:.1f} s")


def test_stack_stops_the_others_and_fails_when_a_child_dies(
    tmp_path, stack_database, stack_data_dir, topology_redis_url
):
    # A worker killed as the out-of-memory killer would: the script must not
    # carry on without it, but stop web and the other worker and exit non-zero.
    stack = _start_stack(tmp_path, stack_database, stack_data_dir, topology_redis_url,
                         live.free_port())
    try:
        stack.wait_for_log("started worker2 (pid", timeout=STACK_START_TIMEOUT)
        children = _children(stack)
        os.killpg(children["worker2"], signal.SIGKILL)
        code = stack.proc.wait(timeout=STOP_TIMEOUT)
    finally:
        _stop_all(stack)
    assert code == 1, stack.log_tail(40)
    assert "worker2 exited with status -9; stopping the others" in stack.log()
    left = [name for name, pgid in children.items() if _group_alive(pgid)]
    assert not left, f"still running after the stack exited: {left}"


def _started_and_ready(tmp_path, stack_database, stack_data_dir, redis_url) -> live.Process:
    """A stack with one worker on the module's (migrated) database, up and its worker ready."""
    stack = _start_stack(tmp_path, stack_database, stack_data_dir, redis_url,
                         live.free_port(), celery_workers=1)
    stack.wait_for_log("Warrant is up at", timeout=STACK_START_TIMEOUT)
    # Its warm-shutdown handler is installed once it is ready: signalled while still
    # starting, a Celery worker would die at once and leave its pool.
    _wait(lambda: re.search(r"\] worker1@\S+ ready\.", stack.log()), "a ready Celery worker",
          STACK_START_TIMEOUT, stack)
    return stack


def _left_after(children: dict[str, int], timeout: float) -> list[str]:
    """The children whose process group is still there after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(_group_alive(pgid) for pgid in children.values()):
            return []
        time.sleep(0.1)
    return [name for name, pgid in children.items() if _group_alive(pgid)]


def test_stack_stops_gracefully_on_sighup(
    tmp_path, stack_database, stack_data_dir, topology_redis_url
):
    # The terminal it runs in is closed, or the ssh session drops: the kernel sends
    # SIGHUP to the script only (each child has a session of its own).
    stack = _started_and_ready(tmp_path, stack_database, stack_data_dir, topology_redis_url)
    try:
        children = _children(stack)
        assert set(children) == {"web", "worker1"}
        stack.proc.send_signal(signal.SIGHUP)
        code = stack.proc.wait(timeout=STOP_TIMEOUT)
        left = _left_after(children, timeout=5)
    finally:
        _stop_all(stack)
    assert code == 0, stack.log_tail(40)
    assert "SIGHUP: stopping" in stack.log()
    assert not left, f"still running after the stack exited: {left}"


def test_children_stop_when_the_stack_is_killed(
    tmp_path, stack_database, stack_data_dir, topology_redis_url
):
    # SIGKILL runs no handler: the kernel tells each child instead (PR_SET_PDEATHSIG),
    # and each stops as on SIGTERM, gracefully.
    stack = _started_and_ready(tmp_path, stack_database, stack_data_dir, topology_redis_url)
    try:
        children = _children(stack)
        killed = time.monotonic()
        stack.proc.send_signal(signal.SIGKILL)
        stack.proc.wait(timeout=10)
        left = _left_after(children, timeout=KILLED_STACK_CHILDREN_TIMEOUT)
        seconds = time.monotonic() - killed
    finally:
        _stop_all(stack)
    assert not left, f"still running {KILLED_STACK_CHILDREN_TIMEOUT} s after the stack " \
        f"was killed: {left}"
    print(f"\nchildren gone {seconds:.1f} s after the stack was killed")


def test_a_signal_during_migrate_stops_it_and_starts_nothing(
    tmp_path, postgres_server, stack_data_dir, topology_redis_url
):
    # A fresh database: migrate runs long enough (seconds) to be caught in the middle.
    name = _database_name("migrate")
    database_url = live.postgres_database(postgres_server, name)
    stack = _start_stack(tmp_path, database_url, stack_data_dir, topology_redis_url,
                         live.free_port(), celery_workers=1)
    try:
        stack.wait_for_log("Applying ", timeout=STACK_START_TIMEOUT)
        stack.proc.send_signal(signal.SIGQUIT)
        code = stack.proc.wait(timeout=STOP_TIMEOUT)
        # migrate ran in the script's process group: nothing of it is left either.
        left = _left_after({"run.py and migrate": stack.proc.pid}, timeout=5)
    finally:
        _stop_all(stack)
        live.postgres_database(postgres_server, name, drop=True)
    assert code == 0, stack.log_tail(40)
    # Migrate is usually caught (about a second of "Applying" here); on a fast machine the
    # signal may find collectstatic, the next step: the same path, and still before web.
    assert re.search(r"SIGQUIT: stopped during (migrate|collectstatic); nothing else",
                     stack.log()), stack.log_tail(40)
    assert "started web" not in stack.log()
    assert not left


def _agreement_row(database_url: str, run_id: int) -> dict:
    import psycopg
    from psycopg.rows import dict_row

    with psycopg.connect(database_url, row_factory=dict_row) as conn:
        return conn.execute(
            "SELECT status, attempts, timings FROM annotator_agreementrun WHERE id = %s",
            (run_id,),
        ).fetchone()


# --- Refusals -------------------------------------------------------------------------


def _refusal(args: list[str], env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "run.py", "stack", *args], cwd=live.ROOT, env=env,
                          capture_output=True, text=True, timeout=30)


@pytest.mark.parametrize(
    ("args", "unset", "says"),
    [
        (["--insecure-http"], "REDIS_URL", "set REDIS_URL"),
        (["--insecure-http"], "DATABASE_URL", "set DATABASE_URL"),
        ([], None, "set SECRET_KEY and ALLOWED_HOSTS"),
        (["--insecure-http", "--host", "0.0.0.0"], None, "only on a loopback --host"),
    ],
)
def test_stack_refuses_an_incomplete_configuration_with_one_line(args, unset, says):
    env = _stack_env(DATABASE_URL="postgres://nobody@127.0.0.1:1/none",
                     REDIS_URL="redis://127.0.0.1:1/0")
    if unset:
        env.pop(unset)
    began = time.monotonic()
    done = _refusal(args, env)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and says in done.stderr, done.stderr
    assert done.stdout == ""
    assert time.monotonic() - began < 10, "refused before migrating or starting anything"


def test_stack_needs_a_postgresql_database_url():
    env = _stack_env(DATABASE_URL="sqlite:////tmp/warrant.sqlite3", REDIS_URL="redis://x:1/0")
    done = _refusal(["--insecure-http"], env)
    assert done.returncode == 2 and "PostgreSQL" in done.stderr

