"""Load test: concurrent annotators saving and deleting spans, gunicorn + PostgreSQL.

    .venv/bin/python benchmarks/load_annotate.py                  # 50 clients, 60 s
    .venv/bin/python benchmarks/load_annotate.py --clients 8      # Label Studio's reference load
    .venv/bin/python benchmarks/load_annotate.py --quick          # 10 clients, 10 s
    .venv/bin/python benchmarks/load_annotate.py --workers 3 --threads 4   # gthread instead

Issue 7, point 3. Everything runs on loopback. The script makes a fresh
PostgreSQL database (``--database``, on the server DATABASE_URL names, else
postgres@127.0.0.1:5432), migrates it and sets up a project the way an
instructor does, with the management commands: ``create_project``,
``import_documents`` (one ~2,000-word brief per student), ``add_members --csv``
(``--clients`` students), ``assign --per-document 1`` (each student gets their
own brief) and a few spans already on every brief. It then starts gunicorn
with the production settings (``tests/live.py``'s ``app_env``: no TLS
redirect on loopback) and, in this process, one thread per student with its
own keep-alive HTTP connection. Each student logs in through the login form,
opens their annotation page once (its version and CSRF token, as the page's
script reads them), then, in a closed loop for ``--duration`` seconds
(``--think-ms`` between requests): saves a span over random whole words with a
random label, or, one time in three when it has some, deletes one of the spans
the server acknowledged. Every write is the htmx POST that annotate.js sends,
with the set's version; the answer's ``X-Warrant-Version`` is the next one and
its ``warrant:saved`` event (``HX-Trigger-After-Swap``) carries the new span's
id and offsets.

It prints the latency the clients saw (p50/p95/p99/max) for saves, deletes and
both, the server's own time from the Server-Timing header, throughput, answers
by status, the CPU that gunicorn, PostgreSQL and the clients used, and then
checks against PostgreSQL that every acknowledged save is there with its label
and offsets, that every acknowledged deletion is gone, that nothing else
changed, and that each set's version grew by exactly its acknowledged writes.
A 5xx answer, a connection error, a lost save or a version off by any amount
is a failure: it is printed and the script exits with status 1.

The run is bounded: after ``--duration`` the clients finish the request they
are in (at most ``--timeout`` s each), gunicorn is stopped and the database
dropped (``--keep`` keeps it and prints its URL).

Reference (issue 7): Label Studio 1.23 on the same 2-core machine accepts about
16 annotation submissions per second with 8 concurrent clients, p95 876 ms.
"""

from __future__ import annotations

import argparse
import http.client
import http.cookies
import json
import math
import os
import random
import re
import select
import shutil
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests import live  # noqa: E402

SLUG = "load"
DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
PASSWORD = "load-test-password-1"
# Label Studio 1.23 on this machine, 8 concurrent clients (issue 7).
LS_REFERENCE = {"clients": 8, "per_s": 16.0, "p95_ms": 876.0}
BRIEF_WORDS = 2_000
SPANS_BEFORE = 5  # spans already on every brief when the students start
MAX_SPAN_WORDS = 30
DELETE_SHARE = 1 / 3
TOKEN = re.compile(r"\S+")  # Warrant's tokens (annotator/text/tokens.py): runs of non-space

_FILLER_WORDS = (
    "sanctions tariffs exports imports growth prices policy government reform evidence "
    "report study data shows because therefore however although inflation trade market "
    "countries regime pressure effective costly households firms banks oil gas currency "
    "the a of to and in that is was for on with as by it not be are this have"
)
_FILLER = tuple(_FILLER_WORDS.split())


# ----------------------------------------------------------------------------- setup


def _brief_text(demo: str, n: int) -> str:
    """The demo brief, then generated paragraphs up to ~2,000 words; different for each n."""
    rng = random.Random(n)
    paragraphs = [f"Brief {n} for the load test", demo.strip()]
    words = len(demo.split())
    while words < BRIEF_WORDS:
        sentences = []
        for _ in range(5):
            length = rng.randint(8, 24)
            sentence = " ".join(rng.choice(_FILLER) for _ in range(length))
            sentences.append(sentence[0].upper() + sentence[1:] + ".")
            words += length
        paragraphs.append(" ".join(sentences))
    return "\n\n".join(paragraphs) + "\n"


_SEED_SPANS = """
import re
import select
from annotator.models import AnnotationSet
from annotator.services.annotations import span_create
sets = AnnotationSet.objects.filter(document__project__slug={slug!r}).select_related(
    "document__project")
for aset in sets:
    tokens = [m.span() for m in re.finditer(r"\\S+", aset.document.text)]
    labels = list(aset.document.project.span_labels.order_by("position", "name"))
    for i in range({n}):
        first = (i + 1) * len(tokens) // ({n} + 1)
        span_create(annotation_set=aset, label=labels[i % len(labels)],
                    start=tokens[first][0], end=tokens[first + 6][1],
                    expected_version=aset.version)
"""


@dataclass
class Student:
    username: str
    set_id: int
    document_id: int
    text: str
    version: int  # in the database before the run
    spans_before: dict[int, tuple[int, int, int]]  # id -> (label, start, end)


def setup(env: dict, tmp: Path, clients: int) -> tuple[list[Student], dict[int, str], float]:
    """The project, its students and briefs; returns them, the labels and the seconds taken."""
    t0 = time.perf_counter()
    live.manage("migrate", "--no-input", env=env)
    live.manage("create_project", SLUG, "--name", "Load test", "--per-document", "1", env=env)
    demo = (ROOT / "annotator" / "demo" / "brief.txt").read_text(encoding="utf-8")
    briefs = tmp / "briefs"
    briefs.mkdir()
    for n in range(clients):
        (briefs / f"brief-{n:03d}.txt").write_text(_brief_text(demo, n), encoding="utf-8")
    live.manage("import_documents", SLUG, *sorted(str(p) for p in briefs.iterdir()), env=env)
    members = tmp / "students.csv"
    members.write_text("username,email,password\n" + "".join(
        f"student{n:03d},student{n:03d}@example.org,{PASSWORD}\n" for n in range(clients)
    ))
    live.manage("add_members", SLUG, "--role", "annotator", "--csv", str(members), env=env)
    live.manage("assign", SLUG, "--per-document", "1", "--seed", "7", env=env)
    live.manage("shell", "-c", _SEED_SPANS.format(slug=SLUG, n=SPANS_BEFORE), env=env)
    students, labels = _read_students(env["DATABASE_URL"])
    if len(students) != clients:
        raise RuntimeError(f"{len(students)} students with a set, expected {clients}")
    return students, labels, time.perf_counter() - t0


def _read_students(url: str) -> tuple[list[Student], dict[int, str]]:
    import psycopg

    with psycopg.connect(url) as conn:
        project_id = conn.execute(
            "SELECT id FROM annotator_project WHERE slug = %s", [SLUG]).fetchone()[0]
        labels = dict(conn.execute(
            "SELECT id, name FROM annotator_spanlabel WHERE project_id = %s", [project_id]))
        rows = conn.execute(
            "SELECT u.username, s.id, d.id, d.text, s.version FROM annotator_annotationset s"
            " JOIN annotator_user u ON u.id = s.annotator_id"
            " JOIN annotator_document d ON d.id = s.document_id"
            " WHERE d.project_id = %s ORDER BY u.username", [project_id]).fetchall()
        spans = _spans_by_set(conn, [r[1] for r in rows])
    students = [
        Student(username=u, set_id=s, document_id=d, text=t, version=v,
                spans_before=spans.get(s, {}))
        for u, s, d, t, v in rows
    ]
    return students, labels


def _spans_by_set(conn, set_ids: list[int]) -> dict[int, dict[int, tuple[int, int, int]]]:
    out: dict[int, dict[int, tuple[int, int, int]]] = {}
    for span_id, set_id, label, start, end in conn.execute(
        'SELECT id, annotation_set_id, label_id, start, "end" FROM annotator_span'
        " WHERE annotation_set_id = ANY(%s)", [set_ids]
    ):
        out.setdefault(set_id, {})[span_id] = (label, start, end)
    return out


# ----------------------------------------------------------------------------- clients


@dataclass
class Sample:
    kind: str  # "save" or "delete"
    status: int  # 0: no answer (connection error, timeout)
    started: float  # perf_counter
    ms: float
    server_ms: float | None


@dataclass
class ClientState:
    student: Student
    samples: list[Sample] = field(default_factory=list)
    saved: dict[int, tuple[int, int, int]] = field(default_factory=dict)  # acknowledged, live
    deleted: dict[int, tuple[int, int, int]] = field(default_factory=dict)  # acknowledged
    acked_writes: int = 0
    uncertain_writes: int = 0  # sent, no answer: the server may or may not have committed
    snapped: int = 0  # saves the server stored at other offsets than sent
    failures: list[str] = field(default_factory=list)
    finished: float = 0.0


class Browser:
    """One student's browser: a keep-alive connection, cookies, the page's CSRF token."""

    def __init__(self, port: int, timeout: float):
        self.port = port
        self.origin = f"http://127.0.0.1:{port}"
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        self.cookies: dict[str, str] = {}
        self.csrf = ""

    def request(self, method: str, path: str, data: dict | None = None,
                headers: dict | None = None) -> tuple[int, http.client.HTTPMessage, bytes]:
        sent = {"Referer": self.origin + path, "Origin": self.origin}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if data is not None:
            body = urllib.parse.urlencode(data)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        sent.update(headers or {})
        self._drop_if_closed()
        try:
            self.conn.request(method, path, body=body, headers=sent)
            response = self.conn.getresponse()
            content = response.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()  # the next request opens a new connection
            raise
        for value in response.headers.get_all("Set-Cookie") or []:
            jar = http.cookies.SimpleCookie()
            jar.load(value)
            for name, morsel in jar.items():
                self.cookies[name] = morsel.value
        return response.status, response.headers, content

    def _drop_if_closed(self) -> None:
        """Reconnect if the server closed the idle connection (gunicorn's keep-alive is 2 s).

        A browser does the same: it does not send a request on a socket the server has
        already closed. (urllib3's ``is_connection_dropped`` is the same check.)
        """
        sock = self.conn.sock
        if sock is not None and select.select([sock], [], [], 0)[0]:
            self.conn.close()

    def login(self, username: str) -> None:
        self.request("GET", "/accounts/login/")
        status, headers, _ = self.request("POST", "/accounts/login/", {
            "username": username, "password": PASSWORD,
            "csrfmiddlewaretoken": self.cookies.get("csrftoken", ""),
        })
        if status != 302 or "/accounts/login/" in (headers.get("Location") or ""):
            raise RuntimeError(f"log-in as {username} refused ({status})")

    def open_page(self, path: str) -> int:
        """GET the annotation page; keep its CSRF token, return the set's version."""
        status, _, body = self.request("GET", path)
        if status != 200:
            raise RuntimeError(f"{path}: {status}")
        page = body.decode()
        self.csrf = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)
        return int(re.search(r'data-version="(\d+)"', page).group(1))

    def close(self) -> None:
        self.conn.close()


def _server_ms(headers) -> float | None:
    timing = headers.get("Server-Timing") if headers is not None else None
    return float(timing.split("dur=")[1]) if timing and "dur=" in timing else None


def run_client(state: ClientState, **kwargs) -> None:
    """One student, start to end; whatever goes wrong is recorded as a failure."""
    try:
        _student_session(state, **kwargs)
    except Exception as exc:
        state.failures.append(f"{state.student.username}: stopped by {exc!r}")
    finally:
        state.finished = time.perf_counter()


def _student_session(state: ClientState, *, port: int, labels: list[int],
                     ready: threading.Barrier, go: threading.Event, clock: dict,
                     duration: float, think_ms: float, timeout: float, seed: int,
                     panels: bool = True) -> None:
    student = state.student
    rng = random.Random(seed)
    tokens = [m.span() for m in TOKEN.finditer(student.text)]
    base = f"/p/{SLUG}/d/{student.document_id}/annotate/"
    taken = {(lab, s, e) for lab, s, e in student.spans_before.values()}
    browser = Browser(port, timeout)
    try:
        browser.login(student.username)
        version = browser.open_page(base)
    except Exception as exc:  # any failure to start is reported
        state.failures.append(f"{student.username}: could not start: {exc!r}")
        ready.abort()
        return
    try:
        ready.wait()
    except threading.BrokenBarrierError:
        return
    go.wait()
    deadline = clock["start"] + duration
    htmx = {"HX-Request": "true", "HX-Current-URL": browser.origin + base,
            "X-CSRFToken": browser.csrf}
    while time.perf_counter() < deadline:
        if state.saved and rng.random() < DELETE_SHARE:
            kind = "delete"
            span_id = rng.choice(list(state.saved))
            path, data = f"{base}spans/{span_id}/delete/", {"expected_version": version}
        else:
            kind = "save"
            while True:
                first = rng.randrange(len(tokens))
                last = min(len(tokens) - 1, first + rng.randrange(MAX_SPAN_WORDS))
                sent = (rng.choice(labels), tokens[first][0], tokens[last][1])
                if sent not in taken:  # the same label on the same words is refused (400)
                    break
            path = f"{base}spans/"
            data = {"label": sent[0], "start": sent[1], "end": sent[2], "snap": "1",
                    "expected_version": version}
        t0 = time.perf_counter()
        try:
            status, headers, body = browser.request("POST", path, data, htmx)
        except (OSError, http.client.HTTPException) as exc:
            elapsed = (time.perf_counter() - t0) * 1000
            state.samples.append(Sample(kind, 0, t0, elapsed, None))
            state.failures.append(f"{student.username} {kind}: no answer after "
                                  f"{elapsed:.0f} ms: {exc!r}")
            state.uncertain_writes += 1
            try:  # as a person would: reload the page to see what was saved
                version = browser.open_page(base)
            except Exception as again:
                state.failures.append(f"{student.username}: reload failed: {again!r}; stopping")
                break
            continue
        elapsed = (time.perf_counter() - t0) * 1000
        state.samples.append(Sample(kind, status, t0, elapsed, _server_ms(headers)))
        if status == 200:
            version = int(headers["X-Warrant-Version"])
            state.acked_writes += 1
            event = json.loads(headers["HX-Trigger-After-Swap"])["warrant:saved"]
            if kind == "save":
                span_id, label, start, end = event["change"]["spans"][0]
                state.saved[span_id] = (label, start, end)
                taken.add((label, start, end))
                state.snapped += (label, start, end) != sent
            else:
                state.deleted[span_id] = state.saved.pop(span_id)
                taken.discard(state.deleted[span_id])
                if event["change"]["removed_spans"] != [span_id]:
                    state.failures.append(f"{student.username}: deleted {span_id}, the answer "
                                          f"says {event['change']['removed_spans']}")
        elif status >= 500:
            state.failures.append(f"{student.username} {kind}: {status} {body[:300]!r}")
            state.uncertain_writes += 1
            version = browser.open_page(base)
        elif status == 409:  # stale version: cannot happen with one client per set
            version = browser.open_page(base)
        # 400 (refused) leaves the version as it was.
        if panels and status == 200 and not _panels_come_along(headers, body):
            # As annotate.js did after each save before the answer brought its panels (or
            # the change it draws them from): reload the outline and warnings panels.
            t0 = time.perf_counter()
            try:
                status, headers, body = browser.request("GET", f"{base}panels/", None, htmx)
            except (OSError, http.client.HTTPException) as exc:
                status, headers = 0, {}
                state.failures.append(f"{student.username} panels: no answer: {exc!r}")
            state.samples.append(Sample("panels", status, t0, (time.perf_counter() - t0) * 1000,
                                        _server_ms(headers) if headers else None))
            if status >= 500:
                state.failures.append(f"{student.username} panels: {status} {body[:300]!r}")
        if think_ms:
            time.sleep(think_ms / 1000)
    browser.close()


def _panels_come_along(headers: dict, body: bytes) -> bool:
    """Whether the page needs no panels request after this write's answer: the panels are
    in it, or its event carries the change the page draws them from (panels.js)."""
    if b'id="panels"' in body:
        return True
    event = json.loads(headers.get("HX-Trigger-After-Swap") or "{}").get("warrant:saved", {})
    return "change" in event


# ----------------------------------------------------------------------------- figures


def _pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def _latency_row(name: str, samples: list[Sample], seconds: float) -> str:
    if not samples:
        return f"  {name:<8} {0:>7}"
    ms = [s.ms for s in samples]
    server = [s.server_ms for s in samples if s.server_ms is not None]
    srv = (f"{statistics.median(server):7.1f} {_pct(server, 95):7.1f}" if server
           else f"{'-':>7} {'-':>7}")
    return (f"  {name:<8} {len(samples):>7} {len(samples) / seconds:>7.1f} "
            f"{statistics.median(ms):7.1f} {_pct(ms, 95):7.1f} {_pct(ms, 99):7.1f} "
            f"{max(ms):8.1f}   {srv}")


def _cpu_seconds(pids: set[int]) -> float:
    """utime + stime of these processes (Linux /proc), in seconds."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / tick


def _process_tree(root: int) -> set[int]:
    """``root`` and its descendants, from /proc."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry)] = int(stat[1])
    tree, grew = {root}, True
    while grew:
        grew = False
        for pid, ppid in parents.items():
            if ppid in tree and pid not in tree:
                tree.add(pid)
                grew = True
    return tree


def _postgres_backends(dbname: str) -> set[int]:
    """PostgreSQL's server processes for this database (their title names it), from /proc."""
    pids = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                title = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            if title.startswith(b"postgres: ") and f" {dbname} ".encode() in title:
                pids.add(int(entry))
    return pids


class CpuMeter:
    """CPU seconds of gunicorn's and PostgreSQL's processes over the run.

    Sampled every half second, because PostgreSQL connections come and go
    (CONN_MAX_AGE) and a process that has exited can no longer be read.
    """

    def __init__(self, gunicorn_pid: int, dbname: str):
        self.gunicorn_pid, self.dbname = gunicorn_pid, dbname
        self.first: dict[str, dict[int, float]] = {"gunicorn": {}, "postgres": {}}
        self.last: dict[str, dict[int, float]] = {"gunicorn": {}, "postgres": {}}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _sample(self, *, baseline: bool = False) -> None:
        """Record every process's CPU; a process first seen after the start began at 0."""
        groups = {"gunicorn": _process_tree(self.gunicorn_pid),
                  "postgres": _postgres_backends(self.dbname)}
        for name, pids in groups.items():
            for pid in pids:
                seconds = _cpu_seconds({pid})
                self.first[name].setdefault(pid, seconds if baseline else 0.0)
                self.last[name][pid] = seconds

    def _loop(self) -> None:
        while not self._stop.wait(0.5):
            self._sample()

    def start(self) -> None:
        self._sample(baseline=True)
        self._thread.start()

    def stop(self) -> dict[str, float]:
        self._stop.set()
        self._thread.join()
        self._sample()
        return {name: sum(self.last[name].values()) - sum(self.first[name].values())
                for name in self.last}


# ----------------------------------------------------------------------------- checks


def verify(url: str, states: list[ClientState]) -> tuple[list[str], list[str]]:
    """Compare the database with what the clients were told; (report lines, failures)."""
    import psycopg

    with psycopg.connect(url) as conn:
        ids = [st.student.set_id for st in states]
        in_db = _spans_by_set(conn, ids)
        versions = dict(conn.execute(
            "SELECT id, version FROM annotator_annotationset WHERE id = ANY(%s)", [ids]))
    acked = found = missing = wrong = deleted = still = unexpected = 0
    version_ok = version_uncertain = 0
    failures = []
    for st in states:
        name, rows = st.student.username, in_db.get(st.student.set_id, {})
        for span_id, want in st.saved.items():
            acked += 1
            got = rows.get(span_id)
            if got is None:
                missing += 1
                failures.append(f"{name}: acknowledged span {span_id} {want} is not in the DB")
            elif got != want:
                wrong += 1
                failures.append(f"{name}: span {span_id} is {got} in the DB, acknowledged {want}")
            else:
                found += 1
        acked += len(st.deleted)
        for span_id in st.deleted:
            deleted += 1
            if span_id in rows:
                still += 1
                failures.append(f"{name}: acknowledged deletion of span {span_id}, still there")
        expected = set(st.student.spans_before) | set(st.saved)
        extra = set(rows) - expected
        unexpected += len(extra)
        if extra and not st.uncertain_writes:
            failures.append(f"{name}: spans nobody was told about: {sorted(extra)}")
        gained = versions[st.student.set_id] - st.student.version
        if gained == st.acked_writes:
            version_ok += 1
        elif st.acked_writes < gained <= st.acked_writes + st.uncertain_writes:
            version_uncertain += 1
        else:
            failures.append(f"{name}: set version grew by {gained}, {st.acked_writes} "
                            "acknowledged writes")
    lines = [
        f"  acknowledged saves     {acked:>7}  (live at the end {acked - deleted}, "
        f"deleted later {deleted})",
        f"    live, in the DB as acknowledged {found:>6}   missing {missing}   different {wrong}",
        f"  acknowledged deletions {deleted:>7}  still in the DB {still}",
        f"  spans nobody was told about {unexpected} (only possible after an unanswered write)",
        f"  set versions = before + acknowledged writes: {version_ok} of {len(states)} sets"
        + (f"; {version_uncertain} more within the unanswered writes" if version_uncertain
           else ""),
    ]
    return lines, failures


# ----------------------------------------------------------------------------- main


def _database_exists(server: str, name: str) -> bool:
    import psycopg

    parts = urllib.parse.urlsplit(server)
    admin = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        return found.fetchone() is not None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50, help="concurrent annotators")
    parser.add_argument("--duration", type=float, default=60, help="seconds of load")
    # 2 x cores + 1 sync workers (gunicorn's rule of thumb). gthread keeps each keep-alive
    # connection on the worker that accepted it, so with 50 busy clients a few get most of
    # the turns and the p95 doubles; sync workers take connections in arrival order.
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1,
                        help="gunicorn worker processes (default 2 x cores + 1)")
    parser.add_argument("--threads", type=int, default=1,
                        help="threads per worker (1: sync workers, more: gthread)")
    parser.add_argument("--think-ms", type=float, default=0, help="pause after each request")
    parser.add_argument("--timeout", type=float, default=30,
                        help="client socket timeout; also bounds the drain after --duration")
    parser.add_argument("--database", default="warrant_load", help="database to create")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--replace", action="store_true",
                        help="drop --database first if it exists (otherwise refused)")
    parser.add_argument("--quick", action="store_true", help="10 clients for 10 s")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-panels", action="store_true",
                        help="never reload the outline panels after a write (by default a "
                        "client reloads them when the answer neither holds nor redraws them)")
    parser.add_argument("--base", action="append", default=[], metavar="PATH[:ARGS]",
                        help="also run an older checkout's own load_annotate.py (with its "
                        ".venv) the same way, before this one, and compare writes/s; ARGS "
                        "are extra arguments for it, e.g. /work/base-main:--no-panels")
    parser.add_argument("--this-first", action="store_true",
                        help="with --base: run this checkout first, not last (to see the order's "
                        "effect on a machine whose load drifts)")
    args = parser.parse_args(argv)
    if args.quick:
        args.clients, args.duration = min(args.clients, 10), min(args.duration, 10)
    if args.base:
        return _compare(args, argv if argv is not None else sys.argv[1:])

    server = live.postgres_server_url() or DEFAULT_SERVER
    if _database_exists(server, args.database) and not args.replace:
        print(f"load_annotate: database {args.database} exists; it would be dropped. "
              "Pass --replace, or another --database.", file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="warrant-load-"))
    url = live.postgres_database(server, args.database)
    web = None
    try:
        env = live.app_env(database_url=url, LOG_LEVEL="WARNING")
        students, labels, setup_s = setup(env, tmp, args.clients)
        port = live.free_port()
        web = live.start_gunicorn(env=env, port=port, log_dir=tmp, workers=args.workers,
                                  threads=args.threads)
        return _run(args, url, students, labels, setup_s, port, web, tmp)
    finally:
        if web is not None:
            web.stop()
        if args.keep:
            print(f"\ndatabase kept: {url}; gunicorn log kept: {tmp / 'web.log'}")
        else:
            live.postgres_database(server, args.database, drop=True)
            shutil.rmtree(tmp, ignore_errors=True)


_THROUGHPUT = re.compile(r"throughput: ([0-9.]+) acknowledged writes/s")
_CPU = re.compile(r"CPU during the run: gunicorn ([0-9.]+) s, PostgreSQL ([0-9.]+) s")
_MEASURED = re.compile(r"measured ([0-9.]+) s")


def _compare(args, argv: list[str]) -> int:
    """Each --base checkout's own script, then this one, in one run; writes/s and ratios."""
    import subprocess

    own = []
    skip = False
    for arg in argv:  # this run's arguments, without --base and --database
        if skip:
            skip = False
        elif arg in ("--base", "--database"):
            skip = True
        elif not arg.startswith(("--base=", "--database=")) and arg != "--this-first":
            own.append(arg)
    runs = [(spec.split(":", 1)[0], spec.split(":", 1)[1].split() if ":" in spec else [])
            for spec in args.base]
    runs = [(str(ROOT), []), *runs] if args.this_first else [*runs, (str(ROOT), [])]
    figures = []
    for i, (path, extra) in enumerate(runs):
        code = Path(path).resolve()
        python = code / ".venv" / "bin" / "python"
        cmd = [str(python if python.exists() else sys.executable),
               str(code / "benchmarks" / "load_annotate.py"), *own, *extra,
               "--database", f"{args.database}_{i}", "--replace"]
        print(f"\n[{code}] {' '.join(cmd[2:])}", flush=True)
        before = os.getloadavg()
        done = subprocess.run(cmd, cwd=code, capture_output=True, text=True)
        print(done.stdout[-3000:] + done.stderr[-1500:], flush=True)
        found = _THROUGHPUT.search(done.stdout)
        cpu, measured = _CPU.search(done.stdout), _MEASURED.search(done.stdout)
        per_s = float(found.group(1)) if found else None
        # CPU per write: what the server spent, whatever share of a shared machine it got.
        cpu_ms = (1000 * (float(cpu.group(1)) + float(cpu.group(2)))
                  / (per_s * float(measured.group(1)))) if per_s and cpu and measured else None
        figures.append((code, per_s, cpu_ms, before, done.returncode))
    this, this_cpu = next((per_s, cpu_ms) for code, per_s, cpu_ms, *_ in figures
                          if code == ROOT.resolve())
    print("\nwrites/s and server CPU (gunicorn + PostgreSQL) per write in this run, "
          "load averages 1/5/15 min when each started")
    for code, per_s, cpu_ms, load, rc in figures:
        ratio = f"  this/that {this / per_s:.2f}x" if this and per_s else ""
        if this_cpu and cpu_ms:
            ratio += f", CPU per write that/this {cpu_ms / this_cpu:.2f}x"
        shown = f"{per_s:.1f}" if per_s is not None else "failed"
        cpu_shown = f"{cpu_ms:.1f} ms" if cpu_ms else "?"
        print(f"  {code!s:40} {shown:>8} writes/s {cpu_shown:>9} CPU/write  exit {rc}  load "
              f"{load[0]:.2f}/{load[1]:.2f}/{load[2]:.2f}{ratio}")
    return max(rc for *_, rc in figures)


def _run(args, url, students, labels, setup_s, port, web, tmp) -> int:
    states = [ClientState(st) for st in students]
    clock: dict[str, float] = {}
    ready, go = threading.Barrier(len(states) + 1), threading.Event()
    threads = [
        threading.Thread(
            target=run_client, name=st.student.username, daemon=True,
            kwargs={"state": st, "port": port, "labels": sorted(labels), "ready": ready, "go": go,
                    "clock": clock, "duration": args.duration, "think_ms": args.think_ms,
                    "timeout": args.timeout, "seed": args.seed * 10_000 + i,
                    "panels": not args.no_panels},
        )
        for i, st in enumerate(states)
    ]
    t_login = time.perf_counter()
    for thread in threads:
        thread.start()
    try:
        ready.wait(timeout=args.timeout + 5 * len(states))
    except threading.BrokenBarrierError:
        for st in states:
            for line in st.failures:
                print(line)
        print(f"gunicorn log:\n{web.log_tail()}")
        return 1
    login_s = time.perf_counter() - t_login
    # Everyone is logged in with the page open: the measured load starts now.
    meter = CpuMeter(web.proc.pid, args.database)
    meter.start()
    client_cpu = time.process_time()
    load_before = os.getloadavg()[0]
    clock["start"] = start = time.perf_counter()
    go.set()
    for thread in threads:
        thread.join(timeout=max(0.0, start + args.duration + args.timeout + 5
                                - time.perf_counter()))
    hung = [t.name for t in threads if t.is_alive()]
    end = max([st.finished for st in states] + [time.perf_counter() if hung else start])
    elapsed = end - start
    used = meter.stop()
    cpu = (used["gunicorn"], used["postgres"], time.process_time() - client_cpu)
    load_after = os.getloadavg()[0]

    samples = [s for st in states for s in st.samples]
    saves = [s for s in samples if s.kind == "save"]
    deletes = [s for s in samples if s.kind == "delete"]
    reads = [s for s in samples if s.kind == "panels"]
    ok = [s for s in saves + deletes if s.status == 200]
    statuses = Counter(s.status for s in samples)
    failures = [line for st in states for line in st.failures]
    failures += [f"{name}: still running {args.timeout + 5:.0f} s after the end" for name in hung]
    worker_kind = "sync" if args.threads == 1 else "gthread"

    print(f"\nWarrant load test: {args.clients} annotators for {args.duration:g} s, "
          f"think time {args.think_ms:g} ms, loopback")
    print(f"  machine: {os.cpu_count()} cores; load average {load_before:.2f} at the start, "
          f"{load_after:.2f} at the end")
    print(f"  gunicorn: {args.workers} {worker_kind} worker(s) x {args.threads} thread(s); "
          f"PostgreSQL {args.database}; production settings")
    print(f"  setup {setup_s:.1f} s (migrate, {args.clients} briefs of ~{BRIEF_WORDS:,} words, "
          f"{SPANS_BEFORE} spans each); {args.clients} log-ins + pages {login_s:.1f} s")
    print(f"  measured {elapsed:.1f} s (the last request ended "
          f"{elapsed - args.duration:.2f} s after the {args.duration:g} s mark)")
    print("\n  latency (client side, ms)         client                      server")
    print(f"  {'':<8} {'count':>7} {'per s':>7} {'p50':>7} {'p95':>7} {'p99':>7} {'max':>8}"
          f"   {'p50':>7} {'p95':>7}")
    print(_latency_row("save", saves, elapsed))
    print(_latency_row("delete", deletes, elapsed))
    print(_latency_row("writes", saves + deletes, elapsed))
    if reads:
        print(_latency_row("panels", reads, elapsed))
    answers = ", ".join(f"{k or 'no answer'}: {v}" for k, v in sorted(statuses.items()))
    print(f"\n  answers: {answers}")
    print(f"  throughput: {len(ok) / elapsed:.1f} acknowledged writes/s, "
          f"{sum(1 for s in saves if s.status == 200) / elapsed:.1f} acknowledged saves/s")
    per_client = sorted(
        sum(1 for x in st.samples if x.status == 200 and x.kind != "panels") for st in states
    )
    print(f"  acknowledged writes per client: min {per_client[0]}, median "
          f"{statistics.median(per_client):g}, max {per_client[-1]} (fairness between clients)")
    snapped = sum(st.snapped for st in states)
    if snapped:
        print(f"  saves stored at other offsets than sent (snapping): {snapped}")
    print(f"  CPU during the run: gunicorn {cpu[0]:.1f} s, PostgreSQL {cpu[1]:.1f} s, "
          f"clients (this process) {cpu[2]:.1f} s, of {elapsed * os.cpu_count():.0f} core-s")
    ok_ms = [s.ms for s in ok]
    if ok_ms:
        print(f"\n  Label Studio 1.23, same machine: {LS_REFERENCE['per_s']:g} submissions/s with "
              f"{LS_REFERENCE['clients']} clients, p95 {LS_REFERENCE['p95_ms']:g} ms")
        print(f"  Warrant, this run:               {len(ok) / elapsed:.1f} writes/s with "
              f"{args.clients} clients, p95 {_pct(ok_ms, 95):.0f} ms"
              + ("" if args.clients == LS_REFERENCE["clients"]
                 else f"  (run --clients {LS_REFERENCE['clients']} to compare like with like)"))

    print("\n  the database afterwards (PostgreSQL, read directly)")
    lines, lost = verify(url, states)
    for line in lines:
        print(line)
    failures += lost
    conflicts = statuses.get(409, 0)
    if conflicts:
        print(f"  409 stale version: {conflicts} (one client per set: should be none)")
    log = web.log()
    errors = [line for line in log.splitlines() if "Traceback" in line or "ERROR" in line]
    if errors:
        failures.append(f"gunicorn log has {len(errors)} error line(s); log: {tmp / 'web.log'}")
        print("\n  gunicorn log, last lines:\n" + web.log_tail(60))
    bad = [s for s in samples if s.status == 0 or s.status >= 500]
    if failures or bad:
        print(f"\nFAILED: {len(bad)} 5xx / unanswered request(s), {len(failures)} problem(s):")
        for line in failures[:50]:
            print(f"  {line}")
        if len(failures) > 50:
            print(f"  ... and {len(failures) - 50} more")
        return 1
    print("\nOK: no 5xx, no connection errors, every acknowledged write is in the database.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
