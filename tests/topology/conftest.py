"""Services the topology tests run Warrant on: a PostgreSQL server and a Redis database."""

from __future__ import annotations

import os

import pytest

from tests import live
from tests.conftest import skip_or_fail

#: A Redis database of its own (the worker tests use 14), flushed before use.
REDIS_URL = os.environ.get("WARRANT_TOPOLOGY_REDIS_URL", "redis://127.0.0.1:6379/13")


@pytest.fixture(scope="session")
def topology_redis_url() -> str:
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
    try:
        client.ping()
        client.flushdb()  # no message of an earlier run reaches this run's workers
    except redis.RedisError as exc:
        skip_or_fail(f"Redis is not reachable at {REDIS_URL} ({exc})")
    finally:
        client.close()
    return REDIS_URL


@pytest.fixture(scope="session")
def postgres_server() -> str:
    url = live.postgres_server_url()
    if url is None:
        skip_or_fail("the topology tests need DATABASE_URL on a PostgreSQL server")
    return url
