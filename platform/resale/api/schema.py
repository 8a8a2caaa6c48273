"""OpenAPI for the tenant API: the paths served outside DRF (the redirect is a plain view, for
speed), and the error responses its operations share."""

from drf_spectacular.utils import OpenApiParameter
from httpkit.problems import PROBLEM_CONTENT_TYPE, problem

REDIRECT_PATH = {
    "get": {
        "operationId": "link_redirect",
        "summary": "Follow an affiliate link",
        "description": "Records the click (time, affiliate, listing, referrer, user agent; kept 60 days) "
        "and redirects to the link's target.",
        "tags": ["links"],
        "security": [],
        "parameters": [
            {"name": "tenant_slug", "in": "path", "required": True, "schema": {"type": "string"}},
            {"name": "code", "in": "path", "required": True, "schema": {"type": "string"}},
        ],
        "responses": {
            "302": {
                "description": "Redirect to the target URL",
                "headers": {"Location": {"schema": {"type": "string"}}},
            },
            "404": {"description": "No such link (or tenant not serving)"},
            "503": {"description": "Click store unavailable; retry after Retry-After"},
        },
    }
}


def add_public_paths(result: dict, generator, request, public) -> dict:
    """drf-spectacular postprocessing hook: adds ``GET /r/{tenant_slug}/{code}``."""
    result.setdefault("paths", {})["/r/{tenant_slug}/{code}"] = REDIRECT_PATH
    return result


TENANT_API_ERRORS = {
    (401, PROBLEM_CONTENT_TYPE): problem("No API key, or a key that is not valid."),
    (403, PROBLEM_CONTENT_TYPE): problem(
        "The key lacks the scope, or the tenant is suspended or not active."
    ),
    (429, PROBLEM_CONTENT_TYPE): problem("Over the tenant's quota; retry after Retry-After."),
    (503, PROBLEM_CONTENT_TYPE): problem("A dependency is unavailable; retry after Retry-After."),
}
"""What every tenant API operation can answer, whatever it does."""

TENANT_API_BODY_ERRORS = {
    (400, PROBLEM_CONTENT_TYPE): problem(
        "Invalid input: the body is not JSON, or `errors` names each bad field."
    ),
    (413, PROBLEM_CONTENT_TYPE): problem("The body is larger than the API accepts."),
    (415, PROBLEM_CONTENT_TYPE): problem("The body is not `application/json`."),
}
"""What every tenant API operation that reads a JSON body can answer besides."""

RETRY_AFTER = OpenApiParameter(
    "Retry-After", int, OpenApiParameter.HEADER, response=[429, 503], description="Seconds to wait."
)
