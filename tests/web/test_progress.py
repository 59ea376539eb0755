"""The progress dashboard: counts per annotator and per document, a chart, a CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse

from annotator.models import AnnotationSet
from tests.factories import DocumentFactory, MembershipFactory, UserFactory


@pytest.fixture
def work(project, members):
    ann, bea = members["annotator"], MembershipFactory(
        project=project, user=UserFactory(username="bea"), role="annotator").user
    d1, d2 = DocumentFactory(project=project, title="First"), DocumentFactory(project=project,
                                                                              title="Second")
    past = dt.date(2000, 1, 1)
    AnnotationSet.objects.create(document=d1, annotator=ann, status="submitted", due=past)
    AnnotationSet.objects.create(document=d2, annotator=ann, status="in_progress", due=past)
    AnnotationSet.objects.create(document=d1, annotator=bea, status="assigned")
    AnnotationSet.objects.create(document=d2, annotator=bea, status="assigned", due=past)
    return d1, d2


def test_counts_per_annotator_and_document(client_for, project, work):
    response = client_for("curator").get(reverse("progress", kwargs={"slug": project.slug}))
    body = response.content.decode()
    totals = body[body.index('id="progress-totals"'):]
    totals = totals[: totals.index("</ul>")]
    assert "Assignments <strong>4</strong>" in totals and "status-overdue\">2<" in totals
    # annotator: 0 assigned, 1 in progress, 1 submitted, 1 overdue, 2 total
    assert ("<th scope=\"row\">annotator</th>\n        <td>0</td><td>1</td><td>1</td>"
            in body)
    assert "1 of 2 submitted, 1 in progress, 0 not started" in body  # the chart's label
    assert 'style="width: 50.0%"' in body
    assert "<th scope=\"row\">Second</th>" in body


def test_progress_csv(client_for, project, work):
    response = client_for("manager").get(reverse("progress-csv", kwargs={"slug": project.slug}))
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    by = {(r["scope"], r["name"]): r for r in rows}
    assert by[("annotator", "bea")] == {
        "scope": "annotator", "name": "bea", "assigned": "2", "in_progress": "0",
        "submitted": "0", "overdue": "1", "total": "2"}
    assert by[("document", "First")]["submitted"] == "1"
    assert by[("annotator", "annotator")]["overdue"] == "1"


def test_annotators_without_work_show_zeros_and_no_documents_say_so(client_for, project):
    body = client_for("manager").get(reverse("progress", kwargs={"slug": project.slug}))
    body = body.content.decode()
    assert "<th scope=\"row\">annotator</th>\n        <td>0</td><td>0</td><td>0</td>" in body
    assert "Nothing yet." in body
