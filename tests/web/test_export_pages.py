"""The export page, its progress partial and downloads, for every actor."""

import csv
import io
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from annotator.models import ExportJob, JobStatus
from annotator.services.export_jobs import export_job_execute
from tests.factories import ProjectFactory
from tests.formats.export_samples import import_sample

ALLOWED = {"manager", "curator", "viewer"}
# What a refused actor gets: an annotator knows the project (403), an outsider
# must not learn it exists (404), an anonymous visitor is sent to log in.
REFUSED = {"annotator": 403, "non_member": 404, "anonymous": 302}
ACTORS = sorted(ALLOWED) + sorted(REFUSED)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def done_job(project, members):
    import_sample(project)
    job = ExportJob.objects.create(project=project, format="jsonl", requested_by=members["viewer"])
    return export_job_execute(job_id=job.pk)


def url(name, project, job=None):
    kwargs = {"slug": project.slug}
    if job is not None:
        kwargs["job_id"] = job.pk
    return reverse(name, kwargs=kwargs)


def assert_refused(response, actor):
    assert response.status_code == REFUSED[actor]
    if actor == "anonymous":
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("actor", ACTORS)
def test_the_export_page_is_shown_to_those_allowed_to_export(client_for, project, actor):
    response = client_for(actor).get(url("exports", project))
    if actor in ALLOWED:
        assert response.status_code == 200
        html = response.content.decode()
        assert 'name="format"' in html and 'value="hf"' in html and 'value="aif"' in html
        assert 'name="scope"' in html and 'value="gold"' in html
        assert f'action="{url("exports", project)}"' in html
    else:
        assert_refused(response, actor)


@pytest.mark.parametrize("actor", ACTORS)
def test_starting_an_export_builds_a_job_for_allowed_actors_only(
    client_for, project, actor, django_capture_on_commit_callbacks
):
    import_sample(project)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(actor).post(url("exports", project),
                                          {"format": "csv", "scope": "gold"})
    if actor in ALLOWED:
        assert response.status_code == 302
        assert response["Location"] == url("exports", project)
        job = ExportJob.objects.get()
        assert (job.format, job.scope, job.requested_by.username) == ("csv", "gold", actor)
        assert job.status == JobStatus.DONE, job.error
        page = client_for(actor).get(url("exports", project)).content.decode()
        assert url("export-download", project, job) in page
    else:
        assert_refused(response, actor)
        assert not ExportJob.objects.exists()


def test_a_csv_export_downloads_as_a_zip_of_spans_and_relations(
    client_for, project, django_capture_on_commit_callbacks
):
    import_sample(project)
    with django_capture_on_commit_callbacks(execute=True):
        client_for("manager").post(url("exports", project), {"format": "csv", "scope": "gold"})
    job = ExportJob.objects.get()
    response = client_for("manager").get(url("export-download", project, job))
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('.zip"')
    with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))) as zf:
        assert sorted(zf.namelist()) == ["relations.csv", "spans.csv"]
        # the gold's 6 spans and 4 relations of the sample
        rows = {name: list(csv.DictReader(io.StringIO(zf.read(name).decode())))
                for name in zf.namelist()}
    assert (len(rows["spans.csv"]), len(rows["relations.csv"])) == (6, 4)


def test_an_invalid_form_is_shown_again_with_its_error(client_for, project):
    response = client_for("manager").post(url("exports", project), {"format": "xml"})
    assert response.status_code == 400
    assert not ExportJob.objects.exists()
    assert "Select a valid choice" in response.content.decode()


@pytest.mark.parametrize("actor", ACTORS)
def test_downloads_are_served_only_to_those_allowed_to_export(
    client_for, project, done_job, media_root, actor
):
    response = client_for(actor).get(url("export-download", project, done_job))
    if actor in ALLOWED:
        assert response.status_code == 200
        body = b"".join(response.streaming_content)
        assert body == (Path(media_root) / done_job.file.name).read_bytes()
        assert body.count(b"\n") == 3
        assert "attachment" in response["Content-Disposition"]
        assert "sanctions-jsonl-both-" in response["Content-Disposition"]
    else:
        assert_refused(response, actor)


@pytest.mark.parametrize("actor", ACTORS)
def test_the_progress_partial_follows_the_permission_matrix(client_for, project, members,
                                                             actor):
    # The viewer's own job: one sees one's own jobs, managers and curators every job.
    job = ExportJob.objects.create(project=project, format="jsonl", status=JobStatus.RUNNING,
                                   progress=0.42, requested_by=members["viewer"])
    response = client_for(actor).get(url("export-progress", project, job))
    if actor in ALLOWED:
        assert response.status_code == 200
        html = response.content.decode()
        assert html.lstrip().startswith(f'<tr id="export-job-{job.pk}"')
        assert 'hx-trigger="every 1s"' in html and "42%" in html
    else:
        assert_refused(response, actor)


def test_polling_stops_with_286_once_the_job_is_done(client_for, project, done_job):
    response = client_for("manager").get(url("export-progress", project, done_job))
    assert response.status_code == 286
    html = response.content.decode()
    assert "hx-trigger" not in html
    assert url("export-download", project, done_job) in html


def test_polling_stops_when_the_job_failed_and_shows_the_error(client_for, project):
    job = ExportJob.objects.create(project=project, format="csv", status=JobStatus.FAILED,
                                   error="ValueError: boom")
    response = client_for("curator").get(url("export-progress", project, job))
    assert response.status_code == 286
    assert "ValueError: boom" in response.content.decode()
    assert client_for("curator").get(url("export-download", project, job)).status_code == 404


def test_a_job_of_another_project_is_not_found(client_for, project, members):
    other = ProjectFactory(slug="other")
    import_sample(other)
    job = export_job_execute(
        job_id=ExportJob.objects.create(project=other, format="jsonl",
                                        requested_by=members["manager"]).pk
    )
    assert job.status == JobStatus.DONE
    client = client_for("manager")  # a manager of "sanctions", not of "other"
    assert client.get(url("export-download", project, job)).status_code == 404
    assert client.get(url("export-progress", project, job)).status_code == 404
    # Even a member of both projects must use the job's own project in the URL.
    other.memberships.create(user=members["manager"], role="manager")
    assert client.get(url("export-download", project, job)).status_code == 404
    assert client.get(url("export-download", other, job)).status_code == 200


def test_an_expired_export_is_no_longer_served(client_for, project, done_job):
    ExportJob.objects.filter(pk=done_job.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    client = client_for("manager")
    assert client.get(url("export-download", project, done_job)).status_code == 404
    assert "expired" in client.get(url("exports", project)).content.decode()


def test_the_page_lists_pending_jobs_with_polling_and_finished_ones_without(
    client_for, project, done_job
):
    pending = ExportJob.objects.create(project=project, format="hf",
                                       requested_by=done_job.requested_by)
    html = client_for("viewer").get(url("exports", project)).content.decode()
    assert f'hx-get="{url("export-progress", project, pending)}"' in html
    assert f'hx-get="{url("export-progress", project, done_job)}"' not in html
    assert html.count('hx-trigger="every 1s"') == 1
