"""Export jobs are rows: queued on commit, built once, failed without a file, purged."""

import hashlib
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from annotator.models import ExportJob, JobStatus, Membership
from annotator.services import exports
from annotator.services.errors import WarrantError
from annotator.services.export_jobs import (
    EXPORT_RETENTION,
    export_job_execute,
    export_job_request,
    export_jobs_purge_expired,
)
from annotator.tasks import export_job_task
from tests.factories import UserFactory
from tests.formats.export_samples import import_sample


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def export_files(media_root) -> list[str]:
    folder = Path(media_root) / "exports"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


@pytest.fixture
def sample(project):
    import_sample(project)
    return project


def requester(project):
    """A manager of ``project``: a job is built for someone, and holds what they may read."""
    user = UserFactory(username="job-requester")
    Membership.objects.get_or_create(project=project, user=user, defaults={"role": "manager"})
    return user


def test_the_task_is_queued_only_when_the_row_is_committed(
    sample, members, django_capture_on_commit_callbacks, monkeypatch
):
    queued = []
    monkeypatch.setattr(
        export_job_task, "apply_async", lambda args, kwargs=None, **options: queued.append(args[0])
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = export_job_request(project=sample, requested_by=members["curator"],
                                 format="jsonl", scope="both")
        assert queued == []
    assert job.status == JobStatus.PENDING
    assert len(callbacks) == 1
    callbacks[0]()
    assert queued == [job.pk]


def test_a_queued_job_runs_in_process_and_records_its_file(
    sample, members, django_capture_on_commit_callbacks, media_root
):
    with django_capture_on_commit_callbacks(execute=True):
        job = export_job_request(project=sample, requested_by=members["manager"],
                                 format="brat", scope="both")
    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.error
    # 10 spans: bob's set (1 span) is in progress, so brat leaves it out
    assert (job.progress, job.documents, job.spans) == (1.0, 3, 10)
    path = Path(media_root) / job.file.name
    assert job.file.name == f"exports/sanctions-{job.pk}-brat-both.zip"
    assert job.size == path.stat().st_size
    assert job.md5 == hashlib.md5(path.read_bytes()).hexdigest()
    assert job.expires_at == job.finished_at + EXPORT_RETENTION
    assert job.started_at <= job.finished_at
    with zipfile.ZipFile(path) as zf:
        assert "gold/brief-1.ann" in zf.namelist()
    assert export_files(media_root) == [path.name]  # no temporary file left


@pytest.mark.parametrize("fmt", sorted(exports.EXPORT_FORMATS))
def test_every_format_can_be_built_as_a_job(sample, fmt, media_root):
    job = ExportJob.objects.create(project=sample, requested_by=requester(sample), format=fmt,
                                   scope="both")
    job = export_job_execute(job_id=job.pk)
    assert job.status == JobStatus.DONE, job.error
    assert job.file.name.endswith(exports.EXPORT_FORMATS[fmt].suffix)
    assert export_files(media_root) == [Path(job.file.name).name]
    # bob's set in the sample is still in progress: only JSONL carries it.
    if fmt == "jsonl":
        assert job.notes == ""
    else:
        assert job.notes.startswith("left out 1 unfinished annotation set")


def test_running_a_finished_job_again_changes_nothing(sample, media_root):
    job = ExportJob.objects.create(project=sample, requested_by=requester(sample),
                                   format="csv", scope="gold")
    done = export_job_execute(job_id=job.pk)
    before = (done.finished_at, done.md5, done.size, done.file.name)
    mtime = (Path(media_root) / done.file.name).stat().st_mtime_ns
    again = export_job_execute(job_id=job.pk)
    assert (again.finished_at, again.md5, again.size, again.file.name) == before
    assert (Path(media_root) / done.file.name).stat().st_mtime_ns == mtime
    assert export_files(media_root) == [Path(done.file.name).name]


def test_a_job_whose_worker_died_while_running_is_built_again(sample, media_root):
    job = ExportJob.objects.create(project=sample, requested_by=requester(sample),
                                   format="jsonl", status=JobStatus.RUNNING,
                                   progress=0.4)
    job = export_job_execute(job_id=job.pk)
    assert job.status == JobStatus.DONE
    assert export_files(media_root) == [Path(job.file.name).name]


@pytest.mark.parametrize("fmt", ["conll", "aif", "csv"])  # a folder, zip members, one file
def test_a_failure_is_recorded_and_leaves_no_file(sample, media_root, monkeypatch, fmt):
    spec = exports.EXPORT_FORMATS[fmt]

    def broken(records, where, ctx):
        for n, _record in enumerate(records):
            if spec.kind == exports.FOLDER:
                (where / f"part-{n}.txt").write_text("half")
            elif spec.kind == exports.MEMBERS:
                where.write_text(f"part-{n}.txt", "half")
            else:
                where.write("half")
            if n == 1:
                raise RuntimeError("disk on fire")

    monkeypatch.setitem(exports.EXPORT_FORMATS, fmt, spec.__class__(
        spec.name, spec.description, spec.kind, broken, spec.suffix))
    job = ExportJob.objects.create(project=sample, requested_by=requester(sample), format=fmt,
                                   scope="both")
    job = export_job_execute(job_id=job.pk)
    assert job.status == JobStatus.FAILED
    assert job.error == "RuntimeError: disk on fire"
    assert (job.file.name, job.size, job.md5) == ("", 0, "")
    assert job.finished_at is not None and job.expires_at is None
    assert export_files(media_root) == []  # neither the file nor a temporary file or folder


def test_a_failed_job_is_not_retried(sample, media_root):
    job = ExportJob.objects.create(project=sample, requested_by=requester(sample),
                                   format="jsonl", status=JobStatus.FAILED,
                                   error="earlier")
    assert export_job_execute(job_id=job.pk).error == "earlier"
    assert export_files(media_root) == []


def test_an_unreachable_broker_fails_the_job_visibly(
    sample, django_capture_on_commit_callbacks, monkeypatch
):
    def refuse(args, **options):
        raise ConnectionRefusedError("connection refused")

    monkeypatch.setattr(export_job_task, "apply_async", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        job = export_job_request(project=sample, requested_by=requester(sample), format="jsonl")
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "worker queue is unreachable" in job.error


@pytest.mark.parametrize(("fmt", "scope"), [("xml", "both"), ("jsonl", "everyone")])
def test_unknown_formats_and_scopes_are_refused_before_a_row_exists(sample, fmt, scope):
    with pytest.raises(WarrantError):
        export_job_request(project=sample, requested_by=requester(sample), format=fmt, scope=scope)
    assert not ExportJob.objects.exists()


def test_expired_jobs_lose_their_file_and_row(sample, media_root):
    by = requester(sample)
    old = export_job_execute(job_id=ExportJob.objects.create(project=sample, requested_by=by,
                                                             format="csv").pk)
    fresh = export_job_execute(job_id=ExportJob.objects.create(project=sample, requested_by=by,
                                                               format="jsonl").pk)
    failed = ExportJob.objects.create(project=sample, requested_by=by, format="csv",
                                      status=JobStatus.FAILED,
                                      finished_at=timezone.now() - EXPORT_RETENTION * 2)
    ExportJob.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert export_jobs_purge_expired() == 2
    assert list(ExportJob.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert export_files(media_root) == [Path(fresh.file.name).name]
    assert not ExportJob.objects.filter(pk=failed.pk).exists()


@pytest.mark.parametrize("scope", ["gold", "annotators", "both"])
def test_the_export_reader_gives_the_same_records_as_document_records(project, scope):
    from annotator.selectors.export_records import export_document_records
    from tests.services.reference_records import document_records

    import_sample(project)
    fast = list(export_document_records(project, scope=scope, batch_size=2))
    assert len(fast) == 3
    assert fast == list(document_records(project, scope=scope))


@pytest.mark.parametrize(
    ("fmt", "name"),
    [("jsonl", "out.jsonl"), ("csv", "out.zip"), ("csv", "out"), ("hf", "out"),
     ("brat", "out.zip"), ("conll", "out"), ("aif", "out.zip")],
)
def test_the_export_command_writes_every_format(sample, tmp_path, fmt, name):
    from io import StringIO

    from django.core.management import call_command

    stdout = StringIO()
    call_command("export", sample.slug, "--format", fmt, "-o", str(tmp_path / name),
                 "--scope", "gold", stdout=stdout)
    if fmt == "conll":  # a format of spans only: it says so
        assert "wrote 3 document(s), 6 span(s), 0 relation(s)" in stdout.getvalue()
        assert "left out 4 relation(s)" in stdout.getvalue()
    else:
        assert "wrote 3 document(s), 6 span(s), 4 relation(s)" in stdout.getvalue()
        assert "left out" not in stdout.getvalue()  # the gold scope leaves nothing out
    target = tmp_path / name
    assert target.is_dir() if exports.EXPORT_FORMATS[fmt].many_files and name == "out" \
        else target.is_file()


def test_the_export_command_refuses_a_folder_that_is_not_empty(sample, tmp_path):
    from django.core.management import CommandError, call_command

    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    with pytest.raises(CommandError, match="not an empty folder"):
        call_command("export", sample.slug, "--format", "brat", "-o", str(tmp_path / "out"))
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["keep.txt"]


@pytest.mark.parametrize(
    "parameters, message",
    [
        ({"colour": "red"}, "unknown export option"),
        ({"seed": "7"}, "seed must be a whole number"),
        ({"seed": True}, "seed must be a whole number"),
        ({"license": "cc by\x00"}, "license must be"),
        ({"language": "\ud94e"}, "language must be"),
        ({"language": []}, "language must be"),
    ],
)
def test_bad_export_options_are_refused_before_a_job_exists(project, parameters, message):
    from annotator.services.errors import WarrantError
    from annotator.services.export_jobs import export_job_request

    with pytest.raises(WarrantError, match=message):
        export_job_request(project=project, requested_by=requester(project), format="hf",
                           parameters=parameters)
    assert not ExportJob.objects.exists()


def test_good_export_options_are_kept_on_the_job(project):
    from annotator.services.export_jobs import export_job_request

    job = export_job_request(project=project, requested_by=requester(project), format="hf",
                             parameters={"seed": 3, "license": "cc-by-4.0", "language": ["en"]})
    assert job.parameters == {"seed": 3, "license": "cc-by-4.0", "language": ["en"]}


def test_the_export_command_says_what_a_format_left_out(sample, tmp_path):
    from io import StringIO

    from django.core.management import call_command

    stdout = StringIO()
    call_command("export", sample.slug, "--format", "csv", "-o", str(tmp_path / "s.zip"),
                 stdout=stdout)
    assert "left out 1 unfinished annotation set (1 in_progress)" in stdout.getvalue()
