"""``manage.py import_documents`` on a big JSONL (issue 12): it runs in the command's
process, shows its progress on stderr while the report goes to stdout, and stays one
transaction: a bad line near the end is named and nothing is written."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from annotator.management.commands.import_documents import PROGRESS_MIN_DOCUMENTS
from annotator.models import AnnotationSet, Document, Span, User

DOCUMENTS = PROGRESS_MIN_DOCUMENTS + 200


@pytest.fixture
def slug(db):
    call_command("create_project", "briefs", stdout=io.StringIO())
    return "briefs"


def _briefs(path, n: int, *, bad_line: int | None = None):
    with path.open("w") as out:
        for i in range(n):
            span = {"id": "T1", "start": 0, "end": 5, "label": "Claim"}
            if i + 1 == bad_line:
                span["label"] = "Rebuttal"  # refused only when its document is written
            out.write(json.dumps({
                "id": f"b{i}", "text": f"Brief {i}: the levy cut traffic by {i} percent.",
                "annotations": [{"annotator": f"student{i % 7}", "status": "submitted",
                                 "spans": [span], "relations": []}]}) + "\n")
    return path


def _import(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("import_documents", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_a_big_import_reports_progress_on_stderr_and_its_report_on_stdout(slug, tmp_path):
    out, err = _import(slug, str(_briefs(tmp_path / "briefs.jsonl", DOCUMENTS)))
    lines = err.splitlines()
    assert lines[0].startswith(f"read {DOCUMENTS:,} documents in ")
    assert "one transaction" in lines[0]
    assert lines[-1] == f"imported {DOCUMENTS:,} of {DOCUMENTS:,} documents (100%)"
    assert out.splitlines()[0] == (f"imported {DOCUMENTS} document(s), {DOCUMENTS} span(s), "
                                   "0 relation(s)")
    assert Document.objects.filter(project__slug=slug).count() == DOCUMENTS
    assert Span.objects.filter(annotation_set__document__project__slug=slug).count() \
        == DOCUMENTS


def test_quiet_and_small_imports_print_no_progress(slug, tmp_path):
    _, err = _import(slug, str(_briefs(tmp_path / "few.jsonl", 3)))
    assert err == ""
    _, err = _import(slug, str(_briefs(tmp_path / "many.jsonl", DOCUMENTS)), "--quiet")
    assert err == ""


def test_a_bad_line_near_the_end_stops_the_import_naming_it_and_nothing_is_written(
    slug, tmp_path
):
    path = _briefs(tmp_path / "briefs.jsonl", DOCUMENTS, bad_line=DOCUMENTS - 1)
    with pytest.raises(CommandError) as refused:
        _import(slug, str(path))
    message = str(refused.value)
    assert message.startswith(f"{path}:{DOCUMENTS - 1}: label 'Rebuttal' is not in")
    assert "\n" not in message
    assert not Document.objects.filter(project__slug=slug).exists()
    assert not AnnotationSet.objects.exists()
    assert not User.objects.filter(username__startswith="student").exists()


def test_the_same_text_twice_in_one_file_gives_one_document_with_both_sets(slug, tmp_path):
    # The second line's document waits for no insert: its text is the first one's.
    path = tmp_path / "twice.jsonl"
    text = "The levy cut traffic by a fifth."
    path.write_text("".join(
        json.dumps({"id": f"b{k}", "text": text,
                    "annotations": [{"annotator": who, "status": "submitted",
                                     "spans": [{"id": "T1", "start": 0, "end": 9,
                                                "label": "Claim"}], "relations": []}]}) + "\n"
        for k, who in enumerate(["alice", "bob"])))
    out, _ = _import(slug, str(path))
    document = Document.objects.get(project__slug=slug)
    assert sorted(document.annotation_sets.values_list("annotator__username", flat=True)) \
        == ["alice", "bob"]
    assert f"added to the existing document of {path} (b1): bob" in out
