"""Faults, for real: services stopped and started under a running Warrant.

Nothing here stands in for the database, the broker or the worker. A private
``redis-server`` and a private PostgreSQL cluster run on free ports of
127.0.0.1, so that they can be stopped and started again (same port, same
data) without touching the shared servers; gunicorn and Celery workers are
started with tests/live.py. Each helper skips when what it needs is absent,
and fails instead in CI (``skip_or_fail``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
import urllib.parse
import uuid
from pathlib import Path

import pytest

from tests import live
from tests.conftest import skip_or_fail
from tests.live import wait_until

# The real-worker fixtures of tests/worker: Redis, the test database's URL, a queue per test.
from tests.worker.conftest import queue, redis_url, worker_database_url  # noqa: F401

#: The demo accounts' password (``manage.py demo --password``).
PASSWORD = "faults-demo-pass"
#: Starting or stopping redis-server or PostgreSQL takes well under a second here.
SERVICE_TIMEOUT = 20
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))


def timed(call, *args, **kwargs):
    """``(result, seconds)`` of one call."""
    started = time.monotonic()
    result = call(*args, **kwargs)
    return result, time.monotonic() - started


def sql(url: str, query: str, *params) -> list[tuple]:
    """Rows of one query on the database at ``url`` (a connection of its own)."""
    import psycopg

    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
        cursor = conn.execute(query, params)
        return cursor.fetchall() if cursor.description else []


def seed_demo(database_url: str, media_root: Path) -> None:
    """Migrate the database and create the demo project, in one process (no broker:
    the demo's agreement run is computed in-process)."""
    env = live.app_env(database_url=database_url, MEDIA_ROOT=str(media_root))
    live.manage(
        "shell", "-c",
        "from django.core.management import call_command; "
        "call_command('migrate', interactive=False, verbosity=0); "
        f"call_command('demo', password={PASSWORD!r})",
        env=env,
    )


def copy_database(source_url: str, target_url: str) -> None:
    """Copy a database to another PostgreSQL server (pg_dump | pg_restore)."""
    dump = subprocess.run([str(PG_BIN / "pg_dump"), "-Fc", "--no-owner", source_url],
                          capture_output=True, timeout=60)
    if dump.returncode != 0:
        raise RuntimeError(f"pg_dump failed: {dump.stderr.decode(errors='replace')}")
    restore = subprocess.run([str(PG_BIN / "pg_restore"), "--no-owner", "-d", target_url],
                             input=dump.stdout, capture_output=True, timeout=60)
    if restore.returncode != 0:
        raise RuntimeError(f"pg_restore failed: {restore.stderr.decode(errors='replace')}")


class RedisServer:
    """A private ``redis-server`` with an append-only file, as compose.yaml runs Redis."""

    def __init__(self, *, port: int, data_dir: Path, log_dir: Path):
        self.port = port
        self.data_dir = data_dir
        self.log_dir = log_dir
        self.process: live.Process | None = None
        self.url = f"redis://127.0.0.1:{port}/0"

    def client(self):
        import redis

        return redis.Redis(port=self.port, socket_connect_timeout=1, socket_timeout=2)

    def ping(self) -> bool:
        import redis

        try:
            with self.client() as client:
                return bool(client.ping())
        except redis.RedisError:
            return False

    def start(self) -> RedisServer:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.process = live.Process(
            "redis",
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "yes", "--dir", str(self.data_dir)],
            env=dict(os.environ), log_dir=self.log_dir,
        ).start()
        wait_until(self.ping, SERVICE_TIMEOUT, "redis-server to answer", [self.process])
        return self

    def stop(self) -> None:
        """SIGTERM: Redis writes its append-only file and exits, as ``docker stop`` does."""
        if self.process is not None:
            self.process.stop(timeout=SERVICE_TIMEOUT)


@pytest.fixture
def redis_server(tmp_path):
    """A private redis-server, started; stopped when the test ends."""
    if shutil.which("redis-server") is None:
        skip_or_fail("redis-server is not installed (apt-get install redis-server)")
    server = RedisServer(port=live.free_port(), data_dir=tmp_path / "redis", log_dir=tmp_path)
    yield server.start()
    server.stop()


class PostgresCluster:
    """A private PostgreSQL cluster (initdb into a temporary folder), on a free port.

    Run as the ``postgres`` user when the tests run as root, since PostgreSQL
    refuses to run as root.
    """

    def __init__(self, root: Path, port: int):
        self.root = root
        self.data = root / "data"
        self.port = port
        self.log_path = root / "postgres.log"

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        command = [str(a) for a in args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, capture_output=True, text=True, timeout=60)

    def init(self) -> PostgresCluster:
        if os.geteuid() == 0:
            shutil.chown(self.root, user="postgres")
        done = self._run(PG_BIN / "initdb", "-D", self.data, "-A", "trust", "-U", "postgres",
                         "-N", "--no-instructions")
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed:\n{done.stdout}{done.stderr}")
        return self

    def pg_ctl(self, *args: str) -> None:
        done = self._run(PG_BIN / "pg_ctl", "-D", self.data, "-l", self.log_path, "-w",
                         "-t", str(SERVICE_TIMEOUT), *args)
        if done.returncode != 0:
            log = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
            raise RuntimeError(f"pg_ctl {' '.join(args)} failed:\n{done.stdout}{done.stderr}{log}")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.pg_ctl("-o", options, "start")

    def stop(self) -> None:
        """``pg_ctl stop -m fast``: connections are cut, as in a restart or a failover."""
        self.pg_ctl("stop", "-m", "fast")

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"


@pytest.fixture
def postgres_cluster():
    """A private PostgreSQL cluster, started; stopped and removed when the test ends."""
    if not (PG_BIN / "initdb").exists():
        skip_or_fail(f"PostgreSQL's initdb is not in {PG_BIN} (set PG_BIN)")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        skip_or_fail("running as root, and runuser is missing to run PostgreSQL as postgres")
    root = Path(tempfile.mkdtemp(prefix="warrant-faults-pg-"))  # /tmp: postgres can reach it
    cluster = PostgresCluster(root, live.free_port())
    try:
        cluster.init()
    except (RuntimeError, KeyError, LookupError) as exc:  # no postgres user, initdb refused
        shutil.rmtree(root, ignore_errors=True)
        skip_or_fail(f"cannot create a private PostgreSQL cluster here: {exc}")
    cluster.start()
    try:
        yield cluster
    finally:
        with contextlib.suppress(RuntimeError):  # already stopped
            cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory):
    """A database on the suite's PostgreSQL server, migrated, holding the demo project.

    Seeded once (a few seconds); tests take copies of it (``demo_database``).
    """
    server = live.postgres_server_url()
    if server is None:
        skip_or_fail("the fault tests need PostgreSQL: set DATABASE_URL (as CI does)")
    name = f"warrant_faults_demo_{uuid.uuid4().hex[:8]}"
    url = live.postgres_database(server, name)
    try:
        seed_demo(url, tmp_path_factory.mktemp("demo-media"))
        yield url
    finally:
        live.postgres_database(server, name, drop=True)


@pytest.fixture
def demo_database(demo_template):
    """``make(label)``: a new database, a copy of the demo template; dropped after the test."""
    import psycopg

    server = live.postgres_server_url()
    template = demo_template.rsplit("/", 1)[1]
    made: list[str] = []

    def make(label: str) -> str:
        name = f"warrant_faults_{label}_{uuid.uuid4().hex[:8]}"
        admin = urllib.parse.urlunsplit(urllib.parse.urlsplit(server)._replace(path="/postgres"))
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        made.append(name)
        return urllib.parse.urlunsplit(urllib.parse.urlsplit(server)._replace(path=f"/{name}"))

    yield make
    for name in made:
        live.postgres_database(server, name, drop=True)
