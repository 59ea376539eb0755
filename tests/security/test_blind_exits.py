"""Blind means blind on every path (issue 11, point 2).

One rule decides who reads an annotation set
(``annotator.selectors.annotations.readable_sets_in_project``). This test
enumerates every exit through which a set's contents (or its existence) can
leave Warrant: the pages (annotation page, its panels and span editor, the
document page), the API (a set, a document's sets, the project's sets, the
JSONL stream), the exports (every format and every scope, through the service
the export page and the API both call, and their job lists and downloads),
the agreement page's side-by-side view, curation, feedback and backups. For
each of the six actors, in a blind project before and after grades are
released and in an open project, nothing beyond the sets they may read comes
out.

The oracle is written out by hand (``READABLE``), not computed by the rule
under test. The sets have 1, 2 and 4 spans, so a count of exported spans says
exactly which sets an export held.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from annotator.models import AnnotationSet, AnnotationStatus, ExportJob, Membership, Span
from annotator.services.export_jobs import export_job_request
from annotator.services.exports import EXPORT_FORMATS
from tests.factories import DocumentFactory, ProjectFactory, UserFactory

ACTORS = ["manager", "curator", "annotator", "viewer", "non_member", "anonymous"]
NAMES = {"manager": "mgr_ada", "curator": "cur_bo", "annotator": "stu_cy",
         "viewer": "view_ed", "non_member": "out_fi"}
PEER = "peer_di"
# The sets of the brief and their span counts (distinct powers of two).
SPANS = {"own": 1, "peer": 2, "gold": 4}
OWNER = {"own": NAMES["annotator"], "peer": PEER}
TEXT = "Sanctions work. Exports fell sharply (Reuters). Prices rose. We should keep them."

ALL, NONE = {"own", "peer", "gold"}, set()
# What each actor may read, by the project's state (written out, not computed).
READABLE = {
    "blind": {"manager": ALL, "curator": ALL, "annotator": {"own"}, "viewer": NONE,
              "non_member": NONE, "anonymous": NONE},
    # Released grades: a student reads the final gold of a brief they submitted (their
    # feedback shows it); nothing else changes.
    "released": {"manager": ALL, "curator": ALL, "annotator": {"own", "gold"},
                 "viewer": NONE, "non_member": NONE, "anonymous": NONE},
    "open": {"manager": ALL, "curator": ALL, "annotator": {"own", "peer"},
             "viewer": {"own", "peer"}, "non_member": NONE, "anonymous": NONE},
}
STATES = list(READABLE)


@pytest.fixture
def world(db):
    project = ProjectFactory(slug="blind-exits", blind=True)
    users = {}
    for actor, name in NAMES.items():
        users[actor] = UserFactory(username=name)
        if actor != "non_member":
            Membership.objects.create(project=project, user=users[actor], role=actor)
    peer = UserFactory(username=PEER)
    Membership.objects.create(project=project, user=peer, role="annotator")
    users["anonymous"] = None
    brief = DocumentFactory(project=project, text=TEXT, title="The brief")
    claim = project.span_labels.get(name="Claim")
    sets = {
        "own": AnnotationSet(document=brief, annotator=users["annotator"]),
        "peer": AnnotationSet(document=brief, annotator=peer),
        "gold": AnnotationSet(document=brief, is_gold=True, gold_final=True),
    }
    for key, aset in sets.items():
        aset.status = AnnotationStatus.SUBMITTED
        aset.version = 1
        aset.save()
        Span.objects.bulk_create([
            Span(annotation_set=aset, label=claim, start=10 * k, end=10 * k + 5,
                 note=f"mark-{key}")
            for k in range(SPANS[key])
        ])
    return {"project": project, "users": users, "brief": brief, "sets": sets}


def _state(world, state):
    project = world["project"]
    project.blind = state != "open"
    project.grades_released = state == "released"
    project.save(update_fields=["blind", "grades_released"])


def _web(client, world, actor):
    client.logout()
    if world["users"][actor] is not None:
        client.force_login(world["users"][actor])
    return client


def _api(world, actor):
    api = APIClient()
    if world["users"][actor] is not None:
        api.force_authenticate(world["users"][actor])
    return api


def _keys_of_set_ids(world, ids) -> set[str]:
    by_id = {aset.pk: key for key, aset in world["sets"].items()}
    return {by_id[i] for i in ids}


def _keys_of_count(spans: int) -> set[str]:
    return {key for key, n in SPANS.items() if spans & n}


def _keys_named_in(world, html: str) -> set[str]:
    return {key for key, name in OWNER.items() if name in html}


# --------------------------------------------------------------------------- pages


def _pages(client, world, actor) -> dict[str, set[str]]:
    """What each page lets ``actor`` see, as set keys."""
    project, brief = world["project"], world["brief"]
    c = _web(client, world, actor)
    kwargs = {"slug": project.slug, "document_id": brief.pk}
    out = {"annotate": set(), "panels": set(), "span editor": set()}
    for key, aset in world["sets"].items():
        query = f"?set={aset.pk}"
        if c.get(reverse("annotate", kwargs=kwargs) + query).status_code == 200:
            out["annotate"].add(key)
        if c.get(reverse("annotate-panels", kwargs=kwargs) + query).status_code == 200:
            out["panels"].add(key)
        span = aset.spans.first()
        url = reverse("annotate-span", kwargs={**kwargs, "span_id": span.pk}) + query
        if c.get(url).status_code == 200:
            out["span editor"].add(key)
    # The annotation page with no set named: one's own, or a list of sets to open.
    page = c.get(reverse("annotate", kwargs=kwargs))
    out["annotate (no set named)"] = (
        _keys_named_in(world, page.content.decode()) if page.status_code == 200 else set()
    )
    detail = c.get(reverse("document-detail", kwargs=kwargs))
    out["document page"] = (
        _keys_named_in(world, detail.content.decode()) if detail.status_code == 200 else set()
    )
    agreement = c.get(reverse("agreement-document", kwargs=kwargs))
    out["agreement side by side"] = (
        _keys_named_in(world, agreement.content.decode())
        if agreement.status_code == 200 else set()
    )
    curation = c.get(reverse("curation-document", kwargs=kwargs))
    out["curation"] = (
        _keys_named_in(world, curation.content.decode()) | {"gold"}
        if curation.status_code == 200 else set()
    )
    feedback = c.get(reverse("feedback-document", kwargs=kwargs)
                     + f"?student={NAMES['annotator']}")
    # Feedback shows the student's spans against the gold's.
    out["feedback"] = {"own", "gold"} if feedback.status_code == 200 else set()
    return out


# --------------------------------------------------------------------------- API


def _api_exits(world, actor) -> dict[str, set[str]]:
    project, brief = world["project"], world["brief"]
    api = _api(world, actor)
    out = {"api set detail": set()}
    for key, aset in world["sets"].items():
        if api.get(f"/api/annotation-sets/{aset.pk}/").status_code == 200:
            out["api set detail"].add(key)
        spans = api.get(f"/api/annotation-sets/{aset.pk}/spans/")
        if spans.status_code == 200:
            out.setdefault("api spans", set()).add(key)
    listing = api.get(reverse("api-annotation-set-list",
                              kwargs={"slug": project.slug, "document_id": brief.pk}))
    out["api document's sets"] = (
        _keys_of_set_ids(world, [s["id"] for s in listing.json()["results"]])
        if listing.status_code == 200 else set()
    )
    every = api.get(reverse("api-project-annotation-sets", kwargs={"slug": project.slug}))
    out["api project's sets"] = (
        _keys_of_set_ids(world, [s["id"] for s in every.json()["results"]])
        if every.status_code == 200 else set()
    )
    stream = api.get(reverse("api-project-annotations", kwargs={"slug": project.slug}))
    revealed = set()
    if stream.status_code == 200:
        for line in b"".join(stream.streaming_content).decode().splitlines():
            doc = json.loads(line)
            revealed |= {key for key, name in OWNER.items()
                         if any(a["annotator"] == name for a in doc["annotations"])}
            if doc.get("gold") and doc["gold"]["spans"]:
                revealed.add("gold")
    out["api JSONL stream"] = revealed
    return out


# --------------------------------------------------------------------------- the checks


def _check(revealed: dict[str, set[str]], readable: set[str], where: str) -> None:
    leaks = {exit_: sorted(keys - readable) for exit_, keys in revealed.items()
             if keys - readable}
    assert not leaks, f"{where}: beyond the readable sets {sorted(readable)}: {leaks}"


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("actor", ACTORS)
def test_pages_and_api_reveal_only_readable_sets(client, world, state, actor):
    _state(world, state)
    readable = READABLE[state][actor]
    revealed = {**_pages(client, world, actor), **_api_exits(world, actor)}
    _check(revealed, readable, f"{actor} in a {state} project")
    # The rule is not vacuous: the exits that list sets list every readable one.
    assert revealed["api project's sets"] == readable
    assert revealed["api set detail"] == readable
    assert revealed["annotate"] == readable


# --------------------------------------------------------------------------- exports

SCOPES = {"gold": {"gold"}, "annotators": {"own", "peer"}, "both": ALL}
EXPORTERS = ["manager", "curator", "viewer"]  # export.create


def _export(world, actor, fmt, scope, capture) -> ExportJob:
    with capture(execute=True):
        job = export_job_request(project=world["project"], requested_by=world["users"][actor],
                                 format=fmt, scope=scope)
    job.refresh_from_db()
    assert job.status == "done", job.error
    return job


@pytest.mark.parametrize("fmt", sorted(EXPORT_FORMATS))
@pytest.mark.parametrize("actor", EXPORTERS)
def test_every_export_format_and_scope_holds_only_readable_sets(
    world, actor, fmt, django_capture_on_commit_callbacks
):
    """The issue's case: a viewer of a blind project exported scope ``both`` and got
    every annotator's spans and the gold."""
    _state(world, "blind")
    readable = READABLE["blind"][actor]
    for scope, in_scope in SCOPES.items():
        job = _export(world, actor, fmt, scope, django_capture_on_commit_callbacks)
        assert _keys_of_count(job.spans) == readable & in_scope, (actor, fmt, scope)


@pytest.mark.parametrize("state", ["released", "open"])
@pytest.mark.parametrize("actor", EXPORTERS)
def test_exports_follow_the_rule_in_every_state(world, state, actor,
                                                django_capture_on_commit_callbacks):
    _state(world, state)
    job = _export(world, actor, "jsonl", "both", django_capture_on_commit_callbacks)
    assert _keys_of_count(job.spans) == READABLE[state][actor]
    with job.file.open("rb") as fh:
        names = {a["annotator"] for line in fh for a in json.loads(line)["annotations"]}
    assert names == {OWNER[k] for k in READABLE[state][actor] if k in OWNER}


@pytest.mark.parametrize("actor", ACTORS)
def test_the_export_page_and_api_export_what_their_caller_reads(
    client, world, actor, django_capture_on_commit_callbacks
):
    """Both entry points build the requester's export, and a job's file is served to
    nobody who might read less than its requester."""
    _state(world, "blind")
    project = world["project"]
    c = _web(client, world, actor)
    with django_capture_on_commit_callbacks(execute=True):
        page = c.post(reverse("exports", kwargs={"slug": project.slug}),
                      {"format": "csv", "scope": "both"})
        api = _api(world, actor).post(reverse("api-export-job-list",
                                              kwargs={"slug": project.slug}),
                                      {"format": "jsonl", "scope": "both"}, format="json")
    expected = {"manager": 302, "curator": 302, "viewer": 302, "annotator": 403,
                "non_member": 404, "anonymous": 302}[actor]
    assert page.status_code == expected
    assert api.status_code == {302: 202}.get(expected, expected) if actor != "anonymous" \
        else api.status_code == 401
    for job in ExportJob.objects.filter(requested_by=world["users"][actor]):
        assert job.status == "done", job.error
        assert _keys_of_count(job.spans) == READABLE["blind"][actor]


def test_a_viewer_cannot_list_or_fetch_a_managers_export(
    client, world, django_capture_on_commit_callbacks
):
    _state(world, "blind")
    project = world["project"]
    job = _export(world, "manager", "jsonl", "both", django_capture_on_commit_callbacks)
    assert _keys_of_count(job.spans) == ALL
    c = _web(client, world, "viewer")
    page = c.get(reverse("exports", kwargs={"slug": project.slug})).content.decode()
    download = reverse("export-download", kwargs={"slug": project.slug, "job_id": job.pk})
    assert download not in page
    assert c.get(download).status_code == 404
    assert c.get(reverse("export-progress",
                         kwargs={"slug": project.slug, "job_id": job.pk})).status_code == 404
    api = _api(world, "viewer")
    listed = api.get(reverse("api-export-job-list", kwargs={"slug": project.slug})).json()
    assert job.pk not in [j["id"] for j in listed["results"]]
    assert api.get(f"/api/export-jobs/{job.pk}/").status_code == 404
    assert api.get(f"/api/export-jobs/{job.pk}/download/").status_code == 404
    # A curator reads every set: the manager's job is theirs to fetch too.
    assert _api(world, "curator").get(f"/api/export-jobs/{job.pk}/download/").status_code == 200


def test_a_zip_export_of_a_blind_viewer_holds_no_ones_spans(
    world, django_capture_on_commit_callbacks
):
    """Beyond the count: the brat files a viewer gets hold no annotation line."""
    _state(world, "blind")
    job = _export(world, "viewer", "brat", "both", django_capture_on_commit_callbacks)
    with job.file.open("rb") as fh, zipfile.ZipFile(fh) as archive:
        anns = [n for n in archive.namelist() if n.endswith(".ann")]
        assert all(not archive.read(n).strip() for n in anns), anns
        assert not any(PEER in n or NAMES["annotator"] in n for n in archive.namelist())


# --------------------------------------------------------------------------- backups


def test_backups_have_no_web_or_api_exit():
    """A backup holds every set (and password hashes): it is made on the command line
    by whoever runs the server, never served by a page or the API."""
    from django.urls import get_resolver

    root = Path(__file__).resolve().parents[2]
    modules = set()

    def walk(patterns):
        for p in patterns:
            if hasattr(p, "url_patterns"):
                walk(p.url_patterns)
            else:
                modules.add(getattr(p.callback, "__module__", ""))

    walk(get_resolver().url_patterns)
    ours = [m for m in modules if m.startswith("annotator.")]
    assert ours
    for module in ours:
        source = (root / (module.replace(".", "/") + ".py")).read_text()
        assert "project_backup" not in source, module


def test_the_command_line_export_is_the_operators_and_holds_every_set(world, tmp_path):
    """``manage.py export`` runs with the server's own rights (whoever runs it has the
    database): every set, as before."""
    from django.core.management import call_command

    _state(world, "blind")
    out = tmp_path / "all.jsonl"
    call_command("export", world["project"].slug, "--format", "jsonl", "-o", str(out),
                 stdout=io.StringIO())
    names = {a["annotator"] for line in out.read_text().splitlines()
             for a in json.loads(line)["annotations"]}
    assert names == {NAMES["annotator"], PEER}
