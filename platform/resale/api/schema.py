"""OpenAPI for the tenant API: the paths served outside DRF (the redirect is a plain view, for
speed), the error responses its operations share, and a hook that gives every operation of both
planes each problem-details error its shape or plane can answer."""

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


ERROR_TITLES = {
    400: "Invalid input",
    401: "Missing or invalid credentials",
    403: "Not allowed (scope, role, or a suspended tenant)",
    404: "No such resource",
    409: "Conflicts with the resource's state",
    412: "Stale version (If-Match)",
    413: "Request body too large",
    415: "Unsupported media type",
    428: "If-Match required",
    429: "Over quota; retry after Retry-After",
    503: "A dependency failed; retry after Retry-After",
}
SPECIFIC_ERRORS = {
    ("patch", "/api/v1/listings/{listing_id}"): (409, 412, 428),
    ("post", "/api/v1/listings/{listing_id}/images/{image_id}"): (409,),
    ("post", "/api/v1/orders"): (404, 409),
    ("post", "/api/v1/orders/{order_id}/cancel"): (409,),
    ("post", "/control/v1/tenants"): (409,),
    ("patch", "/control/v1/tenants/{slug}"): (409,),
    ("delete", "/control/v1/tenants/{slug}"): (409,),
    ("post", "/control/v1/tenants/{slug}/retry"): (409,),
}


def _operation_errors(path: str, method: str, operation: dict) -> set[int]:
    """The error statuses an operation can answer, from its shape and its plane."""
    errors = {404} if "{" in path else set()
    takes_input = "requestBody" in operation or any(
        parameter.get("in") in ("query", "header") for parameter in operation.get("parameters", [])
    )
    if takes_input:
        errors.add(400)
    if "requestBody" in operation:
        errors |= {413, 415}
    if path.startswith(("/api/v1/", "/control/v1/")):
        errors |= {401, 403}
    if path.startswith(("/api/v1/", "/r/")):
        errors |= {429, 503}
    if path.startswith("/control/v1/token"):
        errors.add(429)
    return errors | set(SPECIFIC_ERRORS.get((method, path), ()))


def add_problem_responses(result: dict, generator, request, public) -> dict:
    """drf-spectacular postprocessing hook: every API operation documents each error it can answer,
    as problem details, in this one place rather than per view."""
    problem = {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path, operations in result.get("paths", {}).items():
        if not path.startswith(("/api/v1/", "/control/v1/", "/r/")):
            continue
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            for status in sorted(_operation_errors(path, method, operation)):
                responses.setdefault(str(status), {"description": ERROR_TITLES[status]})
                responses[str(status)].setdefault("content", problem)
    return result
