"""Real Celery worker processes against Redis, on the test database.

A worker is ``celery -A config worker`` started as a subprocess with
``tests.worker.settings``; it reads and writes the same test database as the
test (which commits its rows: ``transaction=True``). That needs a database
another process can open: PostgreSQL (CI sets DATABASE_URL), or an SQLite
file; the default in-memory SQLite test database cannot be shared, and the
tests skip then (fail in CI).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.conftest import skip_or_fail

ROOT = Path(__file__).resolve().parents[2]
#: A Redis database of its own, so that a test worker never restores (or takes)
#: messages of another Warrant on the same server.
REDIS_URL = os.environ.get("WARRANT_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")
#: Starting a prefork worker takes 2-3 s on the CI machine; this is the limit.
WORKER_START_TIMEOUT = 30


@pytest.fixture(scope="session")
def redis_url() -> str:
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
    try:
        client.ping()
    except redis.RedisError as exc:
        skip_or_fail(f"Redis is not reachable at {REDIS_URL} ({exc})")
    finally:
        client.close()
    return REDIS_URL


def _database_url(settings_dict: dict) -> str | None:
    engine = settings_dict["ENGINE"]
    name = str(settings_dict["NAME"])
    if engine.endswith("postgresql"):
        user = quote(settings_dict.get("USER") or "")
        password = quote(settings_dict.get("PASSWORD") or "")
        auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
        host = settings_dict.get("HOST") or "localhost"
        port = settings_dict.get("PORT") or 5432
        return f"postgres://{auth}{host}:{port}/{quote(name)}"
    if engine.endswith("sqlite3"):
        if name == ":memory:" or "mode=memory" in name:
            return None
        return f"sqlite:///{name}"
    return None


@pytest.fixture(scope="session")
def worker_database_url(django_db_setup, django_db_blocker) -> str:
    """The URL of the test database (pytest-django's ``test_<name>``), for the workers."""
    from django.db import connection

    url = _database_url(connection.settings_dict)
    if url is None:
        skip_or_fail(
            "the worker tests need a test database that another process can open: "
            "set DATABASE_URL to PostgreSQL (as CI does), or give SQLite a TEST NAME file"
        )
    return url


class Worker:
    """One ``celery -A config worker`` process (and its pool), in a process group of its own."""

    def __init__(self, *, name: str, queue: str, env: dict, log_dir: Path):
        self.name = name
        self.queue = queue
        self.env = env
        self.log_path = log_dir / f"{name}.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> Worker:
        log = open(self.log_path, "wb")  # noqa: SIM115 - the child writes to it
        self.proc = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "config", "worker",
                "--pool=prefork", "--concurrency=1", "--loglevel=INFO",
                "--without-mingle", "--without-gossip",
                "-Q", self.queue, "-n", f"{self.name}@%h",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: killed with its pool
        )
        log.close()
        deadline = time.monotonic() + WORKER_START_TIMEOUT
        while time.monotonic() < deadline:
            if b" ready." in self.log_path.read_bytes():
                return self
            if self.proc.poll() is not None:
                pytest.fail(f"worker {self.name} exited at start:\n{self.log_tail()}")
            time.sleep(0.1)
        self.stop()
        pytest.fail(f"worker {self.name} was not ready in {WORKER_START_TIMEOUT} s:\n"
                    f"{self.log_tail()}")

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def kill(self) -> None:
        """SIGKILL the worker and its pool child, as an out-of-memory kill or a crash would."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()


@pytest.fixture
def start_worker(redis_url, worker_database_url, tmp_path):
    """Start workers: ``start_worker(queue, delay=0, visibility_timeout=3600, extra_env=None)``.

    Every worker a test started is stopped when the test ends.
    """
    started: list[Worker] = []
    log_dir = tmp_path

    def start(queue: str, *, delay: float = 0.0, visibility_timeout: int = 3600,
              extra_env: dict | None = None) -> Worker:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.worker.settings",
            "DATABASE_URL": worker_database_url,
            "CELERY_BROKER_URL": redis_url,
            "CELERY_VISIBILITY_TIMEOUT": str(visibility_timeout),
            "WARRANT_TEST_QUEUE": queue,
            "WARRANT_AGREEMENT_TEST_DELAY": str(delay),
            "PYTHONPATH": str(ROOT),
            **(extra_env or {}),
        }
        env.pop("REDIS_URL", None)
        worker = Worker(
            name=f"w{len(started) + 1}-{uuid.uuid4().hex[:6]}", queue=queue, env=env,
            log_dir=log_dir,
        )
        started.append(worker)
        return worker.start()

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def queue(redis_url):
    """A queue name of this test's own; its keys are removed afterwards."""
    import redis

    name = f"warrant-test-{uuid.uuid4().hex[:10]}"
    yield name
    client = redis.Redis.from_url(redis_url)
    client.delete(name, f"_kombu.binding.{name}", f"_kombu.binding_permanent.{name}")
    client.close()
