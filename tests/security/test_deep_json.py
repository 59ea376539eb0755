"""Deeply nested JSON is refused in one line, never a 500 or a RecursionError
(issue 11, point 4), and nothing is written.

Every way JSON comes in is tried: an API body, a line of a JSONL import (web
and command line), a CDCP annotation file, a schema file, a backup. Two depths:
far beyond Python's recursion limit (the parser itself fails), and just under
it (the parser succeeds; what handles the value next must not fail).
"""

from __future__ import annotations

import gzip
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from rest_framework.test import APIClient

from annotator.models import Document, Project, Span
from tests.factories import AnnotationSetFactory

FAR = 100_000  # beyond any recursion limit
NEAR = 900  # json.loads manages it under the default limit of 1000


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def deep_object(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


def one_line(message: str) -> None:
    assert message and "\n" not in message.strip()
    assert "Traceback" not in message and "RecursionError" not in message


@pytest.mark.parametrize("depth", [FAR, NEAR])
def test_an_api_body_nested_too_deep_is_a_400_with_one_line(members, document, depth):
    own = AnnotationSetFactory(document=document, annotator=members["annotator"])
    client = APIClient()
    client.force_authenticate(members["annotator"])
    body = ('{"label": "Claim", "start": 0, "end": 5, "version": 0, "attributes": '
            + deep_object(depth) + "}")
    response = client.post(f"/api/annotation-sets/{own.pk}/spans/", body,
                           content_type="application/json")
    assert response.status_code == 400, response.content[:200]
    message = response.json()["detail"]
    one_line(message)
    assert "deep" in message
    assert Span.objects.count() == 0


def _jsonl_line(depth: int) -> str:
    return ('{"id": "b1", "text": "Sanctions work.", "meta": ' + deep_object(depth) + "}\n")


@pytest.mark.parametrize("depth", [FAR, NEAR])
def test_a_jsonl_import_nested_too_deep_is_refused_in_one_line(project, tmp_path, depth):
    path = tmp_path / "deep.jsonl"
    path.write_text('{"id": "b0", "text": "A fine brief."}\n' + _jsonl_line(depth))
    with pytest.raises(CommandError) as refused:
        call_command("import_documents", project.slug, str(path), stdout=io.StringIO())
    one_line(str(refused.value))
    assert "deep.jsonl" in str(refused.value) and "deep" in str(refused.value)
    assert Document.objects.count() == 0


@pytest.mark.parametrize("depth", [FAR, NEAR])
def test_a_jsonl_upload_nested_too_deep_is_a_400_page_with_one_line(client_for, project,
                                                                   depth):
    upload = SimpleUploadedFile("deep.jsonl", _jsonl_line(depth).encode())
    response = client_for("manager").post(
        reverse("document-import", kwargs={"slug": project.slug}),
        {"files": [upload], "annotator": "", "clean": "on"},
    )
    assert response.status_code == 400
    one_line(response.context["error"])
    assert "deep" in response.context["error"]
    assert Document.objects.count() == 0


def test_a_cdcp_annotation_file_nested_too_deep_is_refused(project, tmp_path):
    (tmp_path / "00001.txt").write_text("Sanctions work.")
    (tmp_path / "00001.ann.json").write_text(deep_object(FAR))
    with pytest.raises(CommandError) as refused:
        call_command("import_documents", project.slug, str(tmp_path / "00001.txt"),
                     str(tmp_path / "00001.ann.json"), stdout=io.StringIO())
    one_line(str(refused.value))
    assert "00001.ann.json" in str(refused.value)
    assert Document.objects.count() == 0


@pytest.mark.parametrize("depth", [FAR, NEAR])
def test_a_schema_file_nested_too_deep_is_refused_in_one_line(db, tmp_path, depth):
    path = tmp_path / "schema.json"
    path.write_text('{"labels": [{"name": "Claim", "description": ' + deep_object(depth)
                    + "}]}")
    with pytest.raises(CommandError) as refused:
        call_command("create_project", "deep", "--schema", str(path), stdout=io.StringIO())
    one_line(str(refused.value))
    assert "schema.json" in str(refused.value)
    assert not Project.objects.filter(slug="deep").exists()


@pytest.mark.parametrize("depth", [FAR, NEAR])
def test_a_backup_nested_too_deep_is_refused_in_one_line(db, tmp_path, depth):
    header = {"format": "warrant-backup/1"}
    path = tmp_path / "deep.warrant.gz"
    path.write_bytes(gzip.compress((json.dumps(header) + "\n" + deep_object(depth)
                                    + "\n").encode()))
    with pytest.raises(CommandError) as refused:
        call_command("restore", str(path), stdout=io.StringIO())
    one_line(str(refused.value))
    assert Project.objects.count() == 0


@pytest.mark.parametrize("depth", [FAR, NEAR])
@pytest.mark.parametrize(
    ("name", "content"),
    [
        # Label Studio's JSON export: a list of tasks.
        ("tasks.json", lambda d: '[{"id": 1, "data": {"text": "Sanctions work."}, "meta": '
                                 + deep_object(d) + "}]"),
        # doccano's JSONL: the first line decides the format, the second is deep.
        ("doccano.jsonl", lambda d: '{"text": "Sanctions work.", "label": []}\n'
                                    '{"text": "Prices rose.", "label": [], "x": '
                                    + deep_object(d) + "}\n"),
        # A first line too deep to tell the format by.
        ("first.jsonl", lambda d: deep_object(d) + "\n"),
    ],
)
def test_foreign_json_nested_too_deep_is_refused_in_one_line(project, tmp_path, name, content,
                                                             depth):
    path = tmp_path / name
    path.write_text(content(depth))
    with pytest.raises(CommandError) as refused:
        call_command("import_documents", project.slug, str(path), stdout=io.StringIO())
    one_line(str(refused.value))
    assert name in str(refused.value) and "deep" in str(refused.value)
    assert Document.objects.count() == 0
