"""The error responses of the OpenAPI document, for both APIs, in this one place.

A drf-spectacular postprocessing hook gives every operation of the tenant API, the redirect and
the control-plane API each problem-details error it can answer: those its shape implies (a path
parameter: 404; input: 400; a body: 413, 415), those of its plane (credentials: 401, 403; the
tenant's quota and dependencies: 429, 503, with ``Retry-After``), and the few its own rules add
(``SPECIFIC_ERRORS``). A view describes an error here only to say what it means for that view;
its description is kept, the rest is filled in.
"""

from httpkit.problems import PROBLEM_CONTENT_TYPE

DOCUMENTED_PREFIXES = ("/api/v1/", "/control/v1/", "/r/")
STAFF_PREFIX = "/control/v1/"
TOKEN_PATH = "/control/v1/token"

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
STAFF_TITLES = {
    401: "No token, or one that is unknown or expired: get a new one from POST /control/v1/token.",
    403: "Signed in, but not platform staff.",
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
RETRY_AFTER_STATUSES = (429, 503)
RETRY_AFTER_HEADER = {"schema": {"type": "integer"}, "description": "Seconds to wait before trying again."}
PROBLEM_BODY = {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}


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
    if path.startswith(("/api/v1/", STAFF_PREFIX)):
        errors |= {401, 403}
    if path.startswith(("/api/v1/", "/r/")):
        errors |= {429, 503}
    if path == TOKEN_PATH:
        errors.add(429)
    return errors | set(SPECIFIC_ERRORS.get((method, path), ()))


def _title(path: str, status: int) -> str:
    if path.startswith(STAFF_PREFIX) and path != TOKEN_PATH and status in STAFF_TITLES:
        return STAFF_TITLES[status]
    return ERROR_TITLES[status]


def add_problem_responses(result: dict, generator, request, public) -> dict:
    """drf-spectacular postprocessing hook: every API operation documents each error it can answer."""
    for path, operations in result.get("paths", {}).items():
        if not path.startswith(DOCUMENTED_PREFIXES):
            continue
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            for status in sorted(_operation_errors(path, method, operation)):
                response = responses.setdefault(str(status), {"description": _title(path, status)})
                response.setdefault("content", PROBLEM_BODY)
            for status in RETRY_AFTER_STATUSES:
                if str(status) in responses:
                    responses[str(status)].setdefault("headers", {}).setdefault(
                        "Retry-After", RETRY_AFTER_HEADER
                    )
    return result
