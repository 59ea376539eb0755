"""Prepared statements for the few queries every save runs, on PostgreSQL.

Django sends each query as text with its values written in (psycopg's client-side
binding), so PostgreSQL parses and plans it afresh every time. For the statements of
the save path that costs more than running them: the span save's statement
(services.annotations), with the grade-lock condition's four subqueries, took
0.6-1.1 ms to plan and 0.1-0.4 ms to run (``EXPLAIN (ANALYZE, SUMMARY)``, issue 12.5).
:func:`prepared_cursor` gives a cursor whose statements are sent with their values
apart (server-side binding) and prepared on the connection the first time each
runs; later runs on that connection skip parsing, and, once PostgreSQL settles on a
generic plan (after five runs, when it costs no more than the custom ones), planning
too.

Only the statements written for it go through here, not the ORM's: Django does not
generate SQL that is always preparable (its ticket #20516), which is why it binds
on the client by default. A statement prepared here lives as long as the
connection (``CONN_MAX_AGE``); psycopg keeps at most ``prepared_max`` (100) of them
per connection, deallocates the oldest, and deallocates all of them after a
rollback (https://www.psycopg.org/psycopg3/docs/advanced/prepare.html), after which
they are prepared again. A pooler in transaction mode must support protocol-level
prepared statements (PgBouncer 1.21 or later with ``max_prepared_statements`` set:
https://github.com/pgbouncer/pgbouncer/releases/tag/pgbouncer_1_21_0); Warrant's own
topology has no pooler, and ``DATABASE_PREPARED_STATEMENTS=0`` (settings) sends these
statements unprepared.

On other databases (SQLite, the embedded default) the cursor is Django's own.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection


@functools.cache
def _preparing_cursor_class():
    """psycopg's server-side-binding cursor (Django's flavour) that prepares every
    statement it runs. Built on first use: psycopg is imported only on PostgreSQL."""
    from django.db.backends.postgresql.base import ServerBindingCursor

    class PreparingCursor(ServerBindingCursor):
        def execute(self, query, params=None, *, prepare=None, binary=None):
            return super().execute(query, params, prepare=True, binary=binary)

        def _send_query_prepared(self, name, pgq, *, binary=None):
            # Kept as psycopg keeps a statement it sends unprepared: Django's query log
            # (connection.queries, the query-count tests) reads the SQL from it.
            self._query = pgq
            return super()._send_query_prepared(name, pgq, binary=binary)

    return PreparingCursor


def _preparing_cursor():
    """A :func:`_preparing_cursor_class` cursor on Django's connection, reading times in
    the connection's time zone as Django's own cursors do (its ``create_cursor``)."""
    from django.db.backends.postgresql.psycopg_any import register_tzloader
    from psycopg import adapters
    from psycopg.pq import Format

    cursor = _preparing_cursor_class()(connection.connection)
    loader = connection.connection.adapters.get_loader(adapters.types["timestamptz"].oid,
                                                       Format.TEXT)
    if connection.timezone != loader.timezone:
        register_tzloader(connection.timezone, cursor)
    return cursor


@contextmanager
def prepared_cursor() -> Iterator:
    """A cursor (Django's wrapper: counted, logged, errors translated) whose statements
    PostgreSQL prepares once per connection; Django's own cursor elsewhere."""
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            yield cursor
        return
    # What connection.cursor() does before it makes its cursor.
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        raw = _preparing_cursor()
    with connection._prepare_cursor(raw) as cursor:
        yield cursor


def select_columns(model, alias: str = "") -> tuple[str, list[str], list[list]]:
    """Every concrete column of ``model`` (as ``alias``'s, if given) for a ``SELECT``, the
    fields' attribute names and, per field, the converters Django's compiler would apply."""
    q = connection.ops.quote_name
    fields = list(model._meta.concrete_fields)
    converters = [
        connection.ops.get_db_converters(f.get_col(model._meta.db_table))
        + f.get_db_converters(connection)
        for f in fields
    ]
    prefix = f"{alias}." if alias else ""
    columns = ", ".join(prefix + q(f.column) for f in fields)
    return columns, [f.attname for f in fields], converters


@functools.cache
def _select_sql(model, where: str) -> tuple[str, list[str], list[list]]:
    """``SELECT`` of every concrete column of ``model`` ``WHERE`` ``where``, the fields'
    attribute names and their converters (:func:`select_columns`)."""
    columns, names, converters = select_columns(model)
    sql = (f"SELECT {columns} FROM {connection.ops.quote_name(model._meta.db_table)}"
           f" WHERE {where} LIMIT 1")
    return sql, names, converters


def model_from_row(model, names: list[str], converters: list[list], row) -> object:
    """``model``'s instance from a row of ``names``, converted as the ORM would."""
    values = list(row)
    for i, field_converters in enumerate(converters):
        for convert in field_converters:
            values[i] = convert(values[i], None, connection)
    return model.from_db(connection.alias, names, values)


def get_prepared(model, where: str, params: list):
    """The one row of ``model`` ``where`` holds (a condition on its columns with ``%s``
    placeholders, written for PostgreSQL), as an instance, or None: the ORM's ``get``
    of a hot lookup (a request's session and user) as a prepared statement."""
    sql, names, converters = _select_sql(model, where)
    with prepared_cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return None if row is None else model_from_row(model, names, converters, row)
