"""Big uploads are imported by the worker with a progress bar, atomically (issue 12,
points 3 and 8). Here the job runs in-process (the test settings' eager mode);
tests/worker/test_import_worker.py runs it on a real worker."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from annotator.models import Document, ImportJob, JobStatus
from annotator.services.import_jobs import import_folder


def jsonl(n: int, *, bad_at: int | None = None) -> bytes:
    lines = []
    for i in range(n):
        text = f"Brief {i}. Sanctions work because exports fell by {i} percent."
        record = {"id": f"b{i}", "title": f"Brief {i}", "text": text,
                  "annotations": [{"annotator": "annotator", "status": "submitted",
                                   "spans": [{"id": "T1", "start": 0, "end": 8,
                                              "label": "Claim"}], "relations": []}]}
        if i == bad_at:
            record["annotations"][0]["spans"][0]["end"] = 10**6
        lines.append(json.dumps(record))
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def small_inline_limit(settings, tmp_path):
    settings.WARRANT_IMPORT_INLINE_BYTES = 1000
    settings.MEDIA_ROOT = str(tmp_path)


def post(client, project, data: bytes, name="briefs.jsonl"):
    return client.post(
        reverse("document-import", kwargs={"slug": project.slug}),
        {"files": [SimpleUploadedFile(name, data)], "clean": "on", "annotator": ""},
    )


def test_a_big_upload_becomes_a_job_that_imports_it_and_reports(
    client_for, project, members, small_inline_limit, django_capture_on_commit_callbacks
):
    client = client_for("manager")
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, project, jsonl(30))
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("import-job",
                                           kwargs={"slug": project.slug, "job_id": job.pk})
    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.error
    assert (job.documents, job.progress, job.attempts) == (30, 1.0, 1)
    assert Document.objects.filter(project=project).count() == 30
    assert not import_folder(job.pk).exists()  # the stored upload is gone
    page = client.get(response["Location"]).content.decode()
    assert "Imported 30 document" in page or "30 document" in page
    assert "hx-trigger" not in page  # done: no polling


def test_a_bad_record_anywhere_imports_nothing_and_the_job_says_why(
    client_for, project, members, small_inline_limit, django_capture_on_commit_callbacks
):
    client = client_for("manager")
    with django_capture_on_commit_callbacks(execute=True):
        post(client, project, jsonl(30, bad_at=27))
    job = ImportJob.objects.get()
    assert job.status == JobStatus.FAILED
    assert job.error.startswith("briefs.jsonl:28: ")
    assert not Document.objects.filter(project=project).exists()
    page = client.get(reverse("import-job", kwargs={"slug": project.slug, "job_id": job.pk}))
    assert "Nothing was imported." in page.content.decode()


def test_the_page_polls_while_the_job_waits_and_stops_with_286(
    client_for, project, members, small_inline_limit
):
    client = client_for("manager")
    post(client, project, jsonl(30))  # not committed in this test: the job waits
    job = ImportJob.objects.get()
    url = reverse("import-job", kwargs={"slug": project.slug, "job_id": job.pk})
    waiting = client.get(url, HTTP_HX_REQUEST="true")
    assert waiting.status_code == 200 and 'hx-trigger="every 1s"' in waiting.content.decode()
    ImportJob.objects.filter(pk=job.pk).update(status=JobStatus.DONE, report=["Imported 0."])
    assert client.get(url, HTTP_HX_REQUEST="true").status_code == 286


def test_a_small_upload_is_still_imported_in_the_request(client_for, project, members,
                                                         small_inline_limit):
    response = post(client_for("manager"), project, jsonl(1))
    assert response.status_code == 302 and response["Location"].endswith(f"/p/{project.slug}/")
    assert not ImportJob.objects.exists()
    assert Document.objects.filter(project=project).count() == 1


@pytest.mark.parametrize(
    ("actor", "status"),
    [("manager", 200), ("curator", 403), ("annotator", 403), ("viewer", 403),
     ("non_member", 404), ("anonymous", 302)],
)
def test_the_job_page_per_actor(client_for, project, members, small_inline_limit, actor,
                                status):
    job = ImportJob.objects.create(project=project, status=JobStatus.DONE, report=["Done."])
    response = client_for(actor).get(
        reverse("import-job", kwargs={"slug": project.slug, "job_id": job.pk})
    )
    assert response.status_code == status


def test_a_job_of_another_project_is_404(client_for, project, members):
    from tests.factories import ProjectFactory

    other = ProjectFactory()
    job = ImportJob.objects.create(project=other)
    response = client_for("manager").get(
        reverse("import-job", kwargs={"slug": project.slug, "job_id": job.pk})
    )
    assert response.status_code == 404


@pytest.mark.django_db(transaction=True)  # the reading phase writes the row outside a transaction
def test_the_job_row_records_progress_rising_while_the_file_is_read(
    project, members, settings, tmp_path, monkeypatch
):
    from django.db import connection

    from annotator.formats import readers
    from annotator.services import import_jobs

    settings.MEDIA_ROOT = str(tmp_path)
    monkeypatch.setattr(readers, "PROGRESS_INTERVAL", 0.0)
    monkeypatch.setattr(import_jobs, "PROGRESS_WRITE_INTERVAL", 0.0)
    written: list[float] = []

    def record_progress(execute, sql, params, many, context):
        # The progress alone, as written outside the import's transaction (the
        # writing phase's goes through a connection of its own).
        if sql.startswith(f'UPDATE "{ImportJob._meta.db_table}" SET "progress" = %s WHERE'):
            written.append(params[0])
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record_progress):
        job = import_jobs.import_job_request(project=project, files=[("b.jsonl", jsonl(200))],
                                             requested_by=members["manager"])
    job.refresh_from_db()
    assert (job.status, job.documents, job.progress) == (JobStatus.DONE, 200, 1.0), job.error
    # The bar moves through the reading phase, line by line here (throttled in use),
    # up to the writing phase's start.
    reading, end = written[:-1], written[-1]
    assert end == import_jobs.READ_SHARE
    assert len(set(reading)) >= 150 and reading == sorted(reading)
    assert 0 < reading[len(reading) // 2] < import_jobs.READ_SHARE
