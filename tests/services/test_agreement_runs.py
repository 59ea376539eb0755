"""Agreement runs as rows: reading the data, requesting, computing, failing, coalescing."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from annotator.metrics.report import build_report
from annotator.models import AgreementRun, AnnotationSet, JobStatus, Span
from annotator.selectors.agreement import (
    agreement_data,
    agreement_data_version,
    agreement_document_comparison,
)
from annotator.services.agreement import (
    MAX_ATTEMPTS,
    agreement_after_submission,
    agreement_run_execute,
    agreement_run_request,
)
from annotator.services.errors import WarrantError
from tests.agreement_helpers import annotate, annotated_project, celery_broker, full_report
from tests.factories import DocumentFactory

pytestmark = pytest.mark.django_db

DESIGN_TOP_KEYS = {"project", "unit", "documents", "annotators", "overall", "by_document"}
DESIGN_FIGURE_KEYS = {
    "krippendorff_alpha",
    "cohen_kappa",
    "fleiss_kappa",
    "unitizing_alpha",
    "span_f1",
    "relation_f1",
}


def _done_run(project, **kwargs) -> AgreementRun:
    run = agreement_run_request(project=project, **kwargs)
    return agreement_run_execute(run_id=run.pk)


# --- Reading the data -------------------------------------------------------------------


def test_only_submitted_sets_are_read_as_metrics_records(project):
    annotated_project(project)
    data = agreement_data(project=project)
    assert [d.id for d in data.documents] == ["brief-1", "brief-2"]
    assert data.annotators == ["alice", "bob"]  # carol has not submitted
    first = data.documents[0]
    assert sorted(first.work) == ["alice", "bob"]
    alice = first.work["alice"]
    assert [(s.start, s.end, s.label) for s in alice.spans] == [
        (0, 15, "Claim"),
        (16, 36, "Reason"),
        (37, 46, "Evidence"),
    ]
    by_id = {s.id: s for s in alice.spans}
    assert {(by_id[r.source].label, by_id[r.target].label, r.type) for r in alice.relations} == {
        ("Reason", "Claim", "supports"),
        ("Evidence", "Reason", "evidence_for"),
    }
    assert data.document_pks["brief-1"] == project.documents.get(external_id="brief-1").pk


def test_a_subset_of_documents_and_annotators_is_read(project):
    annotated_project(project)
    data = agreement_data(project=project, documents=["brief-2"], annotators=["alice"])
    assert [d.id for d in data.documents] == ["brief-2"]
    assert list(data.documents[0].work) == ["alice"]


def test_loading_takes_the_same_number_of_queries_whatever_the_size(project):
    annotated_project(project, documents=1)
    with CaptureQueriesContext(connection) as small:
        agreement_data(project=project)
    for k in range(2, 8):
        doc = DocumentFactory(project=project, external_id=f"more-{k}")
        annotate(project, doc, "alice", [(0, 5, "Claim")])
        annotate(project, doc, "dave", [(0, 5, "Claim"), (6, 9, "Reason")], [(1, 0, "supports")])
    with CaptureQueriesContext(connection) as large:
        agreement_data(project=project)
    assert len(large.captured_queries) == len(small.captured_queries) <= 8


def test_data_version_changes_with_a_set_version_and_only_then(project):
    annotated_project(project)
    before = agreement_data_version(project=project)
    assert agreement_data(project=project).data_version == before
    assert agreement_data_version(project=project) == before
    aset = AnnotationSet.objects.get(annotator__username="bob", document__external_id="brief-1")
    aset.version += 1
    aset.save()
    assert agreement_data_version(project=project) != before


def test_the_comparison_marks_where_annotators_disagree(project):
    docs = annotated_project(project)
    comparison = agreement_document_comparison(project=project, document=docs[0])
    assert comparison.annotators == ["alice", "bob"]
    [reason] = comparison.disagreements
    assert (reason.start, reason.end) == (16, 36)
    assert reason.labels == {"alice": ("Reason",), "bob": ("Evidence",)}
    assert agreement_document_comparison(project=project, document=docs[1]).disagreements == []


# --- Requesting runs --------------------------------------------------------------------


def test_a_request_creates_a_pending_run_and_queues_it_once_committed(
    project, members, django_capture_on_commit_callbacks
):
    annotated_project(project)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run = agreement_run_request(project=project, requested_by=members["manager"])
    assert run.status == JobStatus.PENDING
    assert run.parameters == {"unit": "token", "documents": None, "annotators": None}
    assert len(callbacks) == 1  # nothing is queued before the row is committed
    callbacks[0]()  # the embedded mode: the task runs in-process
    run.refresh_from_db()
    assert run.status == JobStatus.DONE


def test_a_second_request_while_one_is_pending_returns_the_pending_run(
    project, django_capture_on_commit_callbacks
):
    annotated_project(project)
    with django_capture_on_commit_callbacks() as callbacks:
        first = agreement_run_request(project=project)
        second = agreement_run_request(project=project)
        automatic = agreement_run_request(project=project, unit="char", automatic=True)
    assert first.pk == second.pk == automatic.pk
    assert len(callbacks) == 1
    assert AgreementRun.objects.filter(project=project).count() == 1


@pytest.mark.parametrize("unit", ["char", "token"])
def test_a_manual_request_takes_over_a_pending_automatic_run_and_starts_it_now(
    project, members, settings, django_capture_on_commit_callbacks, unit
):
    settings.WARRANT_AGREEMENT_COALESCE_SECONDS = 30
    annotated_project(project)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        automatic = agreement_run_request(project=project, automatic=True)
        manual = agreement_run_request(project=project, requested_by=members["manager"],
                                       unit=unit)
    assert manual.pk == automatic.pk
    manual.refresh_from_db()
    assert (manual.automatic, manual.parameters["unit"]) == (False, unit)
    assert manual.requested_by == members["manager"]
    # The automatic run waits out its coalescing window; the person's request does not.
    assert [c.args for c in callbacks] == [(manual.pk, 30), (manual.pk,)]
    for callback in callbacks:  # the embedded mode: both messages run it; the second is a no-op
        callback()
    manual.refresh_from_db()
    assert (manual.status, manual.attempts) == (JobStatus.DONE, 1)


def test_a_different_manual_request_while_another_waits_is_refused(project):
    annotated_project(project)
    agreement_run_request(project=project, unit="token")
    with pytest.raises(WarrantError, match="waiting to start"):
        agreement_run_request(project=project, unit="char")
    assert AgreementRun.objects.count() == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"unit": "word"}, "unknown unit 'word'"),
        ({"documents": ["brief-1", "nope"]}, "no such document in sanctions: nope"),
        ({"documents": []}, "subset of documents is empty"),
        ({"annotators": ["carol"]}, "no submitted annotation set in sanctions by: carol"),
    ],
)
def test_bad_parameters_are_refused_and_nothing_is_written(project, kwargs, message):
    annotated_project(project)
    with pytest.raises(WarrantError, match=message):
        agreement_run_request(project=project, **kwargs)
    assert not AgreementRun.objects.exists()


def test_after_submission_starts_one_automatic_run_for_many_submissions(
    project, django_capture_on_commit_callbacks
):
    annotated_project(project)
    with django_capture_on_commit_callbacks() as callbacks:
        runs = {agreement_after_submission(project_id=project.pk).pk for _ in range(5)}
    assert len(runs) == 1 and len(callbacks) == 1
    run = AgreementRun.objects.get()
    assert run.automatic and run.requested_by is None


def test_after_submission_keeps_the_unit_of_the_latest_run(project):
    annotated_project(project)
    _done_run(project, unit="char")
    run = agreement_after_submission(project_id=project.pk)
    assert run.automatic and run.parameters["unit"] == "char"


def test_after_submission_never_raises(db):
    assert agreement_after_submission(project_id=987654) is None


def test_an_unreachable_broker_fails_the_run_visibly(project, django_capture_on_commit_callbacks):
    annotated_project(project)
    # Port 1 refuses connections: a broker that is down.
    with celery_broker("redis://127.0.0.1:1/0"), django_capture_on_commit_callbacks(
        execute=True
    ):
        run = agreement_run_request(project=project)
    run.refresh_from_db()
    assert run.status == JobStatus.FAILED
    assert "could not queue the run" in run.error
    assert run.report is None  # not computed in the request instead


# --- Computing runs ---------------------------------------------------------------------


def test_a_run_stores_the_report_of_design_md_with_intervals_and_timings(project, members):
    annotated_project(project)
    run = _done_run(project, requested_by=members["manager"])
    assert run.status == JobStatus.DONE
    assert (run.progress, run.attempts, run.error) == (1.0, 1, "")
    assert run.started_at <= run.finished_at
    report = full_report(run)  # the stored report without by_document, and the ranks
    assert set(report) == DESIGN_TOP_KEYS
    assert set(report["overall"]) == DESIGN_FIGURE_KEYS
    assert set(report["overall"]["span_f1"]) == {"exact", "overlap", "jaccard50"}
    assert report["project"] == "sanctions"
    assert report["annotators"] == ["alice", "bob"]
    assert report["documents"] == 2
    assert set(report["by_document"]) == {"brief-1", "brief-2"}
    assert run.report == run.report_summary == {
        key: value for key, value in report.items() if key != "by_document"}
    assert set(run.timings) == {"load", "report", "intervals", "save", "total"}
    assert run.intervals["confidence"] == 0.95
    assert "krippendorff_alpha" in run.intervals["intervals"]
    assert run.data_version == agreement_data_version(project=project)
    # The report is the pure engine's, on the same data.
    data = agreement_data(project=project)
    assert report == build_report("sanctions", data.documents, unit="token",
                                  annotators=data.annotators)


def test_a_run_over_a_subset_covers_only_it(project):
    annotated_project(project)
    run = _done_run(project, documents=["brief-2"], annotators=["alice", "bob"], unit="char")
    report = full_report(run)
    assert report["unit"] == "char"
    assert list(report["by_document"]) == ["brief-2"]
    # On brief-2 the two agree on every span.
    assert report["overall"]["span_f1"]["exact"]["value"] == 1.0


def test_a_finished_run_is_not_computed_again(project):
    annotated_project(project)
    run = _done_run(project)
    again = agreement_run_execute(run_id=run.pk)
    assert (again.attempts, again.finished_at, again.report) == (
        1,
        run.finished_at,
        run.report,
    )


def test_a_run_left_running_by_a_dead_worker_is_computed_again_with_the_same_report(project):
    annotated_project(project)
    reference = full_report(_done_run(project))
    run = AgreementRun.objects.create(
        project=project, status=JobStatus.RUNNING, attempts=1, parameters={"unit": "token"}
    )
    run = agreement_run_execute(run_id=run.pk)
    assert (run.status, run.attempts) == (JobStatus.DONE, 2)
    assert full_report(run) == reference


def test_a_run_whose_worker_died_every_time_is_given_up(project):
    run = AgreementRun.objects.create(
        project=project, status=JobStatus.RUNNING, attempts=MAX_ATTEMPTS, parameters={}
    )
    run = agreement_run_execute(run_id=run.pk)
    assert run.status == JobStatus.FAILED
    assert f"gave up after {MAX_ATTEMPTS} attempts" in run.error
    assert run.attempts == MAX_ATTEMPTS


def test_an_error_while_computing_is_stored_on_the_row(project):
    docs = annotated_project(project)
    aset = AnnotationSet.objects.get(document=docs[0], annotator__username="alice")
    label = project.span_labels.get(name="Claim")
    Span.objects.create(annotation_set=aset, label=label, start=0, end=10_000)  # past the text
    run = _done_run(project)
    assert run.status == JobStatus.FAILED
    assert "outside the text" in run.error
    assert run.finished_at is not None and run.report is None


def test_a_deleted_run_is_nothing_to_do(db):
    assert agreement_run_execute(run_id=123456) is None


def test_an_empty_project_gives_a_report_with_no_documents(project):
    run = _done_run(project)
    assert run.status == JobStatus.DONE
    assert full_report(run)["documents"] == 0 and full_report(run)["by_document"] == {}
    assert run.report["overall"]["krippendorff_alpha"]["value"] is None
