"""The database connection's health check (annotator/backends/postgresql, issue 12.5).

Django checks a persistent connection before each request's first query
(CONN_HEALTH_CHECKS) by sending ``SELECT 1``; Warrant's backend first looks at the
connection's socket and sends it only when the socket has something to read. Here:
an idle, healthy connection is checked without a statement (PostgreSQL's own record of
the connection's last statement is read from a second connection), a connection the
server has ended is still found out and replaced before the request's query, and a span
save served as gunicorn serves it makes two round trips, counted on the wire.
"""

from __future__ import annotations

import time

import pytest
from django.db import close_old_connections, connection

from annotator.models import Project
from tests.conftest import skip_or_fail

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def other():
    """A second connection to the same database, as another client would hold."""
    if connection.vendor != "postgresql":
        skip_or_fail("the health check by poll is PostgreSQL's backend's")
    second = connection.get_new_connection(connection.get_connection_params())
    second.autocommit = True
    yield second
    second.close()


def _last_statement(other, pid: int) -> str:
    return other.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()[0]


def _request_begins() -> None:
    """What the request_started signal does: the next query checks the connection."""
    close_old_connections()
    assert connection.health_check_enabled and not connection.health_check_done


def test_a_healthy_idle_connection_is_checked_without_a_round_trip(other):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 'before the request'")
    pid = connection.connection.info.backend_pid
    _request_begins()
    connection.close_if_health_check_failed()
    assert connection.health_check_done
    assert connection.connection.info.backend_pid == pid
    # Django's own check would have left "SELECT 1" as the connection's last statement.
    assert _last_statement(other, pid) == "SELECT 'before the request'"


def test_a_connection_the_server_ended_is_replaced_before_the_query(other):
    Project.objects.count()
    pid = connection.connection.info.backend_pid
    assert other.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone()[0]
    deadline = time.monotonic() + 5
    while other.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone():
        assert time.monotonic() < deadline, "the backend outlived pg_terminate_backend"
        time.sleep(0.01)
    _request_begins()
    assert Project.objects.count() == 0  # no error: a new connection answered
    assert connection.connection.info.backend_pid != pid


def test_a_connection_with_something_to_read_gets_djangos_check(other):
    """A notice waiting on the socket (here: a NOTIFY to a channel it listens on) is no
    sign of a dead connection, but the socket is not quiet: SELECT 1 decides."""
    with connection.cursor() as cursor:
        cursor.execute("LISTEN warrant_health_check_test")
    pid = connection.connection.info.backend_pid
    other.execute("NOTIFY warrant_health_check_test")
    deadline = time.monotonic() + 5
    from annotator.backends.postgresql.base import _nothing_to_read

    while _nothing_to_read(connection.connection):
        assert time.monotonic() < deadline, "the notification never arrived"
        time.sleep(0.01)
    _request_begins()
    connection.close_if_health_check_failed()
    assert connection.health_check_done and connection.connection.info.backend_pid == pid
    assert _last_statement(other, pid) == "SELECT 1"
    with connection.cursor() as cursor:
        cursor.execute("UNLISTEN *")


def _wsgi_save(handler, cookies: str, path: str, data: dict) -> dict:
    """A span save as gunicorn hands it to Django (WSGIHandler: request_started and
    request_finished as in production), with the page's CSRF cookie and token."""
    import io
    from urllib.parse import urlencode

    from django.middleware.csrf import _get_new_csrf_string, _mask_cipher_secret

    secret = _get_new_csrf_string()
    body = urlencode({**data, "csrfmiddlewaretoken": _mask_cipher_secret(secret)}).encode()
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": path, "SERVER_NAME": "testserver",
               "SERVER_PORT": "80", "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body),
               "CONTENT_LENGTH": str(len(body)),
               "CONTENT_TYPE": "application/x-www-form-urlencoded", "HTTP_HX_REQUEST": "true",
               "HTTP_COOKIE": f"{cookies}; csrftoken={secret}", "REMOTE_ADDR": "127.0.0.1"}
    started = []
    chunks = handler(environ, lambda status, headers: started.append((status, dict(headers))))
    b"".join(chunks)
    chunks.close()
    status, headers = started[0]
    assert status.startswith("200"), status
    return headers


def test_a_span_save_served_as_in_production_makes_two_round_trips(other, client_for, document,
                                                                   members, project, tmp_path):
    """Counted on the wire (libpq's trace of the connection: one ReadyForQuery per round
    trip), so the health check's own SELECT 1, which Django's query log does not see,
    would count: the session with user and set, then the write. Django's backend: 3."""
    from django.core.handlers.wsgi import WSGIHandler
    from django.urls import reverse
    from psycopg import pq

    from tests.factories import AnnotationSetFactory

    AnnotationSetFactory(document=document, annotator=members["annotator"])
    client = client_for("annotator")
    cookies = "; ".join(f"{k}={v.value}" for k, v in client.cookies.items())
    path = reverse("annotate-span-create", kwargs={"slug": project.slug,
                                                   "document_id": document.pk})
    claim = project.span_labels.get(name="Claim").pk
    handler, version, trips = WSGIHandler(), 0, []
    for start in (0, 6, 12):  # the first saves prepare the statements
        data = {"label": claim, "start": start, "end": start + 4, "expected_version": version}
        pgconn = connection.connection.pgconn
        with open(tmp_path / "trace", "w+") as trace:
            pgconn.trace(trace.fileno())
            pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)
            try:
                version = int(_wsgi_save(handler, cookies, path, data)["X-Warrant-Version"])
            finally:
                pgconn.untrace()
            trace.seek(0)
            trips.append(sum("\tReadyForQuery\t" in line for line in trace))
    assert trips[-1] == 2, trips
