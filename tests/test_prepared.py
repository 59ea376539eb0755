"""Prepared statements for the save path (annotator.prepared, issue 12.5)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from annotator.models import Span
from annotator.models import WebSession as Session
from annotator.prepared import get_prepared, prepared_cursor
from tests.conftest import skip_or_fail
from tests.factories import AnnotationSetFactory


def _save(client, document, label_id: int, start: int, end: int, version: int):
    kwargs = {"slug": document.project.slug, "document_id": document.pk}
    return client.post(
        reverse("annotate-span-create", kwargs=kwargs),
        {"label": label_id, "start": start, "end": end, "expected_version": version},
        HTTP_HX_REQUEST="true",
    )


def _prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements WHERE NOT from_sql")
        return [row[0] for row in cursor.fetchall()]


@pytest.fixture
def postgres():
    if connection.vendor != "postgresql":
        skip_or_fail("prepared statements are PostgreSQL's")


def test_a_span_save_runs_its_two_statements_prepared(postgres, client_for, document,
                                                      members, project):
    aset = AnnotationSetFactory(document=document, annotator=members["annotator"])
    client = client_for("annotator")
    claim = project.span_labels.get(name="Claim").pk
    words = [(i, i + 4) for i in range(0, 60, 6) if document.text[i:i + 4].strip()]
    assert _save(client, document, claim, *words[0], aset.version).status_code == 200
    with CaptureQueriesContext(connection) as captured:
        assert _save(client, document, claim, *words[1], aset.version + 1).status_code == 200
    sql = [query["sql"] for query in captured.captured_queries]
    # The session with its user and the user's set, role and labels (one statement); the
    # write: each prepared (its values sent apart, as $n) and logged with its SQL.
    assert len(sql) == 2, sql
    assert all("$1" in query for query in sql), sql
    assert 'FROM "annotator_websession" ws LEFT JOIN "annotator_user" u' in sql[0]
    assert "JSON_AGG" in sql[0] and sql[1].startswith("WITH bumped AS")
    prepared = _prepared_statements()
    for mark in ('FROM "annotator_websession" ws', "WITH bumped AS"):
        assert sum(mark in statement for statement in prepared) == 1, (mark, prepared)
    assert Span.objects.filter(annotation_set=aset).count() == 2


def test_a_session_that_does_not_know_its_user_still_saves_reading_the_user_apart(
        postgres, client_for, document, members, project):
    """A session from before its rows kept their user's id (copied by the migration), or
    whose copy names someone else: the user is read by the signed data's word, with the
    set, in a statement of its own."""
    aset = AnnotationSetFactory(document=document, annotator=members["annotator"])
    client = client_for("annotator")
    claim = project.span_labels.get(name="Claim").pk
    for version, (copy, start) in enumerate([(None, 0), (members["manager"].pk, 6)]):
        Session.objects.update(user_id=copy)
        with CaptureQueriesContext(connection) as captured:
            response = _save(client, document, claim, start, start + 4, version)
        assert response.status_code == 200, response.content
        sql = [query["sql"] for query in captured.captured_queries]
        assert len(sql) == 3 and 'FROM "annotator_user" u LEFT JOIN LATERAL' in sql[1], sql
        assert response.wsgi_request.user == members["annotator"]
    assert Span.objects.filter(annotation_set=aset).count() == 2


def test_saves_go_on_after_a_rollback_drops_the_prepared_statements(postgres, client_for,
                                                                    document, members, project):
    """psycopg deallocates every prepared statement on a rollback (a refused edit rolls
    back its transaction); the next save prepares them again."""
    aset = AnnotationSetFactory(document=document, annotator=members["annotator"])
    client = client_for("annotator")
    claim = project.span_labels.get(name="Claim").pk
    assert _save(client, document, claim, 0, 4, aset.version).status_code == 200
    assert any("WITH bumped AS" in s for s in _prepared_statements())
    with pytest.raises(RuntimeError), transaction.atomic():
        Span.objects.filter(annotation_set=aset).update(note="rolled back")
        raise RuntimeError
    aset.refresh_from_db()
    span = Span.objects.get(annotation_set=aset)
    assert span.note == ""
    assert _prepared_statements() == []  # dropped by the rollback
    stale = _save(client, document, claim, 6, 10, aset.version - 1)
    assert stale.status_code == 409  # still refused, with its message
    assert b"changed elsewhere" in stale.content
    assert _save(client, document, claim, 6, 10, aset.version).status_code == 200
    assert any("WITH bumped AS" in s for s in _prepared_statements())
    assert Span.objects.filter(annotation_set=aset).count() == 2


def test_with_preparing_turned_off_saves_send_their_statements_unprepared(
        postgres, client_for, document, members, project):
    """DATABASE_PREPARED_STATEMENTS=0 (settings: psycopg's threshold None), for a pooler
    that cannot hold prepared statements."""
    aset = AnnotationSetFactory(document=document, annotator=members["annotator"])
    assert _prepared_statements() == []
    threshold = connection.connection.prepare_threshold
    connection.connection.prepare_threshold = None
    try:
        client = client_for("annotator")
        claim = project.span_labels.get(name="Claim").pk
        assert _save(client, document, claim, 0, 4, aset.version).status_code == 200
        assert _prepared_statements() == []
        stale = _save(client, document, claim, 6, 10, aset.version)
        assert stale.status_code == 409
    finally:
        connection.connection.prepare_threshold = threshold
    assert Span.objects.filter(annotation_set=aset).count() == 1


def test_a_prepared_read_gives_the_orms_instance(db, members, client_for):
    """On every database (SQLite runs the same SQL through Django's own cursor)."""
    user = members["annotator"]
    client_for("annotator")  # logs in: a session row
    session = Session.objects.get()
    model = get_user_model()
    read = get_prepared(model, '"id" = %s', [user.pk])
    assert read is not None and read._state.adding is False
    assert {f.attname: getattr(read, f.attname) for f in model._meta.concrete_fields} == {
        f.attname: getattr(user, f.attname) for f in model._meta.concrete_fields
    }
    again = get_prepared(Session, '"session_key" = %s', [session.session_key])
    assert (again.session_data, again.expire_date) == (session.session_data,
                                                       session.expire_date)
    assert get_prepared(model, '"id" = %s', [user.pk + 1000]) is None
    with prepared_cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM annotator_user WHERE id = %s", [user.pk])
        assert cursor.fetchone() == (1,)
