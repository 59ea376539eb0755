"""The agreement page with a finished run does the same work on a small and a big
project (issue 12): its documents by disagreement come a page at a time from the
stored ranks, its heatmaps a block of annotators at a time, and the "changed
since this run" check is one query.

Both projects come from ``tests.scale.build_project`` with one finished run; the
big one has more documents and more annotators than a page and a heatmap block.
The rows shown are checked against the report itself, sorted as the page sorted
it before the ranks were stored (``documents_by_disagreement``).
"""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from annotator.metrics.report import documents_by_disagreement
from annotator.models import AgreementDocumentRank, AgreementRun
from annotator.templatetags.warrant_figures import figure
from tests.agreement_helpers import full_report, reference_report
from tests.scale import build_project, delete_project

PAGE_SIZE = 5
HEATMAP_MAX = 3
SMALL = {"documents": 10, "students": 6, "spans": 6, "relations": 2, "words": 200}
BIG = {"documents": 40, "students": 11, "spans": 12, "relations": 4, "words": 300}
# Big markup may exceed small markup by this factor (ids and counts grow a digit).
MARKUP_SLACK = 1.15
QUERIES = ["", "?page=9999", "?page=3&pair_rows=2&pair_cols=9999"]
# Pages as full on both projects: two pages of documents, two blocks of annotators.
MARKUP_QUERIES = ["", "?page=2&pair_rows=2&pair_cols=1"]


@pytest.fixture(autouse=True)
def small_pages(monkeypatch):
    from annotator.web import agreement, paging

    monkeypatch.setattr(paging, "PAGE_SIZE", PAGE_SIZE)
    monkeypatch.setattr(agreement, "HEATMAP_MAX_ANNOTATORS", HEATMAP_MAX)


@pytest.fixture(scope="module")
def two_sizes(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        small = build_project(slug="agreement-small", **SMALL)
        big = build_project(slug="agreement-big", **BIG)
        yield small, big
        for built in (small, big):
            delete_project(built.project)


def _get(client, built, url):
    client.force_login(built.users["manager"])
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code in (200, 286), (url, response.status_code)
    return len(queries), [q["sql"][:200] for q in queries.captured_queries], response


def _run(built) -> AgreementRun:
    return AgreementRun.objects.get(project=built.project, status="done")


def _urls(built) -> list[str]:
    slug = built.project.slug
    page = reverse("agreement", kwargs={"slug": slug})
    status = reverse("agreement-run-status", kwargs={"slug": slug, "run_id": _run(built).pk})
    document = reverse("agreement-document",
                       kwargs={"slug": slug, "document_id": built.documents[0].pk})
    return [page + q for q in QUERIES] + [status, document]


@pytest.mark.django_db
def test_the_fixture_has_more_documents_and_annotators_than_a_page(two_sizes):
    _, big = two_sizes
    report = _run(big).report
    assert report["documents"] > 3 * PAGE_SIZE
    assert len(report["annotators"]) > 3 * HEATMAP_MAX


@pytest.mark.django_db
@pytest.mark.parametrize("which", range(len(QUERIES) + 2))
def test_agreement_pages_run_as_many_queries_on_a_big_project(client, two_sizes, which):
    small, big = two_sizes
    n_small, _, _ = _get(client, small, _urls(small)[which])
    n_big, sql, _ = _get(client, big, _urls(big)[which])
    assert n_big == n_small, f"{n_small} queries small, {n_big} big:\n" + "\n".join(sql)


@pytest.mark.django_db
@pytest.mark.parametrize("query", MARKUP_QUERIES)
def test_agreement_page_markup_does_not_grow_with_the_project(client, two_sizes, query):
    small, big = two_sizes
    sizes = [len(_get(client, built, reverse("agreement", kwargs={"slug": built.project.slug})
                      + query)[2].content) for built in (small, big)]
    assert sizes[1] <= sizes[0] * MARKUP_SLACK, sizes


def _document_cells(html: str) -> list[tuple[str, str]]:
    """(rank, external id) of each row of the documents table."""
    table = html.split('aria-labelledby="documents-heading"', 1)[1].split("</table>", 1)[0]
    return re.findall(r"<tr>\s*<td>(\d+)</td>.*?<code class=\"muted\">([^<]+)</code>", table,
                      flags=re.S)


@pytest.mark.django_db
@pytest.mark.parametrize("page", [1, 3, 9999])
def test_a_page_of_documents_is_that_page_of_the_report_sorted_by_disagreement(
        client, two_sizes, page):
    _, big = two_sizes
    order = documents_by_disagreement(full_report(_run(big)))
    last = -(-len(order) // PAGE_SIZE)
    number = min(page, last)
    url = reverse("agreement", kwargs={"slug": big.project.slug}) + f"?page={page}"
    html = _get(client, big, url)[2].content.decode()
    expected = [(str(rank), order[rank - 1]) for rank in
                range((number - 1) * PAGE_SIZE + 1, min(number * PAGE_SIZE, len(order)) + 1)]
    assert _document_cells(html) == expected
    assert f"Page {number} of {last}" in html


@pytest.mark.django_db
def test_a_run_without_stored_ranks_gets_them_on_its_first_view(client, two_sizes):
    """A run finished before the ranks existed (or restored from a backup)."""
    _, big = two_sizes
    run = _run(big)
    url = reverse("agreement", kwargs={"slug": big.project.slug}) + "?page=2"
    before = _document_cells(_get(client, big, url)[2].content.decode())
    report = reference_report(run)  # stored whole, as then
    AgreementDocumentRank.objects.filter(run=run).delete()
    AgreementRun.objects.filter(pk=run.pk).update(report=report, report_summary=None)
    after = _document_cells(_get(client, big, url)[2].content.decode())
    assert after == before and len(after) == PAGE_SIZE
    assert AgreementDocumentRank.objects.filter(run=run).count() == run.report["documents"]
    run.refresh_from_db()
    assert run.report_summary == {k: v for k, v in run.report.items() if k != "by_document"}


@pytest.mark.django_db
def test_a_heatmap_block_shows_those_annotators_pairs(client, two_sizes):
    _, big = two_sizes
    report = _run(big).report
    names = report["annotators"]
    rows, cols = names[HEATMAP_MAX:2 * HEATMAP_MAX], names[:HEATMAP_MAX]
    url = reverse("agreement", kwargs={"slug": big.project.slug}) + "?pair_rows=2&pair_cols=1"
    html = _get(client, big, url)[2].content.decode()
    table = html.split("kappa</caption>", 1)[1].split("</table>", 1)[0]
    assert re.findall(r'<th scope="col">([^<]+)</th>', table) == cols
    pairs = report["overall"]["cohen_kappa"]["pairs"]
    for a, row in zip(rows, re.findall(r"<tr><th scope=\"row\">.*?</tr>", table, flags=re.S),
                      strict=True):
        assert f'<th scope="row">{a}</th>' in row
        shown = re.findall(r"<td[^>]*>([^<]*)</td>", row)
        wanted = [figure(pairs[f"{a}|{b}"]) if f"{a}|{b}" in pairs
                  else figure(pairs[f"{b}|{a}"]) if f"{b}|{a}" in pairs else "—" for b in cols]
        assert shown == wanted
    assert f"{len(names)} annotators" in html
    assert f"and {len(names) - HEATMAP_MAX} more" in html
