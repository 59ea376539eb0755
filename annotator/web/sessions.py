"""The session store: Django's database sessions, read with a prepared statement.

Every request of a logged-in user reads its session row; the ORM's ``get`` of it was
compiled and planned afresh each time. This store reads the same row, under the same
conditions (the key, not expired), as a statement PostgreSQL prepares once per
connection (annotator.prepared); writing, expiring and deleting sessions are
Django's own. A session stays in the database, so pages keep working while Redis
is down (tests/faults).

Its rows (models.WebSession) keep a copy of the logged-in user's id beside the signed
data, written whenever the session is saved. A write of the annotation page
(selectors.annotations.OwnSetWanted) reads the session, that user and the user's set
in one statement: one round trip instead of three on every save (issue 12.5). The
copy is never trusted: Django decodes the signed data, the authentication backend
takes the user read along only when the data names the same user, and Django then
checks the session's hash against that user as always.
"""

from __future__ import annotations

import functools

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends import db
from django.db import connection
from django.utils import timezone

from annotator.prepared import get_prepared, model_from_row, prepared_cursor, select_columns
from annotator.selectors.annotations import OWN_SET_WANTED, own_set_columns, own_set_on_user

_WHERE = '"session_key" = %s AND "expire_date" > %s'


class SessionStore(db.SessionStore):
    @classmethod
    def get_model_class(cls):
        from annotator.models import WebSession

        return WebSession

    def create_model_instance(self, data):
        session = super().create_model_instance(data)
        try:
            session.user_id = int(data.get(SESSION_KEY))
        except (TypeError, ValueError):
            session.user_id = None
        return session

    def _get_session_from_db(self):
        if self.session_key is None:
            return None
        now = connection.ops.adapt_datetimefield_value(timezone.now())  # SQLite: its text
        wanted = OWN_SET_WANTED.get()
        if wanted is not None and connection.vendor == "postgresql":
            session = _session_with_user_and_own_set(self.model, self.session_key, now, wanted)
        else:
            session = get_prepared(self.model, _WHERE, [self.session_key, now])
        if session is None:
            self._session_key = None
        return session


@functools.cache
def _session_sql(session_model, user_model) -> tuple[str, tuple, tuple]:
    q = connection.ops.quote_name
    session_columns, *session_parts = select_columns(session_model, "ws")
    user_columns, *user_parts = select_columns(user_model, "u")
    user_pk = f"u.{q(user_model._meta.pk.column)}"
    sql = (
        f"SELECT {session_columns}, {user_columns}, x.*"
        f" FROM {q(session_model._meta.db_table)} ws"
        f" LEFT JOIN {q(user_model._meta.db_table)} u ON {user_pk} = ws.user_id"
        f" LEFT JOIN LATERAL ({own_set_columns(user_pk)}) x ON TRUE"
        " WHERE ws.session_key = %s AND ws.expire_date > %s"
    )
    return sql, tuple(session_parts), tuple(user_parts)


def _session_with_user_and_own_set(session_model, session_key: str, now, wanted):
    """The session row (None if there is none, or expired) and, on ``wanted`` for the
    authentication backend, the user its copy of the user's id names, with their set."""
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    sql, (session_names, session_converters), (user_names, user_converters) = _session_sql(
        session_model, user_model)
    with prepared_cursor() as cursor:
        cursor.execute(sql, [wanted.document_id, wanted.slug, session_key, now])
        row = cursor.fetchone()
    if row is None:
        return None
    at = len(session_names)
    session = model_from_row(session_model, session_names, session_converters, row[:at])
    user_row = row[at:at + len(user_names)]
    if user_row[0] is not None:
        wanted.user = model_from_row(user_model, user_names, user_converters, user_row)
        own_set_on_user(wanted.user, row[at + len(user_names):], wanted)
    return session
