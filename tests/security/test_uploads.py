"""Uploads: bounded in size, zip bombs and paths that leave the folder refused (issue 7).

Already covered elsewhere, not repeated here: an upload over
``WARRANT_MAX_UPLOAD_BYTES`` gets a 400 naming the limit and imports nothing
(tests/web/test_document_import.py::test_upload_larger_than_the_limit_is_refused);
the reader's own limits, one by one (tests/formats/test_readers.py: unsafe paths,
compression ratio, uncompressed total, member count, nesting). These tests send
the hostile archives through the import page, as a browser would, and check
that a body over the limit is refused before it is read.
"""

from __future__ import annotations

import io
import stat
import tempfile
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from annotator.formats.readers import MAX_UPLOAD_DOCUMENTS, MAX_ZIP_MEMBERS
from annotator.models import Document

pytestmark = pytest.mark.django_db

BOMB_BYTES = 64 * 1024 * 1024


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.fixture
def upload(client_for, project):
    url = reverse("document-import", kwargs={"slug": project.slug})

    def post(name: str, data: bytes):
        return client_for("manager").post(url, {"files": [SimpleUploadedFile(name, data)]})

    return post


def _error(response) -> str:
    assert response.status_code == 400
    return response.content.decode()


def test_zip_bomb_is_refused_without_being_expanded(upload, project):
    bomb = _zip({"briefs/bomb.txt": b"\0" * BOMB_BYTES, "briefs/ok.txt": b"A brief."})
    assert len(bomb) < BOMB_BYTES // 500  # a few dozen KB
    tracemalloc.start()
    try:
        response = upload("corpus.zip", bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "refused as a possible zip bomb" in _error(response)
    assert peak < BOMB_BYTES // 4, f"{peak:,} bytes allocated: the bomb was expanded"
    assert not Document.objects.filter(project=project).exists()


@pytest.mark.parametrize("member", ["../evil.txt", "/etc/passwd", "a/../../b.txt"])
def test_members_that_leave_the_folder_are_refused_and_nothing_is_written(upload, project,
                                                                          member):
    places = [Path(settings.MEDIA_ROOT), Path(tempfile.gettempdir()), Path.cwd().parent]
    before = {place: set(place.glob("*")) if place.exists() else set() for place in places}
    archive = _zip({"briefs/fine.txt": b"A fine brief.", member: b"Escaped the folder."})
    html = _error(upload("corpus.zip", archive))
    assert "refused" in html and ("absolute path" in html or "&#x27;..&#x27;" in html)
    assert not Document.objects.filter(project=project).exists()
    for place in places:
        after = set(place.glob("*")) if place.exists() else set()
        assert not {p for p in after - before[place] if p.name in {"evil.txt", "b.txt"}}


def test_jsonl_with_too_many_documents_is_refused_before_it_is_read(upload, project):
    lines = b'{"id": "d", "text": "x"}\n' * (MAX_UPLOAD_DOCUMENTS + 1)
    html = _error(upload("corpus.jsonl", lines))
    assert f"at most {MAX_UPLOAD_DOCUMENTS:,} documents are read from one upload" in html
    assert not Document.objects.filter(project=project).exists()


def test_zip_with_too_many_members_is_refused(upload, project):
    archive = _zip({f"b/{n}.txt": b"x" for n in range(MAX_ZIP_MEMBERS + 1)})
    html = _error(upload("corpus.zip", archive))
    assert f"at most {MAX_ZIP_MEMBERS:,}" in html or f"at most {MAX_ZIP_MEMBERS}" in html
    assert not Document.objects.filter(project=project).exists()


def _zip_with_special(member: str, mode: int, payload: bytes) -> bytes:
    """A zip whose ``member`` has Unix file type ``mode`` (as ``zip -y`` stores a symlink:
    the link target as the member's data)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("briefs/fine.txt", b"A fine brief.")
        info = zipfile.ZipInfo(member)
        info.create_system = 3  # Unix: external_attr holds st_mode in its high 16 bits
        info.external_attr = (mode | 0o644) << 16
        archive.writestr(info, payload)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("mode", "kind"),
    [(stat.S_IFLNK, "a symbolic link"), (stat.S_IFIFO, "a FIFO"),
     (stat.S_IFCHR, "a device"), (stat.S_IFBLK, "a device"), (stat.S_IFSOCK, "a socket")],
)
def test_an_archive_member_that_is_not_a_regular_file_is_refused_by_name(upload, project,
                                                                       mode, kind):
    """Issue 11, point 7: a symlink to /etc/passwd imported as a document whose text
    was the link target; every member must be a regular file."""
    archive = _zip_with_special("briefs/secret.txt", mode, b"/etc/passwd")
    response = upload("corpus.zip", archive)
    html = _error(response)
    error = response.context["error"]
    assert "\n" not in error
    assert error.startswith("corpus.zip/briefs/secret.txt")
    assert f"{kind}, not a regular file" in error and error in html
    assert not Document.objects.filter(project=project).exists()


def test_the_command_line_refuses_a_symlink_member_too(project, tmp_path):
    from django.core.management import CommandError, call_command

    path = tmp_path / "corpus.zip"
    path.write_bytes(_zip_with_special("briefs/secret.txt", stat.S_IFLNK, b"/etc/passwd"))
    with pytest.raises(CommandError, match=r"corpus.zip/briefs/secret.txt: a symbolic link"):
        call_command("import_documents", project.slug, str(path), stdout=io.StringIO())
    assert not Document.objects.filter(project=project).exists()


def test_a_zip_made_on_windows_has_no_file_type_and_is_read(upload, project):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo("briefs/fine.txt")
        info.create_system = 0  # MS-DOS: external_attr holds DOS attributes only
        info.external_attr = 0x20  # "archive"
        archive.writestr(info, b"A fine brief.")
    response = upload("corpus.zip", buffer.getvalue())
    assert response.status_code == 302
    assert Document.objects.filter(project=project).count() == 1


# --- A body over the limit is refused before it is read ----------------------------


class _Unreadable:
    """A request body that fails the test if anything reads it."""

    def read(self, *args):
        raise AssertionError("the body of a refused upload was read")

    readline = read


def test_a_body_over_the_limit_is_not_read_at_all(rf, settings):
    from annotator.web.uploads import FORM_OVERHEAD_BYTES, upload_refusal

    settings.WARRANT_MAX_UPLOAD_BYTES = 1024
    declared = 1024 + FORM_OVERHEAD_BYTES + 1
    request = rf.generic(
        "POST", "/p/x/import/", CONTENT_TYPE="multipart/form-data; boundary=B",
        CONTENT_LENGTH=str(declared),
    )
    request._stream = _Unreadable()
    assert request.POST.dict() == {} and not request.FILES
    refusal = upload_refusal(request)
    assert "uploads may be at most 1.0\xa0KB. Nothing was read or changed." in refusal


def _big_upload() -> SimpleUploadedFile:
    # Over the limit and the allowance for the form's other fields.
    return SimpleUploadedFile("big.txt", b"Sanctions work. " * (2 * 1024 * 1024 // 16 + 1))


def test_a_form_post_over_the_limit_gets_413_with_the_reason(project, members, settings):
    from django.test import Client

    settings.WARRANT_MAX_UPLOAD_BYTES = 1024
    client = Client(enforce_csrf_checks=True)
    client.force_login(members["manager"])
    url = reverse("document-import", kwargs={"slug": project.slug})
    client.get(url)  # the CSRF cookie, as a browser has it
    token = client.cookies["csrftoken"].value
    response = client.post(url, {"csrfmiddlewaretoken": token, "files": [_big_upload()]})
    assert response.status_code == 413
    assert "Nothing was read or changed" in response.text
    assert Document.objects.count() == 0


def test_a_header_token_post_over_the_limit_reaches_the_view_and_gets_413(
    project, members, settings
):
    from django.test import Client

    settings.WARRANT_MAX_UPLOAD_BYTES = 1024
    client = Client(enforce_csrf_checks=True)
    client.force_login(members["manager"])
    url = reverse("document-import", kwargs={"slug": project.slug})
    client.get(url)
    token = client.cookies["csrftoken"].value
    response = client.post(url, {"files": [_big_upload()]}, headers={"X-CSRFToken": token})
    assert response.status_code == 413
    assert "uploads may be at most 1.0\xa0KB" in response.context["error"]
    assert Document.objects.count() == 0


def test_an_ordinary_csrf_failure_is_still_a_403_that_says_csrf(project, members):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(members["manager"])
    url = reverse("document-import", kwargs={"slug": project.slug})
    response = client.post(url, {"files": [SimpleUploadedFile("a.txt", b"A brief.")]})
    assert response.status_code == 403
    assert "CSRF" in response.text
    assert Document.objects.count() == 0
