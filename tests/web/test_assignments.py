"""The assignment page: run, reassign, deadlines, overdue flags, queues, CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse

from annotator.models import AnnotationSet
from tests.factories import DocumentFactory, MembershipFactory, UserFactory


@pytest.fixture
def klass(project, members):
    students = [members["annotator"]] + [
        MembershipFactory(project=project, user=UserFactory(username=n), role="annotator").user
        for n in ("bea", "cal")
    ]
    documents = [DocumentFactory(project=project) for _ in range(4)]
    return students, documents


def u(project, name, **kw):
    return reverse(name, kwargs={"slug": project.slug, **kw})


def test_run_assigns_k_per_document_with_seed_and_due(client_for, project, klass):
    response = client_for("manager").post(
        u(project, "assignments-run"), {"per_document": "2", "seed": "7", "due": "2030-01-15"})
    assert response.status_code == 302
    sets = AnnotationSet.objects.filter(document__project=project, is_gold=False)
    assert sets.count() == 8
    assert set(sets.values_list("due", flat=True)) == {dt.date(2030, 1, 15)}


@pytest.mark.parametrize(("data", "message"), [
    ({"per_document": "9"}, "cannot give each document 9"),
    ({"per_document": "two"}, "whole number"),
    ({"per_document": "1", "due": "tomorrow"}, "not a date"),
])
def test_run_errors_assign_nothing(client_for, project, klass, data, message):
    response = client_for("manager").post(u(project, "assignments-run"), data, follow=True)
    assert message in response.content.decode()
    assert not AnnotationSet.objects.filter(document__project=project).exists()


def test_assignments_list_each_annotator_and_flag_overdue(client_for, project, klass):
    students, documents = klass
    late = AnnotationSet.objects.create(document=documents[0], annotator=students[1],
                                        due=dt.date(2000, 1, 1))
    AnnotationSet.objects.create(document=documents[1], annotator=students[1],
                                 due=dt.date(2000, 1, 1), status="submitted")
    AnnotationSet.objects.create(document=documents[1], annotator=students[2])
    body = client_for("manager").get(u(project, "assignments")).content.decode()
    for s in students[1:]:
        assert f"<td>{s.username}</td>" in body
    row = body[body.index(f'id="assignment-{late.pk}"'):]
    row = row[: row.index("</tr>")]
    assert "overdue" in row
    assert body.count('status-overdue">overdue') == 1  # submitted late work is not overdue


def test_reassign_a_deadline_and_withdraw_by_hand(client_for, project, klass):
    students, documents = klass
    aset = AnnotationSet.objects.create(document=documents[0], annotator=students[0])
    client = client_for("manager")
    url = u(project, "assignment-update", assignment_id=aset.pk)
    client.post(url, {"action": "reassign", "annotator": str(students[2].pk)})
    aset.refresh_from_db()
    assert aset.annotator == students[2]
    client.post(url, {"action": "due", "due": "2030-05-05"})
    aset.refresh_from_db()
    assert aset.due == dt.date(2030, 5, 5)
    client.post(url, {"action": "delete"})
    assert not AnnotationSet.objects.filter(pk=aset.pk).exists()


def test_reassign_to_a_viewer_is_refused(client_for, project, klass, members):
    students, documents = klass
    aset = AnnotationSet.objects.create(document=documents[0], annotator=students[0])
    response = client_for("manager").post(
        u(project, "assignment-update", assignment_id=aset.pk),
        {"action": "reassign", "annotator": str(members["viewer"].pk)}, follow=True)
    assert "choose an annotator" in response.content.decode()
    aset.refresh_from_db()
    assert aset.annotator == students[0]


def test_add_one_assignment(client_for, project, klass):
    students, documents = klass
    client_for("manager").post(u(project, "assignment-add"), {
        "document": str(documents[2].pk), "annotator": str(students[1].pk), "due": ""})
    assert AnnotationSet.objects.filter(document=documents[2], annotator=students[1]).exists()


def test_project_deadline_form(client_for, project, klass):
    students, documents = klass
    aset = AnnotationSet.objects.create(document=documents[0], annotator=students[0])
    client_for("manager").post(u(project, "project-deadline"), {"due": "2030-09-09"})
    aset.refresh_from_db()
    assert aset.due == dt.date(2030, 9, 9)


def test_an_assignment_of_another_project_is_404(client_for, project, klass):
    other = DocumentFactory()
    aset = AnnotationSet.objects.create(document=other, annotator=klass[0][0])
    response = client_for("manager").post(
        u(project, "assignment-update", assignment_id=aset.pk), {"action": "delete"})
    assert response.status_code == 404
    assert AnnotationSet.objects.filter(pk=aset.pk).exists()


def test_csv_download(client_for, project, klass):
    client_for("manager").post(u(project, "assignments-run"), {"per_document": "1"})
    response = client_for("manager").get(u(project, "assignments-csv"))
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == 4 and set(rows[0]) == {"document", "annotator", "status", "due"}


def test_assignments_come_a_page_at_a_time_and_search_by_annotator(
    client_for, project, klass, monkeypatch
):
    from annotator.web import paging

    monkeypatch.setattr(paging, "PAGE_SIZE", 2)
    students, documents = klass
    for d in documents:
        AnnotationSet.objects.create(document=d, annotator=students[1])
    AnnotationSet.objects.create(document=documents[0], annotator=students[2])
    client = client_for("manager")
    first = client.get(u(project, "assignments")).content.decode()
    assert first.count('<tr id="assignment-') == 2
    assert "Page 1 of 3" in first
    last = client.get(u(project, "assignments") + "?page=3").content.decode()
    assert last.count('<tr id="assignment-') == 1
    found = client.get(u(project, "assignments") + f"?q={students[2].username}").content
    assert found.decode().count('<tr id="assignment-') == 1


def test_add_and_reassign_by_username_and_external_id(client_for, project, klass):
    students, documents = klass
    client = client_for("manager")
    client.post(
        u(project, "assignment-add"),
        {"document": documents[0].external_id, "annotator": students[1].username},
    )
    aset = AnnotationSet.objects.get(document=documents[0], annotator=students[1])
    client.post(
        u(project, "assignment-update", assignment_id=aset.pk),
        {"action": "reassign", "annotator": students[2].username},
    )
    aset.refresh_from_db()
    assert aset.annotator == students[2]
    response = client.post(
        u(project, "assignment-add"),
        {"document": "no-such-brief", "annotator": students[1].username},
        follow=True,
    )
    assert "Choose a document and an annotator" in response.content.decode()
