"""PostgreSQL stopped and started again under gunicorn.

A private cluster (initdb into a temporary folder, a free port) holds a copy
of the demo database; gunicorn runs on it. With PostgreSQL stopped
(``pg_ctl stop -m fast``) a page answers 503 with ``Retry-After`` and the page
saying nothing saved is lost, the API answers 503 with ``{"detail": ...}``, and
an htmx save answers 503 with one plain line (annotator/web/outage.py); the
error is in gunicorn's log. Started again, the next requests succeed on new
connections (CONN_HEALTH_CHECKS), the session has survived (still logged in),
and a save made after the recovery is stored.
"""

from __future__ import annotations

import re

from annotator.web.outage import MESSAGE, RETRY_AFTER_SECONDS
from tests import live
from tests.faults.conftest import PASSWORD, copy_database, sql, timed

#: The longest a request may take with the database down (it is refused at once).
REQUEST_LIMIT = 3.0
#: Requests after the restart: enough to reach both gunicorn workers' connections.
REQUESTS_AFTER_RESTART = 4


def carols_spans(db: str) -> list[tuple[int, int]]:
    return sql(db, "SELECT s.start, s.\"end\" FROM annotator_span s JOIN annotator_annotationset a"
               " ON a.id = s.annotation_set_id JOIN annotator_user u ON u.id = a.annotator_id"
               " WHERE u.username = 'carol' ORDER BY s.start")


def test_postgres_stopped_and_started_again_under_gunicorn(
    postgres_cluster, demo_template, tmp_path
):
    db = live.postgres_database(postgres_cluster.url(), "warrant")
    copy_database(demo_template, db)
    env = live.app_env(database_url=db, MEDIA_ROOT=str(tmp_path / "media"))
    port = live.free_port()
    web = live.start_gunicorn(env=env, port=port, log_dir=tmp_path, workers=2)
    try:
        [(document_id,)] = sql(db, "SELECT d.id FROM annotator_document d JOIN "
                               "annotator_project p ON p.id = d.project_id WHERE p.slug = 'demo'")
        [(claim,)] = sql(db, "SELECT l.id FROM annotator_spanlabel l JOIN annotator_project p "
                         "ON p.id = l.project_id WHERE p.slug = 'demo' AND l.name = 'Claim'")
        annotate = f"/p/demo/d/{document_id}/annotate/"
        carol = live.HttpClient(f"http://127.0.0.1:{port}", timeout=20)
        carol.login("carol", PASSWORD)
        page = carol.get(annotate, follow=False)
        assert page.status == 200
        version = int(re.search(r'name="expected_version" value="(\d+)"', page.text)[1])
        saved = carol.post(annotate + "spans/", {"label": claim, "start": 0, "end": 10,
                                                 "snap": "0", "expected_version": version},
                           headers={"HX-Request": "true"})
        assert saved.status == 200, saved.text
        version = int(saved.headers["X-Warrant-Version"])
        before = carols_spans(db)
        assert len(before) == 1

        postgres_cluster.stop()
        took = {}
        page, took["page"] = timed(carol.get, annotate, follow=False)
        assert page.status == 503
        assert page.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
        assert page.headers["Content-Type"].startswith("text/html")
        assert MESSAGE in page.text
        api, took["api"] = timed(carol.get, "/api/projects/", follow=False)
        assert api.status == 503 and api.json() == {"detail": MESSAGE}
        assert api.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
        save, took["htmx save"] = timed(
            carol.post, annotate + "spans/",
            {"label": claim, "start": 11, "end": 20, "snap": "0", "expected_version": version},
            headers={"HX-Request": "true"}, follow=False)
        assert save.status == 503 and save.headers["Content-Type"].startswith("text/plain")
        assert "cannot reach its database" in save.text
        assert max(took.values()) < REQUEST_LIMIT, took
        assert "database unreachable, answered 503: GET " + annotate in web.log()

        postgres_cluster.start()
        page, took["first page after the restart"] = timed(carol.get, annotate, follow=False)
        assert page.status == 200
        for _ in range(REQUESTS_AFTER_RESTART):
            page = carol.get(annotate, follow=False)
            assert page.status == 200  # not 503, and not a redirect to the log-in page
            assert "carol" in page.text
        saved = carol.post(annotate + "spans/", {"label": claim, "start": 11, "end": 20,
                                                 "snap": "0", "expected_version": version},
                           headers={"HX-Request": "true"})
        assert saved.status == 200, saved.text
        after = carols_spans(db)
        assert len(after) == 2 and after[0] == before[0] and after[1][0] >= 11
        figures = ", ".join(f"{k} {v:.2f} s" for k, v in took.items())
        print(f"\nPostgreSQL stopped, then started: {figures}")
    finally:
        web.stop()
