"""Every API error answers with a message: ``{"detail": "..."}``.

DRF already does that for its own exceptions; this handler adds Warrant's
service errors (``WarrantError`` → 400, ``ConflictError`` → 409), keeps the
message of Django's ``PermissionDenied`` and ``Http404`` (DRF's default
handler replaces it with a generic one), answers malformed or oversized
request bodies (Django's ``SuspiciousOperation``) with a message instead of
Django's HTML error page, and gives field validation errors a
one-line ``detail`` beside the per-field ``errors``.

The API views use it through :class:`annotator.api.base.WarrantAPIMixin`, so
that nothing outside ``annotator/api`` has to change for it.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from annotator.services.errors import ConflictError, WarrantError
from annotator.services.jobs import QUEUE_UNREACHABLE


def _first_message(errors, prefix: str = "") -> str:
    """The first message of a DRF validation error tree, prefixed with its field."""
    if isinstance(errors, dict):
        for key, value in errors.items():
            name = "" if key == "non_field_errors" else str(key)
            return _first_message(value, f"{prefix}.{name}" if prefix and name else prefix or name)
        return "invalid input"
    if isinstance(errors, list | tuple):
        for value in errors:
            return _first_message(value, prefix)
        return f"{prefix}: invalid input" if prefix else "invalid input"
    return f"{prefix}: {errors}" if prefix else str(errors)


def api_exception_handler(exc, context):
    if isinstance(exc, ConflictError):
        return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, WarrantError):
        return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, RequestDataTooBig):
        return Response(
            {"detail": "the request is too large"}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
        )
    if isinstance(exc, SuspiciousOperation):
        # Malformed or oversized form data (too many fields, a bad boundary).
        return Response({"detail": str(exc) or "malformed request"}, status=400)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) if exc.args else None)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) if exc.args else None)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = {"detail": _first_message(exc.detail), "errors": exc.detail}
    elif not isinstance(response.data, dict) or "detail" not in response.data:
        response.data = {"detail": _first_message(response.data)}
    return response


class QueueUnavailable(exceptions.APIException):
    """A job row was made but the broker could not take its task: 503, with Retry-After.

    The row stays, failed with the same sentence (the pages list it); the client asks
    again later. ``wait`` is what DRF's handler turns into ``Retry-After``.
    """

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "queue_unavailable"

    def __init__(self, what: str, row_id: int):
        from annotator.web.outage import RETRY_AFTER_SECONDS

        self.wait = RETRY_AFTER_SECONDS
        super().__init__(
            f"The {what} was not started: {QUEUE_UNREACHABLE} ({what} #{row_id} is marked "
            f"failed). Try again in a minute; annotating keeps working meanwhile."
        )


def api_not_found(request, *args, **kwargs) -> JsonResponse:
    """Any path under /api/ that names no endpoint."""
    return JsonResponse({"detail": "No such API endpoint."}, status=404)
