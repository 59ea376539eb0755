"""The document page: pages of a PDF, cleaning beside the text, title edit, import re-run."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from annotator.formats.readers import read_upload
from annotator.models import AnnotationSet, Document, Span
from annotator.services.imports import documents_import
from tests.conftest import ALL_ACTORS
from tests.formats.brief_files import TITLE, brief_article, two_column_pdf

PAGE = (
    "loader\nHome\nAnalysis\n\nWhy the congestion charge works\n\n"
    "Northport should price congestion before the harbour district seizes up.\n\n"
    + "\n".join(["Home", "Analysis", "Subscribe"] * 5) + "\n"
)


def _import(project, name, data, clean=True) -> Document:
    documents_import(project=project, records=read_upload(name, data, clean=clean))
    return project.documents.get(original_name=name)


def _url(name, document):
    return reverse(name, kwargs={"slug": document.project.slug, "document_id": document.pk})


@pytest.fixture
def page_document(project):
    return _import(project, "page.txt", PAGE.encode())


@pytest.fixture(scope="module")
def pdf_bytes():
    return two_column_pdf(brief_article(2)).data


def _cases(statuses):
    return list(zip(ALL_ACTORS, statuses, strict=True))


# manager curator annotator viewer non_member anonymous
@pytest.mark.parametrize(("actor", "status"), _cases((302, 403, 403, 403, 404, 302)))
def test_title_edit_per_actor_and_nothing_changes_when_refused(client_for, page_document,
                                                               actor, status):
    response = client_for(actor).post(_url("document-title", page_document),
                                      {"title": "A new title"})
    assert response.status_code == status
    page_document.refresh_from_db()
    assert (page_document.title == "A new title") is (actor == "manager")
    if actor == "anonymous":
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(("actor", "status"), _cases((302, 403, 403, 403, 404, 302)))
def test_rerun_per_actor_and_nothing_changes_when_refused(client_for, page_document, actor,
                                                          status):
    response = client_for(actor).post(_url("document-rerun", page_document), {"clean": "off"})
    assert response.status_code == status
    page_document.refresh_from_db()
    assert page_document.text.startswith("loader") is (actor == "manager")


def test_title_edit_through_htmx_swaps_the_title_block(client_for, page_document):
    client = client_for("manager")
    response = client.post(_url("document-title", page_document),
                           {"title": "Price congestion", "expected_title": page_document.title},
                           HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div class="page-head" id="document-title">')
    assert "<h1>Price congestion</h1>" in html
    assert "Title: edited by hand." in html


def test_a_stale_or_empty_title_is_refused_with_the_reason(client_for, page_document):
    client = client_for("manager")
    stale = client.post(_url("document-title", page_document),
                        {"title": "Mine", "expected_title": "What I saw"}, HTTP_HX_REQUEST="true")
    assert stale.status_code == 409
    assert "someone changed the title meanwhile" in stale.content.decode()
    empty = client.post(_url("document-title", page_document), {"title": "  "})
    assert empty.status_code == 400
    assert "a title cannot be empty" in empty.content.decode()
    page_document.refresh_from_db()
    assert page_document.title == "Why the congestion charge works"


def test_the_page_says_where_the_title_came_from_and_shows_the_cleaning(client_for,
                                                                       page_document):
    html = client_for("viewer").get(_url("document-detail", page_document)).content.decode()
    assert "Title: taken from the first line." in html
    # What was removed, beside what was kept, collapsed until asked for.
    assert '<details class="cleaning-check">' in html
    assert '<del class="removed" title="chrome">loader <span class="reason">(chrome)</span>' \
        in html
    assert "Northport should price congestion" in html
    # Only a manager may edit or re-run.
    assert "Edit the title" not in html and "Re-run the import" not in html
    manager_html = client_for("manager").get(
        _url("document-detail", page_document)).content.decode()
    assert "Edit the title" in manager_html
    assert "Re-run the import with cleaning off" in manager_html


def test_a_rerun_without_cleaning_keeps_spans_and_says_what_it_did(client_for, page_document,
                                                                   members):
    aset = AnnotationSet.objects.create(document=page_document, annotator=members["annotator"])
    start = page_document.text.index("harbour district")
    Span.objects.create(annotation_set=aset, start=start, end=start + 16,
                        label=page_document.project.span_labels.get(name="Claim"))
    response = client_for("manager").post(_url("document-rerun", page_document),
                                          {"clean": "off"}, follow=True)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Import re-run with cleaning off: the text changed; 1 span(s) moved with their " \
        "words." in html
    assert "Re-run the import with cleaning on" in html
    assert "Cleaning was off when this document was imported" in html
    page_document.refresh_from_db()
    span = Span.objects.get(annotation_set=aset)
    assert page_document.text[span.start:span.end] == "harbour district"


def test_a_refused_rerun_shows_the_sentence_and_changes_nothing(client_for, project, members,
                                                                pdf_bytes):
    document = _import(project, "brief.pdf", pdf_bytes)
    first, second = next((a, b) for a, b in zip(document.meta["page_map"],
                                                document.meta["page_map"][1:], strict=False)
                         if a[1] == b[0] and b[2] == a[2] + 1)
    aset = AnnotationSet.objects.create(document=document, annotator=members["annotator"])
    Span.objects.create(annotation_set=aset, start=first[1] - 5, end=second[0] + 5,
                        label=project.span_labels.get(name="Claim"))
    text = document.text
    response = client_for("manager").post(_url("document-rerun", document), {"clean": "off"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Nothing was changed." in html
    assert "would change the text under 1 of the 1 span(s) in 1 annotation set(s)" in html
    document.refresh_from_db()
    assert document.text == text


def test_a_pdf_shows_where_each_page_begins(client_for, project, pdf_bytes):
    document = _import(project, "brief.pdf", pdf_bytes)
    html = client_for("annotator").get(_url("document-detail", document)).content.decode()
    pages = document.meta["pages"]
    for page in range(1, pages + 1):
        assert f'<span class="page-mark" id="page-{page}">page {page}</span>' in html
    assert f"<h1>{TITLE}</h1>" in html
    assert "Title: taken from the largest type on page 1." in html
    assert "running header" in html and "page number" in html


def test_the_document_page_runs_the_same_queries_for_a_short_and_a_long_pdf(client_for,
                                                                            project):
    short = _import(project, "short.pdf", two_column_pdf(brief_article(1)).data)
    long = _import(project, "long.pdf", two_column_pdf(brief_article(6)).data)
    client = client_for("manager")
    counts = []
    for document in (short, long):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(_url("document-detail", document)).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_the_import_page_lists_pdf_and_word(client_for, project):
    html = client_for("manager").get(
        reverse("document-import", kwargs={"slug": project.slug})).content.decode()
    assert "PDF (with a text layer), Word .docx" in html
    assert ".pdf,.docx" in html
    assert "running headers, footers and page numbers from PDFs" in html
