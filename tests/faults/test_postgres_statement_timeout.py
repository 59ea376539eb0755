"""A query that hangs on an open connection, under gunicorn (issue 11, point 11).

The connection is made, PostgreSQL answers, and yet a query never returns: here
another session holds an ``ACCESS EXCLUSIVE`` lock on the documents table (as a
long migration, a ``VACUUM FULL`` or a stuck administrative transaction does).
Without a bound every request that reads a document waits for as long as the
lock is held, until gunicorn kills the worker (60 s) and the proxy answers 502.
With ``DATABASE_STATEMENT_TIMEOUT`` PostgreSQL cancels the statement, and the
request answers the 503 outage page (annotator/web/outage.py) in seconds; once
the lock is gone the same page answers 200 on the same connections.
"""

from __future__ import annotations

from annotator.web.outage import MESSAGE, RETRY_AFTER_SECONDS
from tests import live
from tests.faults.conftest import PASSWORD, copy_database, sql, timed

#: A short bound for the test (the default is 30 s).
STATEMENT_TIMEOUT = 2
#: The bound, plus gunicorn's and Django's own time on a busy machine.
LIMIT = STATEMENT_TIMEOUT + 3


def test_a_hung_query_answers_503_within_the_statement_timeout(
    postgres_cluster, demo_template, tmp_path
):
    import psycopg

    db = live.postgres_database(postgres_cluster.url(), "warrant")
    copy_database(demo_template, db)
    env = live.app_env(database_url=db, MEDIA_ROOT=str(tmp_path / "media"),
                       DATABASE_STATEMENT_TIMEOUT=str(STATEMENT_TIMEOUT))
    port = live.free_port()
    web = live.start_gunicorn(env=env, port=port, log_dir=tmp_path, workers=2)
    try:
        [(document_id,)] = sql(db, "SELECT d.id FROM annotator_document d JOIN "
                               "annotator_project p ON p.id = d.project_id WHERE p.slug = 'demo'")
        annotate = f"/p/demo/d/{document_id}/annotate/"
        # The client waits longer than the bound, so that a hang shows as a failure.
        carol = live.HttpClient(f"http://127.0.0.1:{port}", timeout=LIMIT + 10)
        carol.login("carol", PASSWORD)
        assert carol.get(annotate, follow=False).status == 200

        with psycopg.connect(db, connect_timeout=5) as locker:
            locker.execute("LOCK TABLE annotator_document IN ACCESS EXCLUSIVE MODE")
            took = {}
            try:
                page, took["page"] = timed(carol.get, annotate, follow=False)
                api, took["api"] = timed(carol.get, f"/api/projects/demo/documents/{document_id}/",
                                         follow=False)
            except OSError as exc:  # the client's own timeout: the request hung
                raise AssertionError(f"no answer within {LIMIT + 10} s: {exc}") from None
            finally:
                locker.rollback()  # the lock goes
        assert page.status == 503, page.text[:300]
        assert page.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
        assert MESSAGE in page.text
        assert api.status == 503 and api.json() == {"detail": MESSAGE}
        assert max(took.values()) < LIMIT, took
        assert "QueryCanceled" in web.log() or "statement timeout" in web.log()

        # The lock is gone: the same page answers, on the same connections.
        assert carol.get(annotate, follow=False).status == 200
    finally:
        web.stop()
    print(f"\nA hung query: {took}")
