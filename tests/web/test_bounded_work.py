"""Bounded work: every page and API read runs the same number of queries on a
small project and on a big one (issue 12, point 1).

Both projects come from ``tests.scale.build_project``; the big one has more
documents, members, spans and relations in every set. A page whose query count
differs between them does work in proportion to the project's or the brief's
size, and fails here with both counts and the queries of the big run.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.scale import build_project, delete_project

# The same number of annotators per document (k is a setting, not a size); the
# big project has more documents, members, spans and relations. Both sizes are
# longer than a page (pages of PAGE_SIZE rows, texts longer than
# WHOLE_TEXT_CHARS): a bounded page then shows one page of each list on both,
# and its markup is about the same size.
PAGE_SIZE = 5
WHOLE_TEXT_CHARS = 2_000
SMALL = {"documents": 8, "students": 6, "spans": 12, "relations": 6, "extra_members": 2,
         "words": 600}
BIG = {"documents": 40, "students": 6, "spans": 150, "relations": 80, "extra_members": 40,
       "words": 3000}
# Big markup may exceed small markup by this factor (ids and counts grow a digit).
MARKUP_SLACK = 1.15

# Answers whose size is their content, not a page of a list: downloads, one
# set's spans (the API's set detail), the agreement report, and pages that show
# one whole brief (issue 13 rewrites the annotate page's markup).
WHOLE_BY_DESIGN = {
    "assignments-csv", "progress-csv", "grades-csv", "members-download",
    "api-annotation-set-detail",
    "api-agreement", "api-agreement-run", "agreement-report",
    "annotate", "annotate-panels", "document-detail", "api-document-detail",
    # A page of stretches, but its passage is marked segment by segment: more
    # spans in the same passage (the big fixture is denser) make more markup.
    "agreement-document",
}

# (name, who asks, url kwargs beyond the slug). "doc" is the first document,
# "set" the asking student's set on it, "gold" its gold set.
PAGES = [
    ("home", "manager", {}),
    ("project-detail", "manager", {}),
    ("project-detail", "annotator", {}),
    ("document-detail", "manager", {"document_id": "doc"}),
    ("document-import", "manager", {}),
    ("agreement", "manager", {}),
    ("agreement-document", "manager", {"document_id": "doc"}),
    ("annotate", "annotator", {"document_id": "doc"}),
    ("annotate-panels", "annotator", {"document_id": "doc"}),
    ("exports", "manager", {}),
    ("project-settings", "manager", {}),
    ("members", "manager", {}),
    ("members-download", "manager", {}),
    ("assignments", "manager", {}),
    ("assignments-csv", "manager", {}),
    ("progress", "manager", {}),
    ("progress-csv", "manager", {}),
    ("curation", "manager", {}),
    ("curation-document", "curator", {"document_id": "doc"}),
    ("grades", "manager", {}),
    ("grades-csv", "manager", {}),
    ("feedback", "annotator", {}),
    ("feedback-document", "annotator", {"document_id": "doc"}),
    ("api-project-list", "manager", {}),
    ("api-project-detail", "manager", {}),
    ("api-document-list", "manager", {}),
    ("api-document-detail", "manager", {"document_id": "doc"}),
    ("api-annotation-set-list", "manager", {"document_id": "doc"}),
    ("api-annotation-set-detail", "manager", {"set_id": "set"}),
    ("api-annotation-set-detail", "annotator", {"set_id": "set"}),
    ("api-export-job-list", "manager", {}),
    ("api-agreement", "manager", {}),
    # The report read in batches of REPORT_BATCH documents (more than either size).
    ("api-agreement-run", "manager", {"run_id": "run"}),
    ("agreement-report", "manager", {"run_id": "run"}),
    ("api-agreement-run-documents", "manager", {"run_id": "run"}),
]

NO_SLUG = {"home", "api-project-list", "api-annotation-set-detail", "api-agreement-run"}


def _url(built, name: str, kwargs: dict) -> str:
    doc = built.documents[0]
    first_set = next(s for s in built.sets if s.document_id == doc.pk)
    values = {"doc": doc.pk, "set": first_set.pk, "gold": built.gold[0].pk}
    if "run" in kwargs.values():
        values["run"] = built.project.agreement_runs.filter(status="done").latest("id").pk
    resolved = {k: values[v] for k, v in kwargs.items()}
    if name not in NO_SLUG:
        resolved["slug"] = built.project.slug
    return reverse(name, kwargs=resolved)


def _count(client, built, name, actor, kwargs):
    client.force_login(built.users[actor])
    url = _url(built, name, kwargs)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
        # A streamed answer (a run's report) runs its queries as it is read.
        body = (b"".join(response.streaming_content) if response.streaming
                else response.content)
    assert response.status_code == 200, (url, response.status_code, body[:300])
    sql = [q["sql"][:200] for q in queries.captured_queries]
    return len(queries), sql, len(body)


@pytest.fixture(autouse=True)
def small_pages(monkeypatch):
    from annotator.api.base import WarrantPagination
    from annotator.web import paging, text_render

    monkeypatch.setattr(paging, "PAGE_SIZE", PAGE_SIZE)
    monkeypatch.setattr(WarrantPagination, "page_size", PAGE_SIZE)
    monkeypatch.setattr(text_render, "WHOLE_TEXT_CHARS", WHOLE_TEXT_CHARS)


@pytest.fixture(scope="module")
def two_sizes(django_db_setup, django_db_blocker):
    """Both projects, built once for the module and deleted after it."""
    with django_db_blocker.unblock():
        small = build_project(slug="bounded-small", **SMALL)
        big = build_project(slug="bounded-big", **BIG)
        yield small, big
        for built in (small, big):
            delete_project(built.project)


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "actor", "kwargs"), PAGES, ids=[f"{p[0]}-{p[1]}" for p in PAGES])
def test_queries_do_not_grow_with_the_project(client, two_sizes, name, actor, kwargs):
    small, big = two_sizes
    n_small, _, _ = _count(client, small, name, actor, kwargs)
    n_big, sql, _ = _count(client, big, name, actor, kwargs)
    assert n_big == n_small, f"{name}: {n_small} queries small, {n_big} big:\n" + "\n".join(sql)


# Pages with a query: a search, and the deepest pages of long lists (a page number
# past the end shows the last page), which must cost what the first page does.
QUERY_PAGES = [
    ("project-detail", "manager", "?q=Brief"),
    ("project-detail", "manager", "?page=9999"),
    ("assignments", "manager", "?page=9999"),
    ("assignments", "manager", "?page=3"),
    ("assignments", "manager", "?q=s"),
    ("progress", "manager", "?documents=9999&annotators=9999"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "actor", "query"), QUERY_PAGES,
                         ids=[f"{p[0]}-{p[2]}" for p in QUERY_PAGES])
def test_searches_and_deep_pages_do_not_grow_with_the_project(client, two_sizes, name, actor,
                                                              query):
    small, big = two_sizes
    counts = []
    for built in (small, big):
        client.force_login(built.users[actor])
        url = _url(built, name, {}) + query
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        assert name == "progress" or response.context["page"].object_list, url
        counts.append((len(queries), [q["sql"][:200] for q in queries.captured_queries]))
    (n_small, _), (n_big, sql) = counts
    assert n_big == n_small, f"{name}{query}: {n_small} queries small, {n_big} big:\n" + \
        "\n".join(sql)


MARKUP_PAGES = [p for p in PAGES if p[0] not in WHOLE_BY_DESIGN]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "actor", "kwargs"), MARKUP_PAGES, ids=[f"{p[0]}-{p[1]}" for p in MARKUP_PAGES]
)
def test_markup_does_not_grow_with_the_project(client, two_sizes, name, actor, kwargs):
    small, big = two_sizes
    _, _, bytes_small = _count(client, small, name, actor, kwargs)
    _, _, bytes_big = _count(client, big, name, actor, kwargs)
    assert bytes_big <= bytes_small * MARKUP_SLACK, (name, bytes_small, bytes_big)


def test_a_big_projects_lists_really_have_several_pages(client, two_sizes):
    """The fixture is what the tests above assume: more rows than a page everywhere."""
    _, big = two_sizes
    client.force_login(big.users["manager"])
    body = client.get(reverse("members", kwargs={"slug": big.project.slug})).content.decode()
    assert f"of {-(-(BIG['students'] + BIG['extra_members'] + 3) // PAGE_SIZE)}" in body
