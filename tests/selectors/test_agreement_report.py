"""A finished run's report written from its summary and ranks (issue 12, point 1).

Every reader (the API's report and run, the page's download, ``manage.py agreement
--json``) must give what it gave when it decoded the stored report: the same bytes.
Each test computes a run the usual way (several chunks, a gold that the run leaves
out, relations, spans from accepted suggestions), then compares the streamed
answer with the rendering of the report as runs stored it whole before they kept
``by_document`` in their ranks only: the run's summary with the ``by_document`` of
one reading in this process, stored and read back (``reference_report``).
"""

from __future__ import annotations

import gzip
import io
import json

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.renderers import JSONRenderer
from rest_framework.test import APIClient

from annotator.api.agreement import AgreementRunDetailSerializer
from annotator.models import AgreementDocumentRank, AgreementRun, AnnotationSet, Span
from annotator.selectors import agreement_report
from annotator.selectors.agreement import agreement_report_document
from annotator.selectors.agreement_report import LazyObject, json_chunks
from annotator.services.agreement import agreement_run_execute, agreement_run_request
from annotator.services.backup import warrant_version
from tests.agreement_helpers import TEXT, annotate, full_report, reference_report
from tests.factories import DocumentFactory

pytestmark = pytest.mark.django_db

# Ids of several lengths and bytes (jsonb orders keys by length, then bytewise), and
# positions that are not the ids' order.
EXTERNAL_IDS = ["brief-10", "brief-9", "é-1", "z", "B", "brief-2", "ab", "Ω-long-one"]


def _build(project, ids=EXTERNAL_IDS):
    for k, external_id in enumerate(ids):
        doc = DocumentFactory(project=project, external_id=external_id,
                              text=f"{TEXT} ({k})", position=len(ids) - k)
        same = k % 3 == 0
        annotate(project, doc, "alice", [(0, 15, "Claim"), (16, 36, "Reason"),
                                         (37, 46, "Evidence")],
                 [(1, 0, "supports"), (2, 1, "evidence_for")])
        annotate(project, doc, "bob", [(0, 15, "Claim"),
                                       (16, 36, "Reason" if same else "Evidence")],
                 [(1, 0, "supports")] if same else [])
        if k % 2:
            annotate(project, doc, f"carol{k % 4}", [(0, 15, "MajorClaim")])
        gold = AnnotationSet.objects.create(document=doc, is_gold=True, gold_final=True,
                                            status="submitted")
        Span.objects.create(annotation_set=gold, label=project.span_labels.get(name="Claim"),
                            start=0, end=15)
    # Spans from accepted suggestions: the report gains its "suggestions" split.
    Span.objects.filter(annotation_set__annotator__username="alice", start=0).update(
        suggested_by="cues")


def _run(project, **params) -> AgreementRun:
    run = agreement_run_execute(run_id=agreement_run_request(project=project, **params).pk)
    assert run.status == "done", run.error
    return AgreementRun.objects.get(pk=run.pk)  # with its stored report, read whole


@pytest.fixture
def done(project, members, settings, monkeypatch):
    settings.WARRANT_AGREEMENT_CHUNK_DOCUMENTS = 3  # three chunks
    monkeypatch.setattr(agreement_report, "REPORT_BATCH", 3)  # and several batches
    _build(project)
    run = _run(project)
    assert "by_document" not in run.report and run.report == run.report_summary
    assert AgreementDocumentRank.objects.filter(run=run).count() == len(EXTERNAL_IDS)
    run.report = reference_report(run)  # what the readers must give, byte for byte
    assert "suggestions" in run.report and len(run.report["by_document"]) == len(EXTERNAL_IDS)
    return run


def _body(response) -> bytes:
    assert response.status_code == 200, response
    return b"".join(response.streaming_content)


def _api(members) -> APIClient:
    client = APIClient()
    client.force_authenticate(members["viewer"])
    return client


def test_api_report_is_byte_for_byte_the_stored_reports(project, members, done):
    body = _body(_api(members).get(reverse("api-agreement", kwargs={"slug": project.slug})))
    today = JSONRenderer().render(agreement_report_document(done, version=warrant_version()))
    assert body == today
    assert json.loads(body)["by_document"] == done.report["by_document"]
    assert list(json.loads(body)["by_document"]) == list(done.report["by_document"])


def test_api_report_with_an_indent_is_drfs_too(project, members, done):
    response = _api(members).get(reverse("api-agreement", kwargs={"slug": project.slug}),
                                 HTTP_ACCEPT="application/json; indent=4")
    today = JSONRenderer().render(agreement_report_document(done, version=warrant_version()),
                                  "application/json; indent=4")
    assert _body(response) == today


def test_api_run_detail_is_byte_for_byte_the_stored_reports(project, members, done):
    response = _api(members).get(reverse("api-agreement-run", kwargs={"run_id": done.pk}))
    request = response.wsgi_request
    today = JSONRenderer().render(AgreementRunDetailSerializer(
        done, context={"request": request}).data)
    assert _body(response) == today


def test_download_and_command_are_byte_for_byte_the_stored_reports(
    client_for, project, done
):
    url = reverse("agreement-report", kwargs={"slug": project.slug, "run_id": done.pk})
    body = _body(client_for("viewer").get(url))
    document = agreement_report_document(done, version=warrant_version())
    assert body == json.dumps(document, indent=2, ensure_ascii=False).encode()

    out = io.StringIO()
    call_command("agreement", project.slug, "--json", stdout=out)
    run = AgreementRun.objects.latest("id")
    assert run.pk != done.pk  # the command's own run, of the same data
    run.report = reference_report(run)
    document = agreement_report_document(run, version=warrant_version())
    assert out.getvalue() == json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def test_a_run_finished_before_ranks_is_ranked_on_first_read(project, members, done):
    AgreementDocumentRank.objects.all().delete()  # its report stored whole, as then
    AgreementRun.objects.filter(pk=done.pk).update(report=done.report, report_summary=None)
    body = _body(_api(members).get(reverse("api-agreement", kwargs={"slug": project.slug})))
    assert body == JSONRenderer().render(agreement_report_document(done,
                                                                   version=warrant_version()))
    assert AgreementDocumentRank.objects.filter(run=done, position__isnull=False).count() \
        == len(EXTERNAL_IDS)


def test_an_older_run_keeps_its_ranks_and_reads_as_the_newer_one(project, members, done):
    newer = _run(project, unit="char")
    newer.report = reference_report(newer)
    assert AgreementDocumentRank.objects.filter(run=done).count() == len(EXTERNAL_IDS)
    client = _api(members)
    for run in (done, newer):
        response = client.get(reverse("api-agreement-run", kwargs={"run_id": run.pk}))
        assert _body(response) == JSONRenderer().render(AgreementRunDetailSerializer(
            run, context={"request": response.wsgi_request}).data)


def test_an_older_run_whose_ranks_were_replaced_is_read_from_its_stored_report(
    project, members, done
):
    """A run finished when only the newest run kept its ranks: its report whole."""
    _run(project, unit="char")
    AgreementRun.objects.filter(pk=done.pk).update(report=done.report)
    AgreementDocumentRank.objects.filter(run=done).delete()
    response = _api(members).get(reverse("api-agreement-run", kwargs={"run_id": done.pk}))
    assert _body(response) == JSONRenderer().render(AgreementRunDetailSerializer(
        done, context={"request": response.wsgi_request}).data)


def test_an_older_run_whose_figures_are_gone_is_a_404_with_a_reason(
    project, members, client_for, done
):
    _run(project, unit="char")
    # Its ranks replaced by the newer run's (as when only the newest run kept them),
    # and its report stored without by_document.
    AgreementDocumentRank.objects.filter(run=done).delete()
    url = reverse("api-agreement-run", kwargs={"run_id": done.pk})
    response = _api(members).get(url)
    assert response.status_code == 404 and "no longer kept" in response.json()["detail"]
    download = reverse("agreement-report", kwargs={"slug": project.slug, "run_id": done.pk})
    assert client_for("manager").get(download).status_code == 404


def test_the_run_needs_only_its_summary_and_ranks(project, members, done):
    """What a writer must store for the readers: the summary and the rank rows."""
    report = {k: v for k, v in done.report.items() if k != "by_document"}
    AgreementRun.objects.filter(pk=done.pk).update(report=report)
    AgreementDocumentRank.objects.filter(run=done).update(position=None)  # as written
    body = _body(_api(members).get(reverse("api-agreement", kwargs={"slug": project.slug})))
    today = JSONRenderer().render(agreement_report_document(done, version=warrant_version()))
    assert json.loads(body) == json.loads(today)
    if connection.vendor == "postgresql":  # jsonb's key order: the same bytes too
        assert body == today
    else:  # SQLite: the keys as metrics.report builds them, the documents in their order
        written = json.loads(body)
        assert list(written)[list(written).index("overall") + 1] == "by_document"
        order = list(project.documents.order_by("position", "id")
                     .values_list("external_id", flat=True))
        assert list(written["by_document"]) == order


def test_positions_follow_the_stored_reports_keys(done):
    from annotator.services.agreement_reports import agreement_run_positions

    def placed():
        return list(AgreementDocumentRank.objects.filter(run=done).order_by("position")
                    .values_list("external_id", flat=True))

    written = placed()  # as the run wrote them
    assert written == list(done.report["by_document"])
    if connection.vendor == "postgresql":  # jsonb: by length in bytes, then bytewise
        assert written == sorted(EXTERNAL_IDS, key=lambda k: (len(k.encode()), k.encode()))
    AgreementDocumentRank.objects.filter(run=done).update(position=None)
    agreement_run_positions(run=done)  # as filled for a run that wrote none
    assert placed() == written


@pytest.mark.parametrize("indent", [None, 2, 4, "\t"])
@pytest.mark.parametrize("pairs", [[], [("a", {"x": [1, 2.5, None]})],
                                     [("é", {}), ("b\u2028", {"y": "z"}), ("c", [1])]])
def test_json_chunks_write_what_json_dumps_writes(indent, pairs):
    document = {"head": [1, {"k": "v"}], "lazy": None, "tail": {"t": True}}
    expected = json.dumps({**document, "lazy": dict(pairs)}, indent=indent,
                          ensure_ascii=False)
    encoder = json.JSONEncoder(indent=indent, ensure_ascii=False)
    lazy = {**document, "lazy": LazyObject(lambda: iter(pairs), empty=not pairs)}
    assert "".join(json_chunks(lazy, encoder, batch=1)) == expected
    nested = {"outer": {"lazy": LazyObject(lambda: iter(pairs), empty=not pairs)}}
    assert "".join(json_chunks(nested, encoder, batch=2)) == json.dumps(
        {"outer": {"lazy": dict(pairs)}}, indent=indent, ensure_ascii=False)


# --- Bounded work: queries grow with the batches, not the documents ----------------------


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        _body(client.get(url))
    return len(queries)


def test_queries_grow_only_with_the_batches(project, members, client_for, settings,
                                            monkeypatch):
    from tests.factories import ProjectFactory

    settings.WARRANT_AGREEMENT_CHUNK_DOCUMENTS = 4
    monkeypatch.setattr(agreement_report, "REPORT_BATCH", 5)
    small, big = project, ProjectFactory(slug="bigger")
    _build(small, [f"s{k}" for k in range(4)])  # one batch
    _build(big, [f"b{k}" for k in range(23)])  # five batches
    from annotator.models import Membership
    Membership.objects.create(project=big, user=members["viewer"], role="viewer")
    runs = {p.slug: _run(p) for p in (small, big)}
    counts = {}
    for p in (small, big):
        run = runs[p.slug]
        urls = {
            "api": reverse("api-agreement", kwargs={"slug": p.slug}),
            "run": reverse("api-agreement-run", kwargs={"run_id": run.pk}),
        }
        api = _api(members)
        _count(api, urls["api"])  # the first read places the ranks
        counts[p.slug] = {name: _count(api, url) for name, url in urls.items()}
        download = reverse("agreement-report", kwargs={"slug": p.slug, "run_id": run.pk})
        counts[p.slug]["download"] = _count(client_for("viewer"), download)
    for name in ("api", "run", "download"):
        assert counts["bigger"][name] - counts["sanctions"][name] == 5 - 1, counts


# --- Backup and restore -------------------------------------------------------------------


def test_backup_writes_the_whole_report_and_restore_ranks_every_run(
    project, members, done
):
    from annotator.services.backup import project_backup, project_restore

    older = done
    newest = _run(project, unit="char")  # both keep their ranks
    newest.report = reference_report(newest)
    out = io.BytesIO()
    project_backup(project, out)
    lines = [line for line in gzip.decompress(out.getvalue()).decode().splitlines()
             if '"kind": "agreement_run"' in line]
    assert len(lines) == 2
    for line, run in zip(lines, (older, newest), strict=True):
        record = json.loads(line)
        assert record["report"] == run.report  # every document's figures
        # Byte for byte what json.dumps(sort_keys=True) wrote of the stored report.
        assert line == json.dumps(record, ensure_ascii=False, sort_keys=True)

    restored = project_restore(io.BytesIO(out.getvalue()), slug="restored")
    runs = list(AgreementRun.objects.filter(project=restored).order_by("id"))
    # Each stored as a run stores it: the report without by_document, and its ranks.
    for run, before in zip(runs, (older, newest), strict=True):
        assert run.report == run.report_summary == before.report_summary
        assert AgreementDocumentRank.objects.filter(run=run).count() == len(EXTERNAL_IDS)
        assert full_report(run) == before.report


# --- The admin ----------------------------------------------------------------------------


def test_the_admin_reads_no_runs_report(client, project, members, done):
    """The admin's list and form of runs leave out the report (megabytes per run): the
    form shows the summary and links to the download."""
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    with CaptureQueriesContext(connection) as queries:
        listed = client.get(reverse("admin:annotator_agreementrun_changelist"))
        form = client.get(reverse("admin:annotator_agreementrun_change", args=[done.pk]))
    assert listed.status_code == 200 and form.status_code == 200
    sql = " ".join(q["sql"] for q in queries.captured_queries
                   if "annotator_agreementrun" in q["sql"])
    assert '"annotator_agreementrun"."report"' not in sql
    assert '"annotator_agreementrun"."report_summary"' in sql
    html = form.content.decode()
    download = reverse("agreement-report", kwargs={"slug": project.slug, "run_id": done.pk})
    assert f'href="{download}"' in html and "brief-10" not in html  # no document's figures
