"""The session store: Django's database sessions, read with a prepared statement.

Every request of a logged-in user reads its session row; the ORM's ``get`` of it was
compiled and planned afresh each time. This store reads the same row, under the same
conditions (the key, not expired), as a statement PostgreSQL prepares once per
connection (annotator.prepared); writing, expiring and deleting sessions are
Django's own. A session stays in the database, so pages keep working while Redis
is down (tests/faults).
"""

from __future__ import annotations

from django.contrib.sessions.backends import db
from django.db import connection
from django.utils import timezone

from annotator.prepared import get_prepared


class SessionStore(db.SessionStore):
    def _get_session_from_db(self):
        if self.session_key is None:
            return None
        now = connection.ops.adapt_datetimefield_value(timezone.now())  # SQLite: its text
        session = get_prepared(self.model, '"session_key" = %s AND "expire_date" > %s',
                               [self.session_key, now])
        if session is None:
            self._session_key = None
        return session
