"""RFC 9457 problem details for every API error.

Domain errors subclass ``ProblemError`` and carry their own status and title, so views never
build error responses and nothing is matched by its message.
"""

import logging
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.db import InterfaceError
from django.db import OperationalError as DatabaseOperationalError
from django.http import Http404, HttpRequest, JsonResponse
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"


class ProblemSerializer(serializers.Serializer):
    """The body of every API error, as the OpenAPI document describes it."""

    type = serializers.CharField()
    status = serializers.IntegerField()
    title = serializers.CharField()
    detail = serializers.CharField()
    errors = serializers.DictField(required=False, help_text="For invalid input: each bad field's errors.")

    class Meta:
        ref_name = "Problem"


def problem(description: str) -> OpenApiResponse:
    """An error response in the OpenAPI document: problem details, with what it means here."""
    return OpenApiResponse(ProblemSerializer, description=description)


class ProblemError(Exception):
    """A domain error that maps to one HTTP status."""

    status_code = status.HTTP_400_BAD_REQUEST
    title = "Bad request"

    def __init__(self, detail: str = "", *, errors: dict[str, Any] | None = None, headers=None):
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.errors = errors
        self.headers = headers or {}


class ServiceUnavailable(ProblemError):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    title = "Service unavailable"

    def __init__(self, detail: str = "", *, retry_after: int = 1):
        super().__init__(detail, headers={"Retry-After": str(retry_after)})


# PostgreSQL went away under a request (a cut connection, a restart): the next request reconnects,
# because Django closes a connection that raised, so the client is told to retry rather than shown a 500.
DATABASE_UNREACHABLE = (DatabaseOperationalError, InterfaceError)


def database_unreachable_body() -> dict:
    return problem_body(503, "Service unavailable", "The platform's database did not answer; retry shortly.")


def problem_body(status_code: int, title: str, detail: str, errors: dict | None = None, **extra) -> dict:
    body = {"type": "about:blank", "status": status_code, "title": title, "detail": detail}
    if errors:
        body["errors"] = errors
    body.update(extra)
    return body


def _flatten_errors(data: Any) -> dict[str, Any]:
    if isinstance(data, dict):
        return {str(key): value for key, value in data.items()}
    return {"non_field_errors": data}


def problem_exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF exception handler: every error becomes application/problem+json."""
    if isinstance(exc, ProblemError):
        body = problem_body(exc.status_code, exc.title, exc.detail, exc.errors)
        return Response(body, status=exc.status_code, headers=exc.headers, content_type=PROBLEM_CONTENT_TYPE)

    if isinstance(exc, DATABASE_UNREACHABLE):
        logger.warning("database unreachable in API view: %s", exc)
        return Response(
            database_unreachable_body(),
            status=503,
            headers={"Retry-After": "1"},
            content_type=PROBLEM_CONTENT_TYPE,
        )
    if isinstance(exc, RequestDataTooBig):
        # Django refuses to buffer a body over DATA_UPLOAD_MAX_MEMORY_SIZE when DRF first reads it,
        # before any parser's own, smaller limit is asked.
        body = problem_body(
            413, "Request body too large", "The request body is larger than this API accepts."
        )
        return Response(body, status=413, content_type=PROBLEM_CONTENT_TYPE)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = exception_handler(exc, context)
    if response is None:
        logger.exception("unhandled error in API view", exc_info=exc)
        body = problem_body(500, "Internal server error", "An unexpected error occurred; it has been logged.")
        return Response(body, status=500, content_type=PROBLEM_CONTENT_TYPE)

    if isinstance(exc, exceptions.ValidationError):
        body = problem_body(
            response.status_code,
            "Invalid input",
            "One or more fields are invalid.",
            _flatten_errors(exc.detail),
        )
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        title = response.status_text if hasattr(response, "status_text") else "Error"
        body = problem_body(response.status_code, title, str(detail))
    response.data = body
    response.content_type = PROBLEM_CONTENT_TYPE
    return response


def problem_response(request: HttpRequest, status_code: int, title: str, detail: str) -> JsonResponse:
    """A problem response for plain Django views (404/500 handlers on API paths)."""
    return JsonResponse(
        problem_body(status_code, title, detail), status=status_code, content_type=PROBLEM_CONTENT_TYPE
    )
