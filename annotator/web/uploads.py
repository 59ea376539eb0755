"""An upload larger than the limit is refused before it is read, not after.

Django's upload handlers would stream a 10 GB body to a temporary file before
the import form could say "too large": the disk fills first. The handler below
looks at the request's declared length (Django reads no more than
``Content-Length`` from the body) and, when it exceeds the limit, parses
nothing: ``request.POST`` and ``request.FILES`` come back empty and the
request is marked with the refusal. A form post then fails its CSRF check
(its token was in the unread body), and the CSRF failure view below answers
413 with the refusal; a request that sent its token in a header reaches the
view, which asks ``upload_refusal(request)`` first.
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler
from django.http import QueryDict
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat
from django.utils.datastructures import MultiValueDict

from .errors import csrf_failure as plain_csrf_failure

#: The form's other fields and the multipart framing around the files.
FORM_OVERHEAD_BYTES = 1024 * 1024
_REFUSAL = "_warrant_upload_refusal"


def upload_refusal(request) -> str | None:
    """Why this request's body was not read (it is larger than uploads may be), or None."""
    return getattr(request, _REFUSAL, None)


class BoundedUploadHandler(FileUploadHandler):
    """First in ``FILE_UPLOAD_HANDLERS``: refuses a body over the upload limit unread."""

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        limit = settings.WARRANT_MAX_UPLOAD_BYTES
        if content_length <= limit + FORM_OVERHEAD_BYTES:
            return None  # the other handlers read it; the form checks the files' sizes
        setattr(self.request, _REFUSAL, (
            f"The request is {filesizeformat(content_length)}; uploads may be at most "
            f"{filesizeformat(limit)}. Nothing was read or changed."
        ))
        return QueryDict(encoding=encoding), MultiValueDict()

    def receive_data_chunk(self, raw_data, start):
        return raw_data

    def file_complete(self, file_size):
        return None


def csrf_failure(request, reason=""):
    """CSRF_FAILURE_VIEW: a refused upload says so (413); anything else is a CSRF 403."""
    refusal = upload_refusal(request)
    if refusal is None:
        return plain_csrf_failure(request, reason=reason)
    return render(request, "413.html", {"message": refusal}, status=413)
