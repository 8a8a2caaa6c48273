"""Liveness, readiness and the platform's own operational endpoints.

``/metrics`` (every tenant's name) and ``/readyz``'s per-dependency detail (dependency errors)
are for operators: public only where ``OPS_DETAILS_PUBLIC`` (local runs), elsewhere only to
``Authorization: Bearer <OPS_TOKEN>``. A bare ``/readyz`` stays public for load balancers.
"""

import hmac
import sys
from dataclasses import asdict

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.defaults import page_not_found
from django.views.defaults import server_error as default_server_error
from django_prometheus.exports import ExportToDjangoView

from control_plane.ops.readiness import dependency_statuses
from httpkit.problems import (
    DATABASE_UNREACHABLE,
    PROBLEM_CONTENT_TYPE,
    database_unreachable_body,
    problem_response,
)


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def ops_details_allowed(request: HttpRequest) -> bool:
    if settings.OPS_DETAILS_PUBLIC:
        return True
    expected = f"Bearer {settings.OPS_TOKEN}".encode()
    given = request.headers.get("Authorization", "").encode()
    return bool(settings.OPS_TOKEN) and hmac.compare_digest(given, expected)


def readyz(request: HttpRequest) -> JsonResponse:
    statuses = dependency_statuses()
    ready = all(s.ok for s in statuses)
    body: dict = {"status": "ready" if ready else "unavailable"}
    if ops_details_allowed(request):
        body["dependencies"] = {s.name: asdict(s) for s in statuses}
    return JsonResponse(body, status=200 if ready else 503)


def metrics(request: HttpRequest) -> HttpResponse:
    if not ops_details_allowed(request):
        response = problem_response(
            request, 401, "Unauthorized", "Metrics are served with `Authorization: Bearer <OPS_TOKEN>`."
        )
        response["WWW-Authenticate"] = 'Bearer realm="ops"'
        return response
    return ExportToDjangoView(request)


def is_api_path(request: HttpRequest) -> bool:
    return request.path.startswith(("/api/", "/control/", "/r/"))


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api_path(request):
        return problem_response(request, 404, "Not found", "No such resource.")
    return page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    # Django calls this inside its ``except`` block, so the exception is the one being handled.
    if isinstance(sys.exc_info()[1], DATABASE_UNREACHABLE):
        if is_api_path(request):
            response = JsonResponse(
                database_unreachable_body(), status=503, content_type=PROBLEM_CONTENT_TYPE
            )
        else:
            response = HttpResponse(
                "Service unavailable; retry shortly.", status=503, content_type="text/plain"
            )
        response["Retry-After"] = "1"
        return response
    if is_api_path(request):
        return problem_response(request, 500, "Internal server error", "An unexpected error occurred.")
    return default_server_error(request)
