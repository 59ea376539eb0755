"""Two defences every page shares: a Content Security Policy and a login throttle.

The policy allows scripts, styles, fonts and images from Warrant's own origin
only. Templates set label colours and bar widths in ``style`` attributes
(``style-src-attr``); the few ``<style>`` elements that hold a project's label
colours carry the request's nonce. Nothing inline may run as script.

The login throttle counts failed log-ins in the database (``LoginFailure``), so
that it holds across gunicorn's worker processes: after
``WARRANT_LOGIN_FAILURES_MAX`` failures for one username from one address, or
``WARRANT_LOGIN_IP_FAILURES_MAX`` from one address for any usernames, within
``WARRANT_LOGIN_WINDOW_SECONDS``, further attempts from there are refused even
with the right password until the window has passed. An attempt is counted
before its password is checked, under a lock per address, so that the budget
is exact however many attempts arrive at once. The check sits in the
authentication backend, so every log-in form (the login page, the admin's,
anything that calls ``authenticate``) obeys it; the login views are wrapped to
answer such an attempt with a 429 page that says how long to wait. (Changing a
password checks the old one without ``authenticate``, behind a session.)

Design note (why per address). A budget per username alone would let anyone
lock any account (a student the instructor's) with five wrong passwords; so
the account's budget is per address, and a second, larger budget per address
stops one machine from trying many accounts. A class behind one NAT address
shares that second budget: hence its size. Behind a reverse proxy every client
has the proxy's address unless ``WARRANT_CLIENT_IP_HEADER`` names the header
the proxy sets. Administrators can lift a refusal early by deleting the rows
(admin: Login failures).
"""

from __future__ import annotations

import math
import secrets
import threading
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import wraps

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.shortcuts import render
from django.utils import timezone

from annotator.models import LoginFailure
from annotator.prepared import get_prepared
from annotator.selectors.annotations import OWN_SET_WANTED, user_with_own_set

# Static except for the nonce of the <style> elements that carry label colours.
CSP_DIRECTIVES = (
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'nonce-{nonce}'",
    # Label colours (validated as #rrggbb by a database constraint) and bar widths.
    "style-src-attr 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
)
# 128 bits, as the CSP specification recommends for a nonce.
CSP_NONCE_BYTES = 16
# The header's text, joined once; each response fills in its nonce.
_CSP_HEADER = "; ".join(CSP_DIRECTIVES)


class ContentSecurityPolicyMiddleware:
    """Give every response a ``Content-Security-Policy`` header.

    ``request.csp_nonce`` is the nonce a template puts on a ``<style>`` element.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.csp_nonce = secrets.token_urlsafe(CSP_NONCE_BYTES)
        response = self.get_response(request)
        # With DEBUG, Django's technical 404 and 500 pages run inline script and style.
        technical = settings.DEBUG and response.status_code in (404, 500)
        if "Content-Security-Policy" not in response and not technical:
            response["Content-Security-Policy"] = _CSP_HEADER.format(nonce=request.csp_nonce)
        return response


# --- Login throttling ---------------------------------------------------------


class LoginThrottled(PermissionDenied):
    """Raised by the backend: ``authenticate`` stops and the log-in fails."""


@dataclass(frozen=True)
class Refusal:
    message: str
    retry_after_seconds: int


def client_ip(request) -> str:
    """The client's address; behind a proxy, from the header the proxy sets.

    ``WARRANT_CLIENT_IP_HEADER`` names that header in ``request.META`` form
    (``HTTP_X_FORWARDED_FOR``); of a list, the last entry is the one the proxy
    added, the others come from the client and may be forged.
    """
    if request is None:
        return ""
    header = settings.WARRANT_CLIENT_IP_HEADER
    if header and request.META.get(header):
        return request.META[header].split(",")[-1].strip()[:45]
    return request.META.get("REMOTE_ADDR", "")[:45]


def _normalise(username: str | None) -> str:
    # NFKC as Django's login form does before authenticate(): the wrapper, which
    # reads the raw POST, and the backend count the same name.
    return unicodedata.normalize("NFKC", username or "").strip().casefold()[:150]


def _window() -> timedelta:
    return timedelta(seconds=settings.WARRANT_LOGIN_WINDOW_SECONDS)


def _refusal(times: list[datetime], limit: int, now: datetime, whose: str) -> Refusal | None:
    if limit <= 0 or len(times) < limit:
        return None
    # Attempts are allowed again once fewer than ``limit`` failures lie in the window.
    free_at = sorted(times)[len(times) - limit] + _window()
    seconds = max(1, math.ceil((free_at - now).total_seconds()))
    minutes = math.ceil(seconds / 60)
    unit = "minute" if minutes == 1 else "minutes"
    return Refusal(
        f"Too many failed log-ins {whose}; try again in {minutes} {unit}.", seconds
    )


def login_throttle_check(*, username: str | None, ip_address: str) -> Refusal | None:
    """Why a log-in for ``username`` from ``ip_address`` is refused now, or None."""
    now = timezone.now()
    since = now - _window()
    # Purge what has left the window, so the table stays small.
    LoginFailure.objects.filter(at__lt=since).delete()
    name = _normalise(username)
    if name:
        times = list(
            LoginFailure.objects.filter(
                username=name, ip_address=ip_address, at__gte=since
            ).values_list("at", flat=True)
        )
        refusal = _refusal(
            times, settings.WARRANT_LOGIN_FAILURES_MAX, now, "for this account from this address"
        )
        if refusal:
            return refusal
    if ip_address:
        times = list(
            LoginFailure.objects.filter(ip_address=ip_address, at__gte=since).values_list(
                "at", flat=True
            )
        )
        return _refusal(times, settings.WARRANT_LOGIN_IP_FAILURES_MAX, now, "from this address")
    return None


# The advisory-lock namespace of the login budget (PostgreSQL's two-key form).
_LOGIN_LOCK_NAMESPACE = 7_011_001
# Without PostgreSQL (the embedded mode: one web process) a lock in the process.
_LOGIN_LOCK = threading.Lock()


@contextmanager
def _one_attempt_at_a_time(ip_address: str):
    """Serialise log-in attempts from one address from budget check to reservation.

    Both budgets involve the address, so one lock per address makes the check
    and the reservation of :func:`login_attempt_reserve` one step: fifteen
    concurrent wrong passwords cannot all read "four so far" and all go ahead.
    """
    if connection.vendor == "postgresql":
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))",
                               [_LOGIN_LOCK_NAMESPACE, ip_address])
            yield
    else:
        with _LOGIN_LOCK, transaction.atomic():
            yield


def login_attempt_reserve(*, username: str | None, ip_address: str) -> int:
    """Count an attempt against the budgets before its password is checked.

    Raises LoginThrottled when the budget is spent; otherwise records the
    attempt as a failure (the row's id is returned) that a successful log-in
    then forgives. So at most ``WARRANT_LOGIN_FAILURES_MAX`` passwords are ever
    checked in a window, however many arrive at once.
    """
    with _one_attempt_at_a_time(ip_address):
        if login_throttle_check(username=username, ip_address=ip_address):
            # Not counted: the window runs from the failures that caused the refusal.
            raise LoginThrottled
        return LoginFailure.objects.create(
            username=_normalise(username), ip_address=ip_address, at=timezone.now()
        ).pk


def login_failures_clear(*, username: str | None) -> None:
    """A successful log-in forgives the account's failures (not the address's)."""
    LoginFailure.objects.filter(username=_normalise(username)).delete()


class ThrottledModelBackend(ModelBackend):
    """Django's backend, refusing throttled accounts and addresses and counting failures."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if username is None or password is None:
            return None  # not a password log-in: nothing to check or count
        ip_address = client_ip(request)
        login_attempt_reserve(username=username, ip_address=ip_address)
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is not None:
            login_failures_clear(username=username)  # the reservation with the rest
        return user

    def get_user(self, user_id):
        """The logged-in user of a request: ModelBackend's, read with a prepared
        statement (annotator.prepared), as every request of a logged-in user does."""
        model, pk = get_user_model(), get_user_model()._meta.pk
        user_id = pk.to_python(user_id)
        wanted = OWN_SET_WANTED.get()
        if wanted is not None and wanted.user is not None and wanted.user.pk == user_id:
            # A write of the annotation page whose session's read brought the user and
            # their set along (web/sessions.py): the signed session names the same user.
            user, wanted.user = wanted.user, None
        elif wanted is not None and connection.vendor == "postgresql":
            # A write of the annotation page: the user with their set, in one statement.
            user = user_with_own_set(model, user_id, wanted)
        else:
            user = get_prepared(model, f"{connection.ops.quote_name(pk.column)} = %s", [user_id])
        return user if user is not None and self.user_can_authenticate(user) else None


def login_throttled(view):
    """Wrap a login view: a throttled POST gets a 429 page instead of the form."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.method == "POST":
            refusal = login_throttle_check(
                username=request.POST.get("username"), ip_address=client_ip(request)
            )
            if refusal:
                response = render(
                    request,
                    "registration/login_throttled.html",
                    {"message": refusal.message},
                    status=429,
                )
                response["Retry-After"] = str(refusal.retry_after_seconds)
                return response
        return view(request, *args, **kwargs)

    return wrapped
