"""Services the topology tests run Warrant on: a PostgreSQL server, a Redis database of
this run's own on REDIS_URL's server, and a port that accepts and never answers."""

from __future__ import annotations

import os
import socket
import threading
import urllib.parse
import uuid

import pytest

from tests import live
from tests.conftest import skip_or_fail

#: Redis databases a run may claim (a server has 0-15 unless configured otherwise),
#: the last first. 14 is the worker tests'; REDIS_URL's own is skipped too.
REDIS_DATABASES = range(15, 0, -1)
WORKER_TESTS_DATABASE = 14
#: The key that marks a Redis database as this run's while it uses it.
CLAIM_KEY = "warrant-topology-claim"
#: A run that crashed before releasing its claim holds it no longer than this.
CLAIM_SECONDS = 3600


def _redis_server_url() -> str:
    return os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"


def _with_database(url: str, index: int) -> str:
    return urllib.parse.urlunsplit(urllib.parse.urlsplit(url)._replace(path=f"/{index}"))


@pytest.fixture(scope="session")
def topology_redis_url():
    """A database on REDIS_URL's server that no one else uses while this run does.

    The stack's Celery uses the default queue names (``celery``, ``_kombu.binding.*``,
    ``unacked``), so two runs on one database would take each other's jobs. The run
    claims an empty database (SET NX of CLAIM_KEY, then checks that the key is all it
    holds), so every key in it afterwards is this run's: those are deleted at the end,
    claim last. Nothing else on the server is touched.
    """
    import redis

    server = _redis_server_url()
    path = urllib.parse.urlsplit(server).path.strip("/")
    own = int(path) if path.isdigit() else 0
    run = uuid.uuid4().hex
    claimed: tuple[str, redis.Redis] | None = None
    try:
        for index in REDIS_DATABASES:
            if index in (own, WORKER_TESTS_DATABASE):
                continue
            url = _with_database(server, index)
            client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2)
            try:
                if client.set(CLAIM_KEY, run, nx=True, ex=CLAIM_SECONDS) and (
                    client.dbsize() == 1
                ):
                    claimed = (url, client)
                    break
                if client.get(CLAIM_KEY) == run.encode():  # claimed, but others' keys are there
                    client.delete(CLAIM_KEY)
            except redis.ResponseError:  # a server configured with fewer databases
                pass
            client.close()
    except redis.RedisError as exc:
        skip_or_fail(f"Redis is not reachable at {server} ({exc})")
    if claimed is None:
        skip_or_fail(f"no empty Redis database to claim on {server} (tried "
                     f"{REDIS_DATABASES.start}..{REDIS_DATABASES.stop + 1})")
    url, client = claimed
    try:
        yield url
    finally:
        if client.get(CLAIM_KEY) == run.encode():
            created = [key for key in client.scan_iter(count=1000) if key != CLAIM_KEY.encode()]
            if created:
                client.delete(*created)
            client.delete(CLAIM_KEY)
        client.close()


@pytest.fixture(scope="session")
def postgres_server() -> str:
    url = live.postgres_server_url()
    if url is None:
        skip_or_fail("the topology tests need DATABASE_URL on a PostgreSQL server")
    return url


class HungServer:
    """A TCP port on 127.0.0.1 that accepts connections and then never reads or answers,
    as a hung PostgreSQL or Redis (or a network path that drops packets) looks to a client."""

    def __init__(self):
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self._listener.settimeout(0.1)
        self.port = self._listener.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="hung-server", daemon=True)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted.append(conn)  # held open, never read

    def __enter__(self) -> HungServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._listener.close()
        for conn in self.accepted:
            conn.close()


@pytest.fixture
def hung_port():
    """The port of a HungServer, open for the test."""
    with HungServer() as server:
        yield server.port
