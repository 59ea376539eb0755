"""Agreement that costs what changed (issue 12, point 7): chunk sums are stored and
reused while their submitted sets do not change; the report stays that of a full
reading, to 1e-12."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import numpy as np
import pytest
from django.utils import timezone

from annotator.metrics.report import agreement_figures, columns_of_documents
from annotator.models import AgreementChunk, AgreementRun, JobStatus, Span
from annotator.selectors.agreement import agreement_chunk_documents, agreement_data
from annotator.services import agreement as agreement_service
from annotator.services.agreement import agreement_run_execute, agreement_run_request
from annotator.services.annotations import (
    annotation_set_reopen,
    annotation_set_submit,
    span_delete,
)
from tests.agreement_helpers import full_report
from tests.metrics.test_pooling import assert_close
from tests.scale import build_project

pytestmark = pytest.mark.django_db


def full_reading(project):
    data = agreement_data(project=project)
    return agreement_figures(
        project.slug, data.documents, unit="token", annotators=data.annotators,
        n_resamples=agreement_service.BOOTSTRAP_RESAMPLES, seed=agreement_service.BOOTSTRAP_SEED,
    )


def run_now(project):
    run = agreement_run_request(project=project)
    return agreement_run_execute(run_id=run.pk)


@pytest.fixture
def built(settings):
    settings.WARRANT_AGREEMENT_CHUNK_DOCUMENTS = 3
    built = build_project(slug="incremental", documents=12, students=3, spans=8, relations=3,
                          words=120, with_jobs=False)
    # Students change their work below: grades not released, so their sets stay open
    # (released grades close a graded set to its student: issue 11).
    built.project.allow_reopen = True
    built.project.grades_released = False
    built.project.save(update_fields=["allow_reopen", "grades_released"])
    return built


def read_chunks(monkeypatch) -> list:
    """Record the chunks a run reads (the reading itself is real)."""
    seen = []
    real = agreement_service.agreement_chunk_columns

    def spy(*, project, plan, sets):
        seen.append(sets)
        return real(project=project, plan=plan, sets=sets)

    monkeypatch.setattr(agreement_service, "agreement_chunk_columns", spy)
    return seen


def test_a_second_run_reads_only_the_chunk_whose_sets_changed(built, monkeypatch):
    project = built.project
    first = run_now(project)
    assert first.status == JobStatus.DONE, first.error
    n_chunks = len(first.plan["chunks"])
    assert n_chunks >= 4
    assert AgreementChunk.objects.filter(project=project).count() == n_chunks
    assert_close(full_report(first), full_reading(project)[0])

    # Nothing changed: nothing is read again.
    seen = read_chunks(monkeypatch)
    again = run_now(project)
    assert seen == [] and again.data_version == first.data_version
    assert_close(full_report(again), full_report(first))

    # One student changes one brief: one chunk is read again.
    aset = built.sets[5]
    annotation_set_reopen(annotation_set=aset, expected_version=aset.version)
    aset.refresh_from_db()
    span = Span.objects.filter(annotation_set=aset).order_by("start").first()
    span_delete(span=span, expected_version=aset.version)
    aset.refresh_from_db()
    annotation_set_submit(annotation_set=aset, expected_version=aset.version)
    changed = run_now(project)
    assert changed.status == JobStatus.DONE, changed.error
    assert len(seen) == 1 and [aset.pk, aset.version] in seen[0]
    assert changed.data_version != first.data_version
    report, intervals = full_reading(project)
    assert_close(full_report(changed), report)
    assert_close(changed.intervals, intervals)
    # The document's figures did change: the test compares something that moved.
    doc = aset.document.external_id
    assert full_report(changed)["by_document"][doc] != full_report(first)["by_document"][doc]


def test_a_chunk_whose_sets_changed_under_a_running_plan_fails_the_run_visibly(built):
    project = built.project
    run = agreement_run_request(project=project)
    plan = agreement_service.agreement_plan(project=project, unit="token", chunk_documents=3)
    aset = built.sets[0]
    annotation_set_reopen(annotation_set=aset, expected_version=aset.version)
    for read in (
        partial(agreement_chunk_documents, project=project),
        partial(agreement_service.agreement_chunk_columns, project=project, plan=plan),
    ):
        with pytest.raises(ValueError, match="changed while the run was computed"):
            read(sets=plan["chunks"][0]["sets"])
    assert AgreementRun.objects.filter(pk=run.pk).exists()


def test_a_chunk_read_as_columns_holds_what_its_records_hold(built):
    """The workers read a chunk straight into arrays; the same chunk read as records
    (as the in-process reading does) and converted gives the same arrays."""
    project = built.project
    plan = agreement_service.agreement_plan(project=project, unit="token", chunk_documents=3)
    for chunk in plan["chunks"]:
        columns = agreement_service.agreement_chunk_columns(project=project, plan=plan,
                                                            sets=chunk["sets"])
        documents = agreement_chunk_documents(project=project, sets=chunk["sets"])
        at = {name: k for k, name in enumerate(plan["annotators"])}
        expected = columns_of_documents(
            documents, [sorted(at[n] for n in doc.work) for doc in documents],
            plan["annotators"], {name: k for k, name in enumerate(plan["labels"])},
            {name: k for k, name in enumerate(plan["types"])},
        )
        assert columns.doc_ids == expected.doc_ids and columns.texts == expected.texts
        assert [str(i) for i in columns.span_id] == list(expected.span_id)
        for name in ("set_doc", "set_annotator", "set_spans", "span_start", "span_end",
                     "span_label", "rel_set", "rel_source", "rel_target", "rel_type"):
            assert np.array_equal(getattr(columns, name), getattr(expected, name)), name
        assert len(columns.rel_set) > 0 and len(columns.span_start) > 0


def test_stale_chunks_are_forgotten(built):
    project = built.project
    run_now(project)
    stale = AgreementChunk.objects.create(project=project, key="0" * 64, sums=b"")
    AgreementChunk.objects.filter(project=project).update(
        used_at=timezone.now() - timedelta(days=2)
    )
    run_now(project)  # reuses (and touches) its chunks, forgets the unused one
    assert not AgreementChunk.objects.filter(pk=stale.pk).exists()
    assert AgreementChunk.objects.filter(project=project).count() >= 4


def test_the_ranks_come_from_the_chunks_figures_in_the_one_reading_order(built):
    """Each document's figures are computed with its chunk and copied into the run's
    ranks: the order of ``documents_by_disagreement`` of one reading, the same figures
    (to 1e-12), each with its document."""
    from annotator.metrics.report import document_disagreement, documents_by_disagreement
    from annotator.models import AgreementDocumentRank, Document

    project = built.project
    run = run_now(project)
    assert run.status == JobStatus.DONE, run.error
    report, _ = full_reading(project)
    rows = list(AgreementDocumentRank.objects.filter(run=run).order_by("rank"))
    assert [r.rank for r in rows] == list(range(1, len(rows) + 1))
    assert [r.external_id for r in rows] == documents_by_disagreement(report)
    pks = dict(Document.objects.filter(project=project).values_list("external_id", "pk"))
    for row in rows:
        figures = report["by_document"][row.external_id]
        assert_close(row.figures, figures)
        assert row.document_id == pks[row.external_id]
        assert_close([row.disagreement, row.alpha, row.span_f1, row.relation_f1],
                     [document_disagreement(figures), figures["krippendorff_alpha"]["value"],
                      figures["span_f1"]["exact"]["value"], figures["relation_f1"]["value"]])
    assert_close(run.report_summary, {k: v for k, v in report.items() if k != "by_document"})


@pytest.mark.parametrize("first", ["report", "ranks"])
def test_a_run_is_done_once_its_report_and_its_ranks_are_both_stored(built, first):
    """On the workers the last chunk queues the pooling and the documents' ranks as two
    tasks, which finish in either order (and may be delivered twice): the run is DONE
    when the second part is stored, with the report of one reading."""
    from annotator.models import AgreementDocumentRank

    project = built.project
    earlier = run_now(project)  # its chunks are stored: the parts read them
    run = agreement_run_request(project=project)
    # As agreement_chunk_execute leaves it once its last chunk is stored.
    AgreementRun.objects.filter(pk=run.pk).update(
        status=JobStatus.RUNNING, stage="pooling", started_at=timezone.now(),
        plan=AgreementRun.objects.get(pk=earlier.pk).plan)
    parts = {
        "report": partial(agreement_service.agreement_run_pool, run_id=run.pk,
                          ranks_queued=True),
        "ranks": partial(agreement_service.agreement_run_rank_documents, run_id=run.pk),
    }
    second = "ranks" if first == "report" else "report"
    parts[first]()
    parts[first]()  # delivered twice
    halfway = AgreementRun.objects.get(pk=run.pk)
    assert (halfway.status, halfway.stage) == (
        JobStatus.RUNNING, "reported" if first == "report" else "ranked")
    assert (halfway.report is None) == (first == "ranks")
    assert AgreementDocumentRank.objects.filter(run=run).exists() == (first == "ranks")
    parts[second]()
    done = AgreementRun.objects.get(pk=run.pk)
    assert (done.status, done.stage, done.progress) == (JobStatus.DONE, "", 1.0)
    assert set(done.timings) == {"load", "report", "intervals", "save", "total"}
    report, intervals = full_reading(project)
    assert_close(full_report(done), report)
    assert_close(done.intervals, intervals)
    parts[second]()  # a late twin changes nothing
    assert AgreementRun.objects.get(pk=run.pk).finished_at == done.finished_at
    assert AgreementDocumentRank.objects.filter(run=run).count() == report["documents"]


def test_a_chunk_is_stored_once_and_read_back_byte_for_byte(built):
    """Stored apart from its statement (and read back as a binary result on PostgreSQL):
    every byte value survives, a twin stored later leaves the first in place, and only
    stored chunks are read, in the order asked."""
    project_id = built.project.pk
    first = bytes(range(256)) * 4000 + b"\x00\\x'\""  # every byte, quotes, escapes
    agreement_service._store_chunk(project_id, "k-one", 7, first, 0.5)
    agreement_service._store_chunk(project_id, "k-one", 9, b"a twin", 0.1)
    agreement_service._store_chunk(project_id, "k-two", 1, b"", 0.0)
    stored = AgreementChunk.objects.get(project_id=project_id, key="k-one")
    assert (bytes(stored.sums), stored.documents, stored.seconds) == (first, 7, 0.5)
    assert stored.created_at == stored.used_at is not None
    read = list(agreement_service._stored_chunks(project_id, ["k-two", "missing", "k-one"]))
    assert read == [("k-two", b""), ("k-one", first)]
