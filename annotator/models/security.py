"""Failed log-ins, kept in the database so that every web process sees them.

Gunicorn runs several workers; a per-process cache would let an attacker try
five passwords per worker. A row per failure is small and is purged once it is
older than the throttling window.
"""

from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import models


class LoginFailure(models.Model):
    """One wrong password (or unknown username), for the login throttle."""

    # The username as typed, case-folded: "Alice" and "alice" share a budget.
    username = models.CharField(max_length=150)
    ip_address = models.CharField(max_length=45)
    at = models.DateTimeField(db_index=True)

    class Meta:
        indexes = [
            models.Index(fields=["username", "at"], name="login_failure_user_at"),
            models.Index(fields=["ip_address", "at"], name="login_failure_ip_at"),
        ]

    def __str__(self) -> str:
        return f"{self.username} from {self.ip_address} at {self.at:%Y-%m-%d %H:%M:%S}"


class WebSession(AbstractBaseSession):
    """A logged-in browser's session: Django's database session with its user's id beside
    the signed data (annotator.web.sessions, the store), so that a write of the
    annotation page reads the session, the user and the user's set in one statement
    (issue 12.5). ``user_id`` is a copy, never trusted: the signed data says who is
    logged in, and the copy only serves when the two agree."""

    user_id = models.BigIntegerField(null=True, blank=True)

    @classmethod
    def get_session_store_class(cls):
        from annotator.web.sessions import SessionStore

        return SessionStore
