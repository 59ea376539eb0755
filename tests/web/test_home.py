import datetime

from django.urls import reverse
from django.utils import timezone

from tests.factories import AnnotationSetFactory, DocumentFactory, ProjectFactory


def test_home_lists_the_users_projects_with_role_and_document_count(client_for, project, document):
    ProjectFactory(slug="elsewhere", name="Not yours")
    response = client_for("curator").get(reverse("home"))
    rows = response.context["rows"]
    assert [row["project"].slug for row in rows] == ["sanctions"]
    assert rows[0]["role"] == "Curator"
    assert rows[0]["project"].document_count == 1
    html = response.content.decode()
    assert reverse("project-detail", kwargs={"slug": "sanctions"}) in html
    assert "Not yours" not in html


def test_home_shows_an_annotators_queue_with_overdue_by_due_date(client_for, project, members):
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    annotator = members["annotator"]
    docs = DocumentFactory.create_batch(4, project=project)
    AnnotationSetFactory(document=docs[0], annotator=annotator, status="assigned", due=yesterday)
    AnnotationSetFactory(document=docs[1], annotator=annotator, status="in_progress")
    AnnotationSetFactory(document=docs[2], annotator=annotator, status="submitted", due=yesterday)
    AnnotationSetFactory(document=docs[3], annotator=members["curator"], status="assigned")
    response = client_for("annotator").get(reverse("home"))
    queue = response.context["rows"][0]["queue"]
    assert queue == {"assigned": 1, "in_progress": 1, "submitted": 1, "overdue": 1, "total": 3}
    assert "Your queue" in response.content.decode()


def test_home_shows_an_empty_queue_to_an_annotator_without_assignments(client_for, project):
    queue = client_for("annotator").get(reverse("home")).context["rows"][0]["queue"]
    assert queue["total"] == 0


def test_home_shows_no_queue_to_a_viewer(client_for, project):
    response = client_for("viewer").get(reverse("home"))
    assert response.context["rows"][0]["queue"] is None
    assert "Your queue" not in response.content.decode()


def test_home_tells_a_non_member_they_have_no_project(client_for, project):
    response = client_for("non_member").get(reverse("home"))
    assert response.context["rows"] == []
    assert "not a member of any project" in response.content.decode()
