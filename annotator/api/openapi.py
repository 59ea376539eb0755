"""OpenAPI helpers: the error responses every operation documents."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

from .serializers import ErrorSerializer, ValidationErrorSerializer

_WHY = {
    400: "Bad input; `detail` says which and why.",
    401: "Not authenticated: send `Authorization: Token <key>`.",
    403: "Authenticated, but your role in this project does not allow it.",
    404: "No such object, or a project you are not a member of (the same answer).",
    409: "The annotation set changed since the version you sent: reload it.",
    410: "Gone.",
    413: "The request body is too large.",
    503: "The worker queue is unreachable: the job was not started (its row is marked "
         "failed). Try again after `Retry-After` seconds.",
}


def error_responses(*codes: int, **why: str) -> dict[int, OpenApiResponse]:
    """Documented error responses; 401 and 404 are added to every operation.

    ``why`` overrides a code's description: ``error_responses(409, e409="...")``.
    """
    wanted = sorted({401, 404, *codes})
    return {
        code: OpenApiResponse(
            ValidationErrorSerializer if code == 400 else ErrorSerializer,
            description=why.get(f"e{code}", _WHY[code]),
        )
        for code in wanted
    }


VERSION_QUERY = OpenApiParameter(
    "version",
    int,
    OpenApiParameter.QUERY,
    required=True,
    description="The annotation set's version this delete is based on; a stale one is "
    "refused with 409 Conflict.",
)
