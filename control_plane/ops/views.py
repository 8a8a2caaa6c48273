"""Liveness, readiness and the platform's own operational endpoints."""

from dataclasses import asdict

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.defaults import page_not_found
from django.views.defaults import server_error as default_server_error
from httpkit.problems import problem_response

from control_plane.ops.readiness import dependency_statuses


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def readyz(request: HttpRequest) -> JsonResponse:
    statuses = dependency_statuses()
    ready = all(s.ok for s in statuses)
    body = {
        "status": "ready" if ready else "unavailable",
        "dependencies": {s.name: asdict(s) for s in statuses},
    }
    return JsonResponse(body, status=200 if ready else 503)


def _is_api_path(request: HttpRequest) -> bool:
    return request.path.startswith(("/api/", "/control/", "/r/"))


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api_path(request):
        return problem_response(request, 404, "Not found", "No such resource.")
    return page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api_path(request):
        return problem_response(request, 500, "Internal server error", "An unexpected error occurred.")
    return default_server_error(request)
