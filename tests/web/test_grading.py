"""Grades page, CSV download, release toggle, and the student's feedback pages."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.urls import reverse

from annotator.models import AnnotationSet
from tests.agreement_helpers import TEXT, annotate
from tests.factories import DocumentFactory

CLAIM = (61, 80, "MajorClaim")
REASON = (0, 14, "Reason")


@pytest.fixture
def graded(project, members):
    document = DocumentFactory(project=project, text=TEXT, title="Keep sanctions")
    gold = annotate(project, document, "gold-maker", [CLAIM, REASON, (16, 36, "Evidence")])
    AnnotationSet.objects.filter(pk=gold.pk).update(annotator=None, is_gold=True, gold_final=True)
    gold.annotator.memberships.all().delete()
    annotate(project, document, "annotator", [CLAIM, (0, 9, "Reason"), (48, 59, "Claim")])
    return document


def test_grades_page_and_csv(client_for, project, graded):
    client = client_for("manager")
    body = client.get(reverse("grades", kwargs={"slug": project.slug})).content.decode()
    assert "1 of 1 document" in body and "<th scope=\"row\">annotator</th>" in body
    response = client.get(reverse("grades-csv", kwargs={"slug": project.slug}))
    assert response["Content-Disposition"].endswith('-grades.csv"')
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert rows == [{
        "student": "annotator", "span_f1_exact": "0.3333", "span_f1_overlap": "0.6667",
        "relation_f1": "", "missed": "1", "extra": "1", "boundary_off": "1", "exact": "1",
        "documents": "1",
    }]


def test_release_toggle(client_for, project, graded):
    client = client_for("manager")
    client.post(reverse("grades-release", kwargs={"slug": project.slug}), {"released": "1"})
    project.refresh_from_db()
    assert project.grades_released
    body = client.get(reverse("grades", kwargs={"slug": project.slug})).content.decode()
    assert "Hide grades from students" in body


def test_a_student_sees_nothing_before_release(client_for, project, graded):
    client = client_for("annotator")
    body = client.get(reverse("feedback", kwargs={"slug": project.slug})).content.decode()
    assert 'id="not-released"' in body and "grade-figures" not in body
    doc = reverse("feedback-document", kwargs={"slug": project.slug, "document_id": graded.pk})
    assert client.get(doc).status_code == 403


def test_a_student_sees_their_colour_coded_feedback_once_released(client_for, project, graded):
    project.grades_released = True
    project.save()
    client = client_for("annotator")
    body = client.get(reverse("feedback", kwargs={"slug": project.slug})).content.decode()
    assert "Span F1, exact</dt><dd>0.333" in body and "Keep sanctions" in body
    doc = reverse("feedback-document", kwargs={"slug": project.slug, "document_id": graded.pk})
    body = client.get(doc).content.decode()
    assert body.count('data-outcome="exact"') == 2  # the legend count and the row
    for outcome in ("exact", "boundary_off", "extra", "missed"):
        assert f'<tr class="outcome-{outcome}"' in body
    assert 'data-t="MajorClaim ✓"' in body
    assert 'data-t="Evidence \u2212"' in body  # a minus sign: missed
    assert "#047857" in body and "#6d28d9" in body  # colours of right and missed
    assert 'the gold marks “<bdi class="quote">Sanctions work</bdi>”' in body  # where it should end
    # Someone else's feedback is not theirs to read.
    assert client.get(doc + "?student=manager").status_code == 403


def test_a_manager_previews_a_students_feedback(client_for, project, graded):
    client = client_for("manager")
    page = client.get(reverse("feedback", kwargs={"slug": project.slug}) + "?student=annotator")
    assert "Feedback for annotator" in page.content.decode()
    doc = reverse("feedback-document", kwargs={"slug": project.slug, "document_id": graded.pk})
    assert client.get(doc + "?student=annotator").status_code == 200
    assert client.get(doc + "?student=nobody").status_code == 404
    assert client.get(doc)["Location"] == reverse("feedback", kwargs={"slug": project.slug})


def test_no_feedback_without_a_final_gold(client_for, project, graded):
    AnnotationSet.objects.filter(document=graded, is_gold=True).update(gold_final=False)
    project.grades_released = True
    project.save()
    doc = reverse("feedback-document", kwargs={"slug": project.slug, "document_id": graded.pk})
    assert client_for("annotator").get(doc).status_code == 404


def test_feedback_relations_name_both_spans_by_their_text(client_for, project, members):
    """A relation line quotes its two spans ("“Sanctions work” —supports→ “We should…”"),
    not only their labels, and a long span is cut at a word with "…" (issue 14)."""
    long_claim = "We should keep them in force until the government reports real change."
    document = DocumentFactory(project=project, text=f"{TEXT} {long_claim}", title="Keep")
    claim = (len(TEXT) + 1, len(TEXT) + 1 + len(long_claim), "MajorClaim")
    gold = annotate(project, document, "gold-maker", [claim, REASON, (16, 36, "Evidence")],
                    [(1, 0, "supports"), (2, 0, "supports")])
    AnnotationSet.objects.filter(pk=gold.pk).update(annotator=None, is_gold=True, gold_final=True)
    gold.annotator.memberships.all().delete()
    annotate(project, document, "annotator", [claim, REASON, (48, 59, "Claim")],
             [(1, 0, "supports"), (2, 0, "supports")])
    client = client_for("manager")
    url = reverse("feedback-document", kwargs={"slug": project.slug, "document_id": document.pk})
    body = client.get(url + "?student=annotator").content.decode()
    items = body.split('id="feedback-relations"')[1].split("</ul>")[0]
    lines = [" ".join(li.split()) for li in items.split("<li")[1:]]
    plain = [re.sub(r"<[^>]+>", "", li.split(">", 1)[1]) for li in lines]
    quoted = "“We should keep them in force until the…” MajorClaim"
    assert plain == [
        f"matched: “Sanctions work” Reason —supports→ {quoted}",
        f"extra: “Prices rose” Claim —supports→ {quoted}",
        f"missed: “Exports fell sharply” Evidence —supports→ {quoted}",
    ]
