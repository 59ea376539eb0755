"""The command-line faces of the Foundation: each through call_command, and the
one-line, non-zero exit on bad input through a real process."""

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from annotator.models import AnnotationSet, Document, Project, Relation, Span, User

ROOT = Path(__file__).resolve().parents[2]

BRIEF = (
    "Congestion pricing works.\r\n\r\n"
    "1. Traffic fell 👩‍💻 by a fifth (Reuters, 3 May 2024).\r\n"
    "2. The money pays for buses 𝔘.\r\n"
)


def run(*args, **kwargs) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO(), **kwargs)
    return out.getvalue()


def _jsonl_doc(doc_id: str, text: str, spans, relations=(), gold=None, annotator="alice"):
    return json.dumps({
        "id": doc_id, "title": doc_id, "text": text, "meta": {"source": "test"},
        "annotations": [{"annotator": annotator, "status": "submitted",
                         "spans": spans, "relations": list(relations)}],
        "gold": gold,
    }, ensure_ascii=False)


@pytest.fixture
def slug(db):
    run("create_project", "briefs", "--name", "Briefs")
    return "briefs"


def test_create_project_with_the_argument_preset(slug):
    project = Project.objects.get(slug=slug)
    assert sorted(project.span_labels.values_list("hotkey", flat=True)) == ["c", "e", "m", "r"]


def test_create_project_refuses_an_existing_slug(slug):
    with pytest.raises(CommandError, match="already exists"):
        run("create_project", slug)


def test_import_text_normalises_line_ends_and_keeps_the_original(slug, tmp_path):
    path = tmp_path / "brief.txt"
    path.write_bytes(BRIEF.encode())
    out = run("import_documents", slug, str(path))
    assert "imported 1 document(s)" in out
    doc = Document.objects.get()
    assert "\r" not in doc.text and "👩‍💻" in doc.text
    assert bytes(doc.original) == BRIEF.encode()


def test_import_reports_and_skips_a_document_already_in_the_project(slug, tmp_path):
    path = tmp_path / "brief.txt"
    path.write_bytes(BRIEF.encode())
    run("import_documents", slug, str(path))
    out = run("import_documents", slug, str(path))
    assert "skipped" in out and "already in the project" in out
    assert Document.objects.count() == 1


def test_import_cleans_web_page_residue_unless_told_not_to(slug, tmp_path):
    nav = "\n".join(["PR Short Notes", "PR Comments", "Analysis"] * 100)
    text = f"{BRIEF.replace(chr(13), '')}\n{nav}\n"
    (tmp_path / "a.txt").write_text(text)
    out = run("import_documents", slug, str(tmp_path / "a.txt"))
    assert "a.txt: removed 300 line(s)" in out
    cleaned = Document.objects.get()
    assert "PR Comments" not in cleaned.text
    assert "Traffic fell" in cleaned.text
    assert cleaned.cleaning["removed_lines"] >= 300
    assert bytes(cleaned.original).decode() == text

    (tmp_path / "b.txt").write_text(text + "kept as it is\n")
    run("import_documents", slug, str(tmp_path / "b.txt"), "--no-clean")
    raw = Document.objects.get(external_id="b")
    assert raw.text.count("PR Comments") == 100


def test_brat_pair_imports_as_gold_with_spans_and_relations(slug, tmp_path):
    text = "Sanctions work. Exports fell by 20 percent.\n"
    (tmp_path / "d1.txt").write_text(text)
    (tmp_path / "d1.ann").write_text(
        "T1\tClaim 0 15\tSanctions work.\n"
        "T2\tEvidence 16 43\tExports fell by 20 percent.\n"
        "R1\tevidence_for Arg1:T2 Arg2:T1\n"
    )
    run("import_documents", slug, str(tmp_path))
    gold = AnnotationSet.objects.get(is_gold=True)
    assert [(s.start, s.end, s.label.name) for s in gold.spans.order_by("start")] == [
        (0, 15, "Claim"), (16, 43, "Evidence")]
    assert gold.relations.get().type.name == "evidence_for"


def test_brat_span_outside_the_text_is_refused_and_nothing_changes(slug, tmp_path):
    (tmp_path / "ok.txt").write_text("A fine brief.\n")
    (tmp_path / "zz.txt").write_text("Short.\n")
    (tmp_path / "zz.ann").write_text("T1\tClaim 0 6\tShort.\nT2\tClaim 3 99\tort.\n")
    with pytest.raises(CommandError) as excinfo:
        run("import_documents", slug, str(tmp_path))
    message = str(excinfo.value)
    assert "zz.ann" in message and ":2" in message and "T2" in message
    assert "\n" not in message
    assert Document.objects.count() == 0 and Span.objects.count() == 0


def test_unknown_label_is_refused_unless_added(slug, tmp_path):
    (tmp_path / "p.txt").write_text("We should act. Because.\n")
    (tmp_path / "p.ann").write_text("T1\tPremise 15 23\tBecause.\n")
    with pytest.raises(CommandError, match="Premise"):
        run("import_documents", slug, str(tmp_path))
    assert Document.objects.count() == 0
    run("import_documents", slug, str(tmp_path), "--add-labels")
    assert Project.objects.get(slug=slug).span_labels.filter(name="Premise").exists()


def test_add_members_by_name_and_from_csv(slug, tmp_path):
    User.objects.create_user("ann", password="x-Unused-1")
    run("add_members", slug, "ann", "--role", "curator")
    path = tmp_path / "class.csv"
    path.write_text("username,email,password\nstu1,s1@example.org,Correct-Horse-9\n")
    out = run("add_members", slug, "--role", "annotator", "--csv", str(path))
    assert "created users: stu1" in out
    roles = dict(Project.objects.get(slug=slug).memberships.values_list("user__username", "role"))
    assert roles == {"ann": "curator", "stu1": "annotator"}
    with pytest.raises(CommandError, match="no such user: ghost"):
        run("add_members", slug, "ghost", "--role", "viewer")


def test_assign_writes_the_table_as_csv(slug, tmp_path):
    for name in ("s1", "s2", "s3"):
        User.objects.create_user(name)
    run("add_members", slug, "s1", "s2", "s3", "--role", "annotator")
    for i in range(4):
        (tmp_path / f"d{i}.txt").write_text(f"Brief number {i} argues a point.\n")
    run("import_documents", slug, str(tmp_path))
    out_file = tmp_path / "assignments.csv"
    run("assign", slug, "--per-document", "2", "--seed", "7", "--due", "2026-12-15",
        "-o", str(out_file))
    rows = list(csv.DictReader(out_file.open()))
    assert len(rows) == 8
    assert set(rows[0]) == {"document", "annotator", "status", "due"}
    assert {r["due"] for r in rows} == {"2026-12-15"}
    with pytest.raises(CommandError, match="not a date"):
        run("assign", slug, "--per-document", "2", "--due", "next week")


def test_jsonl_round_trip_through_an_empty_project_is_lossless(slug, tmp_path):
    text = "Title line\r\nWe must act 😀 now.\r\nEvidence: 𝔘 rose 5%.\n"
    canonical = text.replace("\r\n", "\n")
    claim = canonical.index("We must act")
    ev = canonical.index("Evidence")
    spans_alice = [
        {"id": "T1", "start": claim, "end": claim + len("We must act 😀 now."), "label": "Claim",
         "text": "We must act 😀 now.", "attributes": {"stance": "for"}},
        {"id": "T2", "start": claim, "end": claim + len("We must act"), "label": "Reason",
         "text": "We must act"},  # nested in T1
        {"id": "T3", "start": ev, "end": len(canonical) - 1, "label": "Evidence",
         "text": canonical[ev:-1]},
    ]
    # Offsets in the file count the CRLF text; the importer moves them.
    crlf_spans = []
    for span in spans_alice:
        shift = text[: text.index(span["text"])].count("\r")
        crlf_spans.append({**span, "start": span["start"] + shift, "end": span["end"] + shift})
    relations = [{"id": "R1", "source": "T3", "target": "T1", "type": "evidence_for"},
                 {"id": "R2", "source": "T2", "target": "T1", "type": "supports"}]
    gold = {"spans": [{"id": "G1", "start": 0, "end": 10, "label": "MajorClaim",
                       "text": "Title line"}], "relations": []}
    source = tmp_path / "in.jsonl"
    source.write_text(
        _jsonl_doc("doc-1", text, crlf_spans, relations, gold) + "\n"
        + _jsonl_doc("doc-2", "Another brief, overlapping spans.", [
            {"id": "A", "start": 0, "end": 15, "label": "Claim"},
            {"id": "B", "start": 9, "end": 33, "label": "Evidence"}], annotator="bob") + "\n",
        encoding="utf-8",
    )
    run("import_documents", slug, str(source))
    first = tmp_path / "first.jsonl"
    run("export", slug, "--format", "jsonl", "-o", str(first))

    run("create_project", "empty")
    run("import_documents", "empty", str(first))
    second = tmp_path / "second.jsonl"
    run("export", "empty", "--format", "jsonl", "-o", str(second))

    assert first.read_text(encoding="utf-8") == second.read_text(encoding="utf-8")
    docs = [json.loads(line) for line in first.read_text(encoding="utf-8").splitlines()]
    assert docs[0]["text"] == canonical
    exported = {s["id"]: s for s in docs[0]["annotations"][0]["spans"]}
    for span in spans_alice:
        assert canonical[exported[span["id"]]["start"]:exported[span["id"]]["end"]] \
            == span["text"]
    assert exported["T1"]["attributes"] == {"stance": "for"}
    assert docs[0]["gold"]["spans"][0]["label"] == "MajorClaim"
    assert {a["annotator"] for d in docs for a in d["annotations"]} == {"alice", "bob"}
    assert Relation.objects.filter(annotation_set__document__project__slug="empty").count() == 2


def test_export_refuses_an_unknown_project(db, tmp_path):
    with pytest.raises(CommandError, match="no project with slug 'nope'"):
        run("export", "nope", "--format", "jsonl", "-o", str(tmp_path / "x.jsonl"))


def test_demo_creates_an_instructor_three_students_and_two_annotated_sets(
    db, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        out = run("demo", "--password", "Demo-Pass-123")
    assert "instructor" in out and "Demo-Pass-123" in out
    project = Project.objects.get(slug="demo")
    roles = dict(project.memberships.values_list("user__username", "role"))
    assert roles == {"instructor": "manager", "alice": "annotator", "bob": "annotator",
                     "carol": "annotator"}
    sets = AnnotationSet.objects.filter(document__project=project, is_gold=False)
    annotated = {s.annotator.username for s in sets if s.spans.exists()}
    assert annotated == {"alice", "bob"}
    assert sets.count() == 3  # carol is assigned too
    text = project.documents.get().text
    assert "Five Reasons" in text and "(Northport Herald" in text
    assert User.objects.get(username="alice").check_password("Demo-Pass-123")
    run_ = project.agreement_runs.get()
    assert run_.status == "done"  # in-process here; on the worker with a broker
    assert run_.report["annotators"] == ["alice", "bob"]


def _manage(env, *args):
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_bad_input_exits_non_zero_with_one_line_and_no_traceback(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(WARRANT_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="config.settings.local")
    assert _manage(env, "migrate", "-v0").returncode == 0
    assert _manage(env, "create_project", "cli").returncode == 0
    (tmp_path / "bad.txt").write_text("Short.\n")
    (tmp_path / "bad.ann").write_text("T1\tClaim 0 99\tShort.\n")
    result = _manage(env, "import_documents", "cli", str(tmp_path / "bad.txt"),
                     str(tmp_path / "bad.ann"))
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "bad.ann" in lines[0] and "Traceback" not in result.stderr
    listing = _manage(env, "shell", "-c",
                      "from annotator.models import Document; print(Document.objects.count())")
    assert listing.stdout.strip().splitlines()[-1] == "0"


def test_text_the_database_cannot_store_is_refused_with_the_file_named(slug, tmp_path):
    (tmp_path / "nul.txt").write_bytes(b"A brief with a NUL\x00 byte in it.\n")
    with pytest.raises(CommandError, match=r"nul.txt: .*NUL"):
        run("import_documents", slug, str(tmp_path / "nul.txt"))
    (tmp_path / "pair.jsonl").write_text(
        '{"id": "d", "text": "Half a pair \\ud83d here.", "annotations": []}\n'
    )
    with pytest.raises(CommandError, match="lone surrogate"):
        run("import_documents", slug, str(tmp_path / "pair.jsonl"))
    assert Document.objects.count() == 0


@pytest.mark.parametrize("relations, message", [
    ("R1\tattacks Arg1:T1 Arg2:T1\n", "links span T1 to itself"),
    ("R1\tsupports Arg1:T2 Arg2:T1\nR2\tsupports Arg1:T2 Arg2:T1\n", "R2 repeats supports"),
])
def test_self_and_repeated_relations_are_refused_in_one_line(slug, tmp_path, relations, message):
    (tmp_path / "r.txt").write_text("We must act. Prices rose.\n")
    (tmp_path / "r.ann").write_text(
        "T1\tClaim 0 12\tWe must act.\nT2\tReason 13 25\tPrices rose.\n" + relations
    )
    with pytest.raises(CommandError, match=message) as excinfo:
        run("import_documents", slug, str(tmp_path))
    assert "r.ann" in str(excinfo.value) or "r.txt" in str(excinfo.value)
    assert Document.objects.count() == 0


def test_annotations_for_an_unknown_annotator_are_refused(slug, tmp_path):
    (tmp_path / "d.txt").write_text("We must act.\n")
    (tmp_path / "d.ann").write_text("T1\tClaim 0 12\tWe must act.\n")
    with pytest.raises(CommandError, match="no such user: nobody"):
        run("import_documents", slug, str(tmp_path), "--annotator", "nobody")
    assert not User.objects.filter(username="nobody").exists()


def test_options_may_come_before_the_usernames_as_the_readme_writes_them(slug):
    User.objects.create_user("ann")
    out = run("add_members", slug, "--role", "viewer", "ann")
    assert "added as viewer: ann" in out


def test_assign_writes_nothing_when_its_output_file_cannot_be_written(slug, tmp_path):
    User.objects.create_user("s1")
    run("add_members", slug, "--role", "annotator", "s1")
    (tmp_path / "d.txt").write_text("A brief.\n")
    run("import_documents", slug, str(tmp_path / "d.txt"))
    with pytest.raises(CommandError, match="No such file"):
        run("assign", slug, "--per-document", "1", "-o", str(tmp_path / "missing" / "a.csv"))
    assert AnnotationSet.objects.count() == 0
