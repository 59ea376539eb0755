import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import (
    AnnotationSetFactory,
    DocumentFactory,
    MembershipFactory,
    UserFactory,
)


@pytest.fixture
def assigned_document(project, members):
    """A document assigned to the ``annotator`` member and to another annotator, bob."""
    doc = DocumentFactory(project=project, title="Export controls brief")
    bob = UserFactory(username="bob")
    MembershipFactory(project=project, user=bob, role="annotator")
    AnnotationSetFactory(document=doc, annotator=members["annotator"], status="in_progress")
    AnnotationSetFactory(document=doc, annotator=bob, status="submitted")
    return doc


def detail(client, project, headers=None, **params):
    url = reverse("project-detail", kwargs={"slug": project.slug})
    return client.get(url, params, headers=headers)


def assignees(response):
    return [
        [a["set"].annotator.username for a in row["assignments"]]
        for row in response.context["rows"]
    ]


@pytest.mark.parametrize(
    ("actor", "seen"),
    [
        ("manager", ["annotator", "bob"]),
        ("curator", ["annotator", "bob"]),
        ("annotator", ["annotator"]),
        ("viewer", []),
    ],
)
def test_blind_project_shows_annotators_only_their_own_assignment(
    client_for, project, assigned_document, actor, seen
):
    assert project.blind
    response = detail(client_for(actor), project)
    assert assignees(response) == [seen]
    html = response.content.decode()
    assert ("bob" in html) == ("bob" in seen)


@pytest.mark.parametrize("actor", ["annotator", "viewer"])
def test_open_project_shows_every_assignment_to_every_member(
    client_for, project, assigned_document, actor
):
    project.blind = False
    project.save()
    assert assignees(detail(client_for(actor), project)) == [["annotator", "bob"]]


def test_blind_project_hides_other_assignments_on_the_document_page(
    client_for, project, assigned_document
):
    url = reverse(
        "document-detail", kwargs={"slug": project.slug, "document_id": assigned_document.pk}
    )
    annotator_html = client_for("annotator").get(url).content.decode()
    assert "bob" not in annotator_html
    assert "In progress" in annotator_html
    assert "bob" in client_for("curator").get(url).content.decode()


def test_document_table_shows_title_external_id_words_and_status(
    client_for, project, assigned_document
):
    html = detail(client_for("manager"), project).content.decode()
    assert "Export controls brief" in html
    assert assigned_document.external_id in html
    words = len(assigned_document.text.split())
    assert f"<td>{words}</td>" in html
    assert 'class="status status-in_progress"' in html
    assert 'class="status status-submitted"' in html
    doc_url = reverse(
        "document-detail", kwargs={"slug": project.slug, "document_id": assigned_document.pk}
    )
    assert f'href="{doc_url}"' in html


def test_overdue_assignment_is_flagged_and_a_submitted_one_is_not(client_for, project, members):
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    late, done = DocumentFactory.create_batch(2, project=project)
    AnnotationSetFactory(document=late, annotator=members["annotator"], due=yesterday)
    AnnotationSetFactory(
        document=done, annotator=members["curator"], due=yesterday, status="submitted"
    )
    response = detail(client_for("manager"), project)
    overdue = [[a["overdue"] for a in row["assignments"]] for row in response.context["rows"]]
    assert overdue == [[True], [False]]
    assert response.context["counts"].overdue == 1
    assert "overdue: due" in response.content.decode()


def test_import_link_is_shown_to_managers_only(client_for, project):
    url = reverse("document-import", kwargs={"slug": project.slug})
    assert url in detail(client_for("manager"), project).content.decode()
    for actor in ["curator", "annotator", "viewer"]:
        assert url not in detail(client_for(actor), project).content.decode()


def test_documents_are_paginated_fifty_per_page(client_for, project):
    DocumentFactory.create_batch(51, project=project)
    client = client_for("viewer")
    first = detail(client, project)
    assert len(first.context["rows"]) == 50
    assert "page=2" in first.content.decode()
    second = detail(client, project, page=2)
    assert len(second.context["rows"]) == 1


def test_search_by_title_filters_the_table(client_for, project):
    DocumentFactory(project=project, title="Oil price cap")
    DocumentFactory(project=project, title="Grain corridor")
    response = detail(client_for("viewer"), project, q="oil")
    assert [row["document"].title for row in response.context["rows"]] == ["Oil price cap"]
    assert "Grain corridor" not in response.content.decode()


def test_search_form_works_without_javascript(client_for, project):
    html = detail(client_for("viewer"), project).content.decode()
    url = reverse("project-detail", kwargs={"slug": project.slug})
    assert f'method="get" action="{url}"' in html
    assert 'name="q"' in html
    assert '<label for="document-search">' in html


def test_htmx_request_returns_only_the_document_table(client_for, project):
    DocumentFactory(project=project, title="Oil price cap")
    response = detail(client_for("viewer"), project, q="oil", headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="document-table"')
    assert "<html" not in html
    assert 'id="document-search"' not in html
    assert "Oil price cap" in html
    assert "HX-Request" in response["Vary"]


def test_htmx_history_restore_gets_the_whole_page(client_for, project):
    response = detail(
        client_for("viewer"),
        project,
        headers={"HX-Request": "true", "HX-History-Restore-Request": "true"},
    )
    assert "<html" in response.content.decode()


def test_annotate_link_appears_only_when_the_annotate_url_exists(client_for, project, document):
    from django.urls import NoReverseMatch

    try:
        url = reverse("annotate", kwargs={"slug": project.slug, "document_id": document.pk})
    except NoReverseMatch:
        url = None
    row = detail(client_for("annotator"), project).context["rows"][0]
    assert row["annotate_url"] == url
