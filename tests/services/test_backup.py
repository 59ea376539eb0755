"""Backup and restore: a project comes back into an empty instance with nothing lost.

"Nothing lost" is checked by comparing a canonical dump of the project before
and after: every row of every model that belongs to the project, every
concrete field, with database ids replaced by natural keys (written here
independently of the backup code, from the models' own field lists).
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import re
import tracemalloc

import pytest
from django.contrib.auth import get_user_model
from django.db.models import Q

from annotator.formats.records import DocumentRecord
from annotator.formats.schema import parse_schema
from annotator.models import (
    AgreementRun,
    AnnotationAction,
    AnnotationSet,
    Document,
    ExportJob,
    Membership,
    Project,
    Relation,
    RelationType,
    SetReopening,
    Span,
    SpanLabel,
)
from annotator.selectors.agreement import agreement_data_version
from annotator.services import annotations as edits
from annotator.services import backup as backup_module
from annotator.services.backup import (
    INTERRUPTED,
    project_backup,
    project_restore,
    project_restore_report,
)
from annotator.services.curation import gold_finalize, gold_premerge
from annotator.services.demo import demo_create
from annotator.services.errors import WarrantError
from annotator.services.grading import annotation_set_reopen_for_student
from annotator.services.imports import documents_import
from annotator.services.members import members_add
from annotator.services.projects import schema_apply

User = get_user_model()
PASSWORD = "Old-Pass-123"
# Non-BMP characters (a ZWJ emoji sequence, a mathematical Fraktur letter) and CRLF upload.
TEXT = "Sanctions 👩\u200d💻 work.\nThe 𝔘-shaped recovery failed (IMF).\nSo lift them now.\n"

MODELS = [Project, SpanLabel, RelationType, Membership, Document, AnnotationSet, Span,
          Relation, AnnotationAction, AgreementRun, ExportJob, User, SetReopening]


# --------------------------------------------------------------------------- the rich project


def _phrase(text: str, phrase: str) -> tuple[int, int]:
    start = text.index(phrase)
    return start, start + len(phrase)


def build_rich_project(capture) -> Project:
    """The demo project, plus everything a backup must carry (see the module docstring)."""
    with capture(execute=True):
        project = demo_create(password=PASSWORD).project
    cora = User.objects.create_user("cora", "cora@example.org", PASSWORD,
                                    first_name="Cora", last_name="Curé")
    User.objects.create_user("victor", "", PASSWORD, is_active=False)
    members_add(project=project, role="curator", usernames=["cora"])
    members_add(project=project, role="viewer", usernames=["victor"])
    Project.objects.filter(pk=project.pk).update(
        description="Briefs on *congestion*.", blind=False, allow_reopen=False,
        default_due=dt.date(2031, 5, 17), join_code="abc23xyz",
    )
    SpanLabel.objects.filter(project=project, name="Claim").update(description="A claim 𝔘.")
    schema_apply(project=project, schema=parse_schema({"span_labels": [
        {"name": "MajorClaim", "attributes": [
            {"name": "stance", "type": "choice", "values": ["for", "against"]}]},
        {"name": "Evidence", "attributes": [
            {"name": "n", "type": "text"}, {"name": "ok", "type": "boolean", "hotkey": "o"}]},
    ]}))

    documents_import(project=project, records=[DocumentRecord(
        external_id="sanctions-👩\u200d💻", title="Sanctions 𝔘", text=TEXT,
        meta={"year": 2024, "tags": ["a", "𝔘"], "nested": {"x": None}},
        original=TEXT.replace("\n", "\r\n").encode("utf-8"), original_name="s.txt",
        source_format="text",
    )])
    document = project.documents.get(external_id="sanctions-👩\u200d💻")
    Document.objects.filter(pk=document.pk).update(
        position=7, cleaning={"removed": ["nav"], "chars": 12}
    )

    # Carol's set on the new document: overlapping and nested spans, attributes,
    # notes, relations, an update, deletions and an undo in the log.
    carol = User.objects.get(username="carol")
    labels = {x.name: x for x in project.span_labels.all()}
    types = {x.name: x for x in project.relation_types.all()}
    work = AnnotationSet.objects.create(document=document, annotator=carol,
                                        due=dt.date(2031, 6, 1))

    def span(phrase, label, **kw):
        start, end = _phrase(TEXT, phrase)
        return edits.span_create(annotation_set=work, label=labels[label], start=start, end=end,
                                 expected_version=work.version, user=carol, snap=False, **kw)

    major = span("So lift them now.", "MajorClaim", attributes={"stance": "for"})
    reason = span("The 𝔘-shaped recovery failed (IMF).", "Reason", note="nested 👩\u200d💻")
    evidence = span("recovery failed (IMF)", "Evidence", attributes={"n": "3", "ok": True})
    claim = span("Sanctions 👩\u200d💻 work.\nThe 𝔘", "Claim")  # overlaps the reason
    def relate(source, target, rtype):
        return edits.relation_create(annotation_set=work, source=source, target=target,
                                     type=types[rtype], expected_version=work.version, user=carol)

    relate(reason, major, "supports")
    relate(evidence, reason, "evidence_for")
    attack = relate(claim, major, "attacks")
    edits.span_update(span=claim, label=labels["Claim"], note="check this",
                      attributes={"stance": "against"}, expected_version=work.version, user=carol)
    edits.relation_delete(relation=attack, expected_version=work.version, user=carol)
    gone = span("lift them", "Claim")
    relate(gone, major, "attacks")
    edits.span_delete(span=gone, expected_version=work.version, user=carol)  # and its relation
    extra = span("work.", "Reason")
    edits.annotation_set_undo(annotation_set=work, expected_version=work.version, user=carol)
    assert not Span.objects.filter(pk=extra.pk).exists()
    # Many spans in one action, undone, redone and undone again (issue 13).
    edits.spans_create(annotation_set=work, label=labels["Evidence"],
                       ranges=[list(_phrase(TEXT, "Sanctions")), list(_phrase(TEXT, "IMF"))],
                       expected_version=work.version, user=carol)
    for step in (edits.annotation_set_undo, edits.annotation_set_redo, edits.annotation_set_undo):
        step(annotation_set=work, expected_version=work.version, user=carol)
    link = relate(reason, claim, "supports")
    edits.annotation_set_undo(annotation_set=work, expected_version=work.version, user=carol)
    assert not Relation.objects.filter(pk=link.pk).exists()
    Span.objects.filter(pk=major.pk).update(external_id="T77")

    # A gold standard marked final on the demo document.
    brief = project.documents.get(external_id="congestion-pricing")
    gold_premerge(document=brief, min_votes=2, expected_version=0, user=cora)
    gold = AnnotationSet.objects.get(document=brief, is_gold=True)
    gold_finalize(document=brief, expected_version=gold.version)

    # Agreement runs: the demo's (done, with report and intervals, made stale by
    # carol's submission), a failed one, and a fresh one that covers the data as it is.
    carols = AnnotationSet.objects.get(document=brief, annotator=carol)
    edits.annotation_set_submit(annotation_set=carols, expected_version=carols.version)
    # Grades released; the instructor reopened carol's graded set once, and a manager
    # whose account is gone did so before (issue 11: the grades page lists both).
    Project.objects.filter(pk=project.pk).update(grades_released=True)
    SetReopening.objects.create(annotation_set=carols, reopened_by=None,
                                reopened_at=dt.datetime(2030, 3, 1, 9, 0, tzinfo=dt.UTC))
    annotation_set_reopen_for_student(annotation_set=carols,
                                      by=User.objects.get(username="instructor"))
    edits.annotation_set_submit(annotation_set=carols, expected_version=carols.version)
    AgreementRun.objects.create(
        project=project, status="failed", error="worker died\ntwice", attempts=3,
        parameters={"unit": "char", "documents": ["congestion-pricing"], "annotators": None},
        timings={"load": 0.5}, progress=0.25,
    )
    with capture(execute=True):
        from annotator.services.agreement import agreement_run_request

        agreement_run_request(project=project, requested_by=cora, unit="char")
    AnnotationSet.objects.filter(document=document, annotator=carol).update(
        started_at=dt.datetime(2030, 1, 2, 3, 4, 5, 678901, tzinfo=dt.UTC)
    )
    ExportJob.objects.create(project=project, format="jsonl")  # left out: its file is temporary
    project.refresh_from_db()
    return project


# --------------------------------------------------------------------------- canonical dump


def _plain(obj, skip=()) -> dict:
    out = {}
    for f in obj._meta.concrete_fields:
        if f.primary_key or f.is_relation or f.name in skip:
            continue
        value = getattr(obj, f.attname)
        out[f.name] = bytes(value) if isinstance(value, memoryview) else value
    return out


def _payload(kind, payload, live_spans, live_relations, gone, labels, types):
    """An undo payload with ids replaced by what they point at."""
    def span(pk):
        if pk in live_spans:
            return ("span", live_spans[pk])
        return ("gone span", gone.setdefault(("s", pk), len(gone)))

    def relation(pk):
        if pk in live_relations:
            return ("relation", live_relations[pk])
        return ("gone relation", gone.setdefault(("r", pk), len(gone)))

    def span_row(row):
        return {**row, "id": span(row["id"]), "label": labels.get(row["label"])}

    def relation_row(row):
        return {**row, "id": relation(row["id"]), "source": span(row["source"]),
                "target": span(row["target"]), "type": types.get(row["type"])}

    p = dict(payload)
    if kind in ("span_create", "spans_create"):
        if kind == "span_create":
            p["span"] = span(p["span"])
        else:
            p["spans"] = [span(pk) for pk in p["spans"]]
        if "rows" in p:  # what an undo removed, for a redo
            p["rows"] = [span_row(r) for r in p["rows"]]
            p["relations"] = [relation_row(r) for r in p["relations"]]
    elif kind == "span_update":
        p["span"] = span(p["span"])
        for side in ("old", "new"):
            if "label" in p[side]:
                p[side] = {**p[side], "label": labels.get(p[side]["label"])}
    elif kind == "span_delete":
        p["span"] = span_row(p["span"])
        p["relations"] = [relation_row(r) for r in p["relations"]]
    elif kind == "relation_create":
        p["relation"] = relation(p["relation"])
        if "row" in p:
            p["row"] = relation_row(p["row"])
    else:
        p["relation"] = relation_row(p["relation"])
    return p


def canonical(slug: str, *, skip_project=()) -> dict:
    """Every row that belongs to the project, with natural keys instead of ids."""
    project = Project.objects.get(slug=slug)
    labels = {x.pk: x.name for x in project.span_labels.all()}
    types = {x.pk: x.name for x in project.relation_types.all()}
    users = User.objects.filter(
        Q(memberships__project=project) | Q(annotation_sets__document__project=project)
        | Q(agreementrun__project=project)
        | Q(annotationaction__annotation_set__document__project=project)
        | Q(set_reopenings__annotation_set__document__project=project)
    ).distinct()
    out = {
        "project": _plain(project, skip=skip_project),
        "labels": sorted((_plain(x) for x in project.span_labels.all()), key=str),
        "types": sorted((_plain(x) for x in project.relation_types.all()), key=str),
        "users": {u.username: _plain(u) for u in users},
        "members": sorted((m.user.username, _plain(m)["role"], m.created_at)
                          for m in project.memberships.all()),
        "documents": {},
        "runs": [],
    }
    for document in project.documents.order_by("id"):
        sets = {}
        for s in document.annotation_sets.order_by("id"):
            spans = list(s.spans.order_by("start", "-end", "id"))
            live_spans = {x.pk: i for i, x in enumerate(spans)}
            relations = list(s.relations.order_by("id"))
            live_relations = {r.pk: (live_spans[r.source_id], live_spans[r.target_id],
                                     types[r.type_id]) for r in relations}
            gone: dict = {}
            sets[s.annotator.username if s.annotator else "<gold>"] = {
                **_plain(s),
                "spans": [{**_plain(x), "label": labels[x.label_id]} for x in spans],
                "relations": [{**_plain(r), "link": live_relations[r.pk]} for r in relations],
                "actions": [
                    {**_plain(a, skip=("payload",)),
                     "user": a.user.username if a.user else None,
                     "payload": _payload(a.kind, a.payload, live_spans, live_relations, gone,
                                         labels, types)}
                    for a in s.actions.order_by("id")
                ],
                "reopenings": [
                    (r.reopened_by.username if r.reopened_by else None, r.reopened_at)
                    for r in s.reopenings.order_by("reopened_at", "id")
                ],
            }
        out["documents"][document.external_id] = {**_plain(document), "sets": sets}
    for run in project.agreement_runs.order_by("created_at", "id"):
        params = run.parameters
        current = agreement_data_version(project=project, documents=params.get("documents"),
                                         annotators=params.get("annotators"))
        out["runs"].append({
            **_plain(run, skip=("data_version",)),
            "requested_by": run.requested_by.username if run.requested_by else None,
            "data_current": run.data_version == current,
            "data_version": run.data_version if run.data_version != current else "<current>",
        })
    return out


def row_counts() -> dict:
    return {m.__name__: m.objects.count() for m in MODELS}


def backup_bytes(project: Project) -> bytes:
    out = io.BytesIO()
    project_backup(project, out)
    return out.getvalue()


def empty_the_instance() -> None:
    # Documents first: spans PROTECT their labels, which a project delete would cascade to.
    Document.objects.all().delete()
    Project.objects.all().delete()
    User.objects.all().delete()
    assert all(n == 0 for n in row_counts().values())


def lines_of(data: bytes) -> list[dict]:
    return [json.loads(line) for line in gzip.decompress(data).decode("utf-8").splitlines()]


def with_lines(data: bytes, change) -> bytes:
    """The backup ``data`` with its records changed by ``change(records)`` (in place)."""
    records = lines_of(data)
    change(records)
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    return gzip.compress(text.encode("utf-8"))


@pytest.fixture
def rich(db, django_capture_on_commit_callbacks):
    project = build_rich_project(django_capture_on_commit_callbacks)
    return project


# --------------------------------------------------------------------------- round trips


def test_the_rich_project_has_what_the_backup_must_carry(rich):
    """Guards the fixture: each thing the round trip claims to carry is really there."""
    sets = AnnotationSet.objects.filter(document__project=rich)
    assert sets.filter(is_gold=True, gold_final=True).count() == 1
    assert set(rich.memberships.values_list("role", flat=True)) == {
        "manager", "curator", "annotator", "viewer"}
    runs = rich.agreement_runs.all()
    assert runs.filter(status="done", report__isnull=False, intervals__isnull=False).count() == 2
    assert runs.filter(status="failed").exists()
    document = rich.documents.get(position=7)
    assert b"\r\n" in bytes(document.original) and "𝔘" in document.text
    assert rich.grades_released
    assert SetReopening.objects.filter(annotation_set__document__project=rich).count() == 2
    actions = AnnotationAction.objects.filter(annotation_set__document=document)
    assert set(actions.values_list("kind", flat=True)) == {
        "span_create", "span_update", "span_delete", "relation_create", "relation_delete",
        "spans_create"}
    assert actions.filter(undone=True).count() == 3
    # What undo keeps for a redo: the removed rows, with their times.
    assert actions.filter(kind="spans_create", payload__rows__1__created_at__isnull=False)
    assert actions.filter(kind="relation_create", payload__row__source__isnull=False)
    spans = Span.objects.filter(annotation_set__document=document).order_by("start")
    nested = [(a, b) for a in spans for b in spans
              if a.pk != b.pk and a.start <= b.start and b.end <= a.end]
    overlapping = [(a, b) for a in spans for b in spans
                   if a.start < b.start < a.end < b.end]
    assert nested and overlapping
    assert spans.exclude(attributes={}).exists() and spans.exclude(note="").exists()


def test_restore_into_an_empty_instance_loses_nothing(rich):
    before = canonical("demo")
    data = backup_bytes(rich)
    empty_the_instance()

    report = project_restore_report(io.BytesIO(data))

    assert canonical("demo") == before
    assert report.project.slug == "demo"
    assert sorted(report.users_created) == ["alice", "bob", "carol", "cora", "instructor",
                                            "victor"]
    assert report.users_reused == []
    assert ExportJob.objects.count() == 0  # export jobs are left out (temporary files)


def test_a_backup_of_the_restored_project_is_the_same_file_but_for_its_time(rich):
    first = backup_bytes(rich)
    empty_the_instance()
    second = backup_bytes(project_restore(io.BytesIO(first)))

    a, b = lines_of(first), lines_of(second)
    assert a[1:] == b[1:]
    assert gzip.decompress(first).split(b"\n", 1)[1] == gzip.decompress(second).split(b"\n", 1)[1]
    assert {k: v for k, v in a[0].items() if k != "created_at"} == \
        {k: v for k, v in b[0].items() if k != "created_at"}


def test_the_file_is_self_describing_gzip_json_lines(rich):
    records = lines_of(backup_bytes(rich))
    header = records[0]
    assert header["format"] == "warrant-backup" and header["version"] == 2
    assert header["warrant"] and header["project"] == "demo"
    assert dt.datetime.fromisoformat(header["created_at"]).tzinfo is not None
    kinds = [r["kind"] for r in records[1:]]
    assert kinds[0] == "project" and kinds[-1] == "end"
    assert kinds.count("document") == rich.documents.count()
    end = records[-1]["counts"]
    assert end["span"] == Span.objects.filter(annotation_set__document__project=rich).count()
    users = {r["username"]: r for r in records[1:] if r.get("kind") == "user"}
    assert users["alice"]["password"] == User.objects.get(username="alice").password
    assert not any("is_superuser" in u or "is_staff" in u for u in users.values())


def test_members_log_in_with_their_old_password_after_a_restore(rich, client):
    data = backup_bytes(rich)
    empty_the_instance()
    project_restore(io.BytesIO(data))
    assert client.login(username="alice", password=PASSWORD)
    assert client.login(username="cora", password=PASSWORD)
    assert not client.login(username="victor", password=PASSWORD)  # inactive, as before


def test_undo_after_a_restore_brings_back_a_deleted_span_with_its_relation(rich):
    data = backup_bytes(rich)
    empty_the_instance()
    project = project_restore(io.BytesIO(data))
    work = AnnotationSet.objects.get(document__project=project, document__position=7,
                                     annotator__username="carol")
    spans_before = work.spans.count()
    # The newest action not undone is the deletion of "lift them" (and its relation).
    undone = edits.annotation_set_undo(annotation_set=work, expected_version=work.version)

    back = work.spans.get(start=TEXT.index("lift them"))
    assert "deleted span is back" in undone.message
    assert work.spans.count() == spans_before + 1
    assert back.outgoing.get().type.name == "attacks"
    # The id it came back under was reserved: a new span gets another one.
    fresh = edits.span_create(annotation_set=work, label=back.label, start=0, end=9,
                              expected_version=work.version, snap=False)
    assert fresh.pk > back.pk


def test_a_current_agreement_run_stays_current_and_a_stale_one_stale(rich):
    data = backup_bytes(rich)
    empty_the_instance()
    project = project_restore(io.BytesIO(data))
    newest, *older = project.agreement_runs.filter(status="done").order_by("-created_at")
    params = newest.parameters
    assert newest.data_version == agreement_data_version(
        project=project, documents=params["documents"], annotators=params["annotators"])
    assert older and all(run.data_version != agreement_data_version(project=project)
                         for run in older)


def test_an_existing_user_is_reused_and_keeps_their_password(rich, client):
    data = backup_bytes(rich)
    Document.objects.all().delete()
    Project.objects.all().delete()
    User.objects.exclude(username="alice").delete()
    alice = User.objects.get(username="alice")
    alice.set_password("New-Pass-456")
    alice.email = "alice@new.example"
    alice.save()

    report = project_restore_report(io.BytesIO(data))

    assert report.users_reused == ["alice"]
    alice.refresh_from_db()
    assert alice.email == "alice@new.example"
    assert client.login(username="alice", password="New-Pass-456")
    assert report.project.memberships.filter(user=alice, role="annotator").exists()


def test_restore_under_a_new_slug_copies_beside_the_original(rich):
    before = canonical("demo")
    counts = row_counts()
    data = backup_bytes(rich)

    report = project_restore_report(io.BytesIO(data), slug="demo-copy")

    copy = canonical("demo-copy", skip_project=("slug", "join_code"))
    original = canonical("demo", skip_project=("slug", "join_code"))
    assert copy == original
    assert canonical("demo") == before  # the original is untouched
    assert report.project.join_code and report.project.join_code != "abc23xyz"
    assert report.join_code_changed
    assert User.objects.count() == counts["User"]  # every user reused
    assert Span.objects.count() == 2 * counts["Span"]


def test_an_e_mail_stored_before_it_was_checked_survives_a_round_trip(rich):
    """The members CSV did not always check e-mails: a restore keeps them as they are."""
    User.objects.filter(username="alice").update(email="alice at the office")
    before = canonical("demo")
    data = backup_bytes(rich)
    empty_the_instance()

    project_restore(io.BytesIO(data))

    assert canonical("demo") == before
    assert User.objects.get(username="alice").email == "alice at the office"


@pytest.mark.parametrize("model, match, value, message", [
    (SpanLabel, {"name": "MajorClaim"}, {"name": "Major Claim"},
     "span label: name 'Major Claim' must start with a letter"),
    (RelationType, {"name": "supports"}, {"name": "supports (weakly)"},
     "relation type: name 'supports (weakly)' must start with a letter"),
    (SpanLabel, {"name": "Claim"}, {"hotkey": "s"}, "hotkey 's' is reserved"),
    (User, {"username": "bob"}, {"username": "bob smith"}, "username 'bob smith'"),
])
def test_a_backup_names_what_a_restore_would_refuse_before_writing(
    rich, model, match, value, message
):
    """Data from before today's rules (label names were free before migration 0006,
    usernames made with create_user are never checked): a backup that succeeded could
    not be restored, so the backup refuses, naming it, while the original can be fixed."""
    filters = {"project": rich} if model is not User else {}
    model.objects.filter(**filters, **match).update(**value)
    out = io.BytesIO()
    with pytest.raises(WarrantError, match=re.escape(message)) as info:
        project_backup(rich, out)
    assert "a restore would refuse" in str(info.value) and "\n" not in str(info.value)


def _runs_pending_and_running(records):
    runs = [r for r in records if r.get("kind") == "agreement_run"]
    runs[0].update(status="running", progress=0.5, error="",
                   started_at="2031-01-02T03:04:05+00:00", finished_at=None)
    runs[1].update(status="pending", progress=0.0, error="", finished_at=None)


def test_a_run_backed_up_while_running_is_restored_as_interrupted(rich):
    """No task exists for it after a restore: it would stay running (or pending) for ever."""
    data = with_lines(backup_bytes(rich), _runs_pending_and_running)
    runs = [r for r in lines_of(data) if r.get("kind") == "agreement_run"]
    empty_the_instance()

    report = project_restore_report(io.BytesIO(data))

    restored = list(report.project.agreement_runs.order_by("created_at", "id"))
    assert [r.status for r in restored] == ["failed"] * 2 + [r["status"] for r in runs[2:]]
    assert [r.error for r in restored[:2]] == [INTERRUPTED] * 2
    assert restored[0].progress == 0.5  # everything else is kept
    assert restored[0].started_at == dt.datetime(2031, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    assert restored[0].parameters == runs[0]["parameters"]
    assert report.runs_interrupted == 2
    assert "2 agreement run(s) that were running are marked failed" in report.summary()


def test_the_summary_names_the_existing_users_it_reused(rich):
    """Same username, same person: the summary says who got the file's roles."""
    data = backup_bytes(rich)
    Document.objects.all().delete()
    Project.objects.all().delete()
    User.objects.exclude(username__in=["bob", "alice"]).delete()

    summary = project_restore_report(io.BytesIO(data)).summary()

    assert "2 existing user(s) reused (passwords unchanged): alice, bob" in summary
    assert "\n" not in summary


# --------------------------------------------------------------------------- refusals


def _drop_last_line(records):
    del records[-2]  # the last agreement run: the end record's counts no longer match


def _span_beyond_text(records):
    doc = next(r for r in records if r.get("kind") == "document" and r["position"] == 7)
    span = doc["annotation_sets"][0]["spans"][0]
    span["end"] = len(doc["text"]) + 1


def _relation_across_sets(records):
    doc = next(r for r in records if r.get("kind") == "document"
               and r["external_id"] == "congestion-pricing")
    first, second = [s for s in doc["annotation_sets"] if s["spans"]][:2]
    first["relations"][0]["target"] = second["spans"][0]["key"]


def _missing_key(records):
    del next(r for r in records if r.get("kind") == "document")["content_hash"]


def _unknown_key(records):
    next(r for r in records if r.get("kind") == "membership")["colour"] = "#ffffff"


def _text_altered(records):
    doc = next(r for r in records if r.get("kind") == "document")
    doc["text"] = doc["text"].replace("a", "o", 1)


def _wrong_format(records):
    records[0]["format"] = "something-else"


def _newer_version(records):
    records[0]["version"] = 3


def _bad_role(records):
    next(r for r in records if r.get("kind") == "membership")["role"] = "emperor"


def _unknown_user(records):
    next(r for r in records if r.get("kind") == "membership")["user"] = "mallory"


def _first(records, kind, **match):
    return next(r for r in records if r.get("kind") == kind
                and all(r.get(k) == v for k, v in match.items()))


def _set(kind, key, value, **match):
    def change(records):
        _first(records, kind, **match)[key] = value
    return change


def _span_attributes(records):
    doc = _first(records, "document", position=7)
    doc["annotation_sets"][0]["spans"][0]["attributes"] = ["stance", "for"]


def _action_payload(records):
    doc = _first(records, "document", position=7)
    next(s for s in doc["annotation_sets"] if s["actions"])["actions"][0]["payload"] = [1]


XSS = "<img src=x onerror=alert(1)>"


def _attribute_hotkey(records):
    label = _first(records, "span_label", name="Evidence")
    label["attributes"] = [{**a, "hotkey": "c"} if a["name"] == "ok" else a
                           for a in label["attributes"]]


def _span_attribute_undeclared(records):
    doc = _first(records, "document", position=7)
    doc["annotation_sets"][0]["spans"][0]["attributes"] = {"onclick": "alert(1)"}


def _relation_attribute_list(records):
    doc = _first(records, "document", position=7)
    s = next(s for s in doc["annotation_sets"] if s["relations"])
    s["relations"][0]["attributes"] = {"group": ["a", "b"]}


BAD_EDITS = {
    "wrong format": (_wrong_format, "not a Warrant backup"),
    "newer version": (_newer_version, "version 3 is not supported"),
    "span outside its text": (_span_beyond_text, "fall outside the text"),
    "relation across sets": (_relation_across_sets, "belongs to another annotation set"),
    "missing key": (_missing_key, "missing key 'content_hash'"),
    "unknown key": (_unknown_key, "unknown key 'colour'"),
    "text altered": (_text_altered, "does not match its content hash"),
    "a record removed": (_drop_last_line, "incomplete or altered"),
    "invalid role": (_bad_role, "role"),
    "unknown user": (_unknown_user, "'mallory' is not among the file's users"),
    # JSON values of the wrong shape, which pages then read (they answered 500).
    "meta a list": (_set("document", "meta", ["year", 2024]),
                    r"line \d+ \(document\): meta must be an object"),
    "cleaning a string": (_set("document", "cleaning", "nav"), "cleaning must be an object"),
    "span attributes a list": (_span_attributes, "span: attributes must be an object"),
    "undo payload a list": (_action_payload, "action: payload must be an object"),
    "allowed an object": (_set("relation_type", "allowed", {"Claim": "Claim"}),
                          r"\(relation_type\): allowed must be a list"),
    "allowed not pairs": (_set("relation_type", "allowed", [["Claim"]]),
                          r"allowed must be a list of \[source, target\] label pairs"),
    "allowed not names": (_set("relation_type", "allowed", [["Claim", 7]]),
                          r"label pairs, not \[\"Claim\", 7\]"),
    "report a list": (_set("agreement_run", "report", [0.5]),
                      r"\(agreement_run\): report must be an object"),
    "intervals a number": (_set("agreement_run", "intervals", 0.95),
                           "intervals must be an object"),
    "timings a list": (_set("agreement_run", "timings", [0.5]), "timings must be an object"),
    "parameters a list": (_set("agreement_run", "parameters", ["char"]),
                          "parameters must be an object"),
    "parameters documents a name": (
        _set("agreement_run", "parameters", {"unit": "char", "documents": "congestion-pricing",
                                             "annotators": None}),
        "parameters documents must be a list of names or null"),
    "a done run's report empty": (_set("agreement_run", "report", {}, status="done"),
                                  "a done run's report must hold overall, by_document"),
    "timings null": (_set("agreement_run", "timings", None), "timings may not be empty"),
    "reopening of no set": (_set("set_reopening", "annotator", "victor"),
                            "no annotation set of 'victor' on document 'congestion-pricing'"),
    "reopening by a stranger": (_set("set_reopening", "reopened_by", "mallory"),
                                "'mallory' is not among the file's users"),
    # What the schema import, the annotation services and sign-up refuse (issue 11, point 5).
    "label named with markup": (
        _set("span_label", "name", XSS, name="Reason"),
        r"line \d+ \(span_label\): name '<img src=x onerror=alert\(1\)>' must start with a"),
    "relation type named with markup": (
        _set("relation_type", "name", XSS, name="attacks"),
        r"line \d+ \(relation_type\): name '<img src=x onerror=alert\(1\)>' must start"),
    "colour not #rrggbb": (_set("span_label", "colour", "red;x", name="Claim"),
                           r"\(span_label\): span label 'Claim': colour 'red;x' is not #rrggbb"),
    "hotkey reserved": (_set("span_label", "hotkey", "s", name="Claim"),
                        "hotkey 's' is reserved by the annotation page"),
    "hotkey a space": (_set("span_label", "hotkey", " ", name="Claim"),
                       "hotkey ' ' must be one key"),
    "hotkey of two labels": (_set("span_label", "hotkey", "r", name="Claim"),
                             "span_label_unique_hotkey"),  # the database's constraint
    "attribute of no type": (
        _set("span_label", "attributes", [{"name": "x", "type": "script"}], name="Claim"),
        r"\(span_label\): attribute 'x' of 'Claim': type 'script' is not one of"),
    "attribute named with markup": (
        _set("span_label", "attributes", [{"name": XSS, "type": "text"}], name="Claim"),
        "attribute name '<img src=x onerror=alert"),
    "attribute hotkey a label's": (_attribute_hotkey, "hotkey 'c' is a label's hotkey"),
    "pair names no label": (_set("relation_type", "allowed", [["Ghost", "Claim"]],
                                 name="supports"),
                            "relation type 'supports' names label 'Ghost', which the schema"),
    "span attribute undeclared": (_span_attribute_undeclared,
                                  r"span \d+: label \w+ has no attribute 'onclick'"),
    "relation attribute a list": (_relation_attribute_list,
                                  r"relation \d+: attribute 'group' must be text, a number"),
    "username with markup": (_set("user", "username", XSS, username="victor"),
                             r"\(user\): username '<img src=x onerror=alert\(1\)>': Enter a"),
}


def test_a_file_from_before_set_reopenings_restores(rich):
    """Files written before issue 11 have no set_reopening records and do not count them."""
    def older(records):
        records[:] = [r for r in records if r.get("kind") != "set_reopening"]
        del records[-1]["counts"]["set_reopening"]

    data = with_lines(backup_bytes(rich), older)
    empty_the_instance()
    project = project_restore(io.BytesIO(data))
    assert project.documents.count() == 2
    assert not SetReopening.objects.exists()


@pytest.mark.parametrize("name", BAD_EDITS)
def test_a_damaged_file_is_refused_and_nothing_is_written(rich, name):
    change, message = BAD_EDITS[name]
    data = with_lines(backup_bytes(rich), change)
    empty_the_instance()
    with pytest.raises(WarrantError, match=message) as info:
        project_restore(io.BytesIO(data))
    assert "\n" not in str(info.value)
    assert all(n == 0 for n in row_counts().values())


@pytest.mark.parametrize("damage, message", [
    (lambda d: d[: len(d) * 2 // 3], "truncated"),
    (lambda d: d[:-8], "truncated"),  # the gzip trailer cut off
    (lambda d: b"not gzip at all", "not gzip-compressed"),
    (lambda d: b"", "not gzip-compressed|empty"),
    (lambda d: d[:40] + bytes(b ^ 0xFF for b in d[40:60]) + d[60:], "damaged|truncated"),
    (lambda d: gzip.compress(b'{"format": "warrant-backup", "version": 1}\n'), "truncated"),
    (lambda d: gzip.compress(b"[1, 2]\n"), "not a record|not a Warrant"),
    (lambda d: gzip.compress(b"[" * 200_000 + b"\n"), "line 1 nests lists or objects too deeply"),
    (lambda d: gzip.compress(gzip.decompress(d).split(b"\n", 1)[0] + b"\n"
                             + b'{"kind": "project", "meta": ' + b"[" * 200_000 + b"\n"),
     "line 2 nests lists or objects too deeply"),
])
def test_a_corrupt_or_truncated_file_is_refused_and_nothing_is_written(rich, damage, message):
    data = damage(backup_bytes(rich))
    empty_the_instance()
    with pytest.raises(WarrantError, match=message):
        project_restore(io.BytesIO(data))
    assert all(n == 0 for n in row_counts().values())


def _bomb(line_bytes: int) -> bytes:
    """A gzip file of a few dozen KB whose second line decompresses to ``line_bytes``."""
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9) as gz:
        gz.write(b'{"format": "warrant-backup", "version": 1}\n{"kind": "project", "name": "')
        chunk = b"a" * (1024 * 1024)
        for _ in range(line_bytes // len(chunk)):
            gz.write(chunk)
        gz.write(b'"}\n')
    return out.getvalue()


def test_a_gzip_bomb_is_refused_without_being_expanded(db, settings):
    settings.WARRANT_MAX_UPLOAD_BYTES = 256 * 1024  # lines of at most 1 MiB
    bomb_line = 64 * 1024 * 1024
    bomb = _bomb(bomb_line)
    assert len(bomb) < bomb_line // 500
    tracemalloc.start()
    try:
        with pytest.raises(WarrantError) as info:
            project_restore(io.BytesIO(bomb))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * 1024 * 1024, f"{peak:,} bytes allocated: the bomb was expanded"
    assert str(info.value) == (
        "backup file refused: line 2 is longer than 1,048,576 bytes "
        "(4 x WARRANT_MAX_UPLOAD_BYTES; damaged, or a gzip bomb)"
    )
    assert all(n == 0 for n in row_counts().values())


def test_a_file_larger_than_a_backup_may_be_is_refused(rich, monkeypatch):
    data = backup_bytes(rich)
    empty_the_instance()
    monkeypatch.setattr(backup_module, "MAX_BACKUP_BYTES", len(gzip.decompress(data)) - 1)
    with pytest.raises(WarrantError, match=r"more than [\d,]+ bytes once decompressed"):
        project_restore(io.BytesIO(data))
    assert all(n == 0 for n in row_counts().values())


def test_a_backup_refuses_what_a_restore_would_refuse_as_too_long(rich, settings, monkeypatch):
    """The same limits on both sides: a backup that succeeds can be restored."""
    settings.WARRANT_MAX_UPLOAD_BYTES = 64  # lines of at most 256 bytes
    with pytest.raises(WarrantError, match=r"takes [\d,]+ bytes, more than a backup line "
                                           r"may hold \(256: 4 x WARRANT_MAX_UPLOAD_BYTES\)"):
        backup_bytes(rich)
    settings.WARRANT_MAX_UPLOAD_BYTES = 50 * 1024 * 1024
    data = backup_bytes(rich)
    monkeypatch.setattr(backup_module, "MAX_BACKUP_BYTES", len(gzip.decompress(data)) - 1)
    with pytest.raises(WarrantError, match="larger than a backup file may be"):
        backup_bytes(rich)


def test_restoring_over_an_existing_slug_is_refused_and_nothing_changes(rich):
    data = backup_bytes(rich)
    before, counts = canonical("demo"), row_counts()
    with pytest.raises(WarrantError, match="slug 'demo' exists already: restore with --slug"):
        project_restore(io.BytesIO(data))
    assert row_counts() == counts and canonical("demo") == before


def test_a_failure_late_in_the_file_rolls_back_everything_written_before(rich):
    """The last record is bad: the project, users and documents before it are not kept."""
    def bad_run(records):
        records[-2]["status"] = "exploded"
    data = with_lines(backup_bytes(rich), bad_run)
    empty_the_instance()
    with pytest.raises(WarrantError, match="status"):
        project_restore(io.BytesIO(data))
    assert all(n == 0 for n in row_counts().values())


def test_an_invalid_new_slug_is_refused(rich):
    data = backup_bytes(rich)
    with pytest.raises(WarrantError, match="not a valid slug"):
        project_restore(io.BytesIO(data), slug="no spaces")
