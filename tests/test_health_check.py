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

import select
from urllib.parse import urlencode

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
    # With a timeout, true only once the backend has ended (PostgreSQL 14 and later).
    assert other.execute("SELECT pg_terminate_backend(%s, 5000)", [pid]).fetchone()[0]
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
    readable, _, _ = select.select([connection.connection.pgconn.socket], [], [], 5)
    assert readable, "the notification never arrived"
    _request_begins()
    connection.close_if_health_check_failed()
    assert connection.health_check_done and connection.connection.info.backend_pid == pid
    assert _last_statement(other, pid) == "SELECT 1"
    with connection.cursor() as cursor:
        cursor.execute("UNLISTEN *")


def test_a_span_save_served_as_in_production_makes_two_round_trips(other, client_for, document,
                                                                   members, project, tmp_path):
    """Counted on the wire (libpq's trace of the connection: one ReadyForQuery per round
    trip), so the health check's own SELECT 1, which Django's query log does not see,
    would count: the session with user and set, then the write. Django's backend: 3."""
    from django.urls import reverse
    from psycopg import pq

    from benchmarks.span_save import _wsgi_post
    from tests.factories import AnnotationSetFactory

    AnnotationSetFactory(document=document, annotator=members["annotator"])
    client = client_for("annotator")
    path = reverse("annotate-span-create", kwargs={"slug": project.slug,
                                                   "document_id": document.pk})
    claim = project.span_labels.get(name="Claim").pk
    post, version, trips = _wsgi_post(client), 0, []
    for start in (0, 6, 12):  # the first saves prepare the statements
        data = {"label": claim, "start": start, "end": start + 4, "expected_version": version}
        pgconn = connection.connection.pgconn
        with open(tmp_path / "trace", "w+") as trace:
            pgconn.trace(trace.fileno())
            pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)
            try:
                response = post(path, urlencode(data), "application/x-www-form-urlencoded",
                                "true")
            finally:
                pgconn.untrace()
            assert response.status_code == 200, response.content[:300]
            version = int(response["X-Warrant-Version"])
            trace.seek(0)
            trips.append(sum("\tReadyForQuery\t" in line for line in trace))
    assert trips[-1] == 2, trips
