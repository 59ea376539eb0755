"""An export whose write fails on a full disk: a visible failure, and no file offered.

MEDIA_ROOT is a small tmpfs mounted for the test and filled to the last byte,
so the export's own write gets a real ``ENOSPC`` from the kernel; nothing is
patched. (tests/services/test_export_jobs.py fails a job through a broken
format writer; this is the file system refusing.) The job requested from the
page runs in-process (the embedded mode) and is FAILED with the error; the
exports page shows it with no download link; the download URL answers 404;
no file, whole or partial, is left in MEDIA_ROOT/exports.
"""

from __future__ import annotations

import errno
import os
import re
import subprocess

import pytest
from django.urls import reverse

from annotator.models import ExportJob, JobStatus
from tests.conftest import skip_or_fail
from tests.formats.export_samples import import_sample

#: Small, so that filling it is quick.
TMPFS_SIZE = "512k"


@pytest.fixture
def full_disk(tmp_path):
    """A tmpfs at ``tmp_path/media`` with its ``exports`` folder, filled to the last byte."""
    mount_point = tmp_path / "media"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE},mode=0755", "tmpfs", str(mount_point)],
        capture_output=True, text=True,
    )
    if mounted.returncode != 0:
        skip_or_fail(f"cannot mount a small tmpfs to fill (needs root): {mounted.stderr.strip()}")
    try:
        (mount_point / "exports").mkdir()
        with open(mount_point / "filler", "wb", buffering=0) as filler:
            block = b"\0" * 4096
            while True:
                try:
                    filler.write(block)
                except OSError as exc:
                    assert exc.errno == errno.ENOSPC
                    break
        with pytest.raises(OSError) as refused:  # really full
            (mount_point / "probe").write_bytes(b"x" * 4096)
        assert refused.value.errno == errno.ENOSPC
        (mount_point / "probe").unlink(missing_ok=True)
        yield mount_point
    finally:
        subprocess.run(["umount", "--lazy", str(mount_point)], check=False)


def test_an_export_that_hits_a_full_disk_fails_visibly_and_offers_no_file(
    client_for, project, full_disk, settings, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = full_disk
    import_sample(project)
    client = client_for("manager")
    page_url = reverse("exports", kwargs={"slug": project.slug})
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(page_url, {"format": "jsonl", "scope": "both"})
    assert response.status_code == 302

    job = ExportJob.objects.get()
    assert job.status == JobStatus.FAILED
    assert "No space left on device" in job.error, job.error
    assert (job.file.name, job.size, job.md5, job.expires_at) == ("", 0, "", None)
    assert os.listdir(full_disk / "exports") == []  # no file, no temporary file

    html = client.get(page_url).content.decode()
    row = re.search(rf'<tr id="export-job-{job.pk}".*?</tr>', html, re.S)[0]
    assert "Failed" in row and "No space left on device" in row
    download = reverse("export-download", kwargs={"slug": project.slug, "job_id": job.pk})
    assert download not in html and "Download" not in row

    assert client.get(download).status_code == 404
    # The progress partial (what the page polls) shows the failure and stops polling.
    progress = client.get(reverse("export-progress",
                                  kwargs={"slug": project.slug, "job_id": job.pk}),
                          HTTP_HX_REQUEST="true")
    assert progress.status_code == 286 and "No space left on device" in progress.content.decode()
