"""A database that cannot be reached answers 503 with a clear message, not a bare 500.

When PostgreSQL restarts, fails over or is out of connections, every request
that needs it raises ``django.db.OperationalError`` (or ``InterfaceError`` on
a connection that broke under it). Django would answer "Server Error (500)",
which reads as a bug and says nothing about whether work was lost. This
middleware answers ``503 Service Unavailable`` with ``Retry-After`` instead:

* pages get ``templates/503.html``;
* the API (``/api/``) gets ``{"detail": ...}``, as DRF's own errors look;
* htmx requests get one plain-text line, which annotate.js shows in the
  page's alert region ("Not saved: ...").

It must work with the database gone, so it touches nothing that would query
it: no session, no ``request.user``, no context processors (the template is
rendered without the request). The error is logged, one line per request.

Design note (where it catches). A view's exception reaches
``process_exception``. One raised in another middleware (the session being
saved on the way out, for instance) is turned into a 500 response by Django
at that middleware's level and never reaches an outer ``__call__``; Django
sends ``got_request_exception`` for it first, so the receiver below marks the
request, and ``__call__`` swaps that 500 for the 503. The middleware sits just
inside the security and CSP middleware, so its answer still gets their headers.
"""

from __future__ import annotations

import logging
import sys

from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.dispatch import receiver
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)

#: Seconds a client is asked to wait: a PostgreSQL restart or failover takes
#: seconds to a minute, and CONN_HEALTH_CHECKS reconnects on the next request.
RETRY_AFTER_SECONDS = 30
MESSAGE = (
    "Warrant cannot reach its database right now. Nothing you saved before this is lost; "
    "try again in a minute."
)
#: annotate.js writes "Not saved: <line>." itself.
HTMX_MESSAGE = (
    "Warrant cannot reach its database right now; nothing you saved before this is lost, "
    "try again in a minute"
)
DATABASE_ERRORS = (OperationalError, InterfaceError)
_MARK = "_warrant_database_outage"


def database_unavailable_response(request) -> HttpResponse:
    """The 503 answer for ``request``; touches neither the database nor the session."""
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": MESSAGE}, status=503)
    elif request.headers.get("HX-Request") == "true":
        response = HttpResponse(HTMX_MESSAGE, status=503,
                                content_type="text/plain; charset=utf-8")
    else:
        html = render_to_string("503.html", {"message": MESSAGE})
        response = HttpResponse(html, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def _log(request, exc: BaseException) -> None:
    first_line = next(iter(str(exc).strip().splitlines()), "")
    # With the traceback: the same errors also mean a missed migration or a full
    # disk, which retrying does not cure; the log must show which.
    logger.error(
        "database unreachable, answered 503: %s %s: %s: %s",
        request.method, request.path, type(exc).__name__, first_line, exc_info=exc,
    )


class DatabaseOutageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        exc = getattr(request, _MARK, None)
        if exc is not None and response.status_code == 500:
            return database_unavailable_response(request)
        return response

    def process_exception(self, request, exception):
        if not isinstance(exception, DATABASE_ERRORS):
            return None
        _log(request, exception)
        # Logged here: the receiver below must not log it a second time.
        setattr(request, _MARK + "_logged", True)
        return database_unavailable_response(request)


@receiver(got_request_exception, dispatch_uid="warrant-database-outage")
def _mark_database_outage(sender, request=None, **kwargs) -> None:
    """Mark a request whose middleware raised a database error (see the design note)."""
    exc = sys.exc_info()[1]
    if request is None or not isinstance(exc, DATABASE_ERRORS):
        return
    setattr(request, _MARK, exc)
    if not getattr(request, _MARK + "_logged", False):
        _log(request, exc)
