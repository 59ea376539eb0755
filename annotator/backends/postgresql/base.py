"""Django's PostgreSQL backend with a health check that costs no round trip when it can.

With ``CONN_HEALTH_CHECKS`` (config/settings), Django checks a persistent connection
before a request's first query by sending ``SELECT 1`` and waiting for its answer
(``is_usable``): a round trip on every request, ~0.2 ms of a span save's ~2 ms with
PostgreSQL on the same machine (issue 12.5). What that check catches, a connection the
server has ended (restart, ``pg_terminate_backend``, an idle timeout, a broken socket),
shows on the connection's socket without asking: the server's last message (an
``ErrorResponse``) or the end of the stream is waiting there to be read, so the socket
polls readable. Between requests an idle connection has nothing to read otherwise.

So the check here looks first: a connection psycopg has seen fail, one not idle, or
one whose socket has anything to read (possibly only a notice or a parameter's new
value) gets Django's own check, ``SELECT 1``; an idle connection with nothing waiting
is used as it is. What neither check can see before sending, a server gone without a
word (its host lost, the network path cut), the request's first query then meets as
it would have met the ``SELECT 1``: an error, answered with 503 by the outage middleware
(annotator/web/outage.py), and the next request connects afresh.
"""

from __future__ import annotations

import select

import psycopg
from django.db.backends.postgresql import base
from psycopg import pq


def _nothing_to_read(connection) -> bool:
    """Whether psycopg's ``connection`` is open, idle, and has nothing waiting on its
    socket: what ``SELECT 1`` would find usable, seen without sending it."""
    if connection.closed or connection.broken:
        return False
    pgconn = connection.pgconn
    if (pgconn.status != pq.ConnStatus.OK
            or pgconn.transaction_status != pq.TransactionStatus.IDLE):
        return False
    try:
        poller = select.poll()
        poller.register(pgconn.socket, select.POLLIN)
        return not poller.poll(0)  # POLLIN, or POLLHUP / POLLERR / POLLNVAL: look closer
    except (OSError, ValueError, psycopg.OperationalError):  # no socket any more
        return False


class DatabaseWrapper(base.DatabaseWrapper):
    def close_if_health_check_failed(self):
        if (self.connection is not None and not self.pool and self.health_check_enabled
                and not self.health_check_done and _nothing_to_read(self.connection)):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()
