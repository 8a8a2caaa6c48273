"""OpenAPI for what every staff operation of the control-plane API can answer besides its own."""

from httpkit.problems import PROBLEM_CONTENT_TYPE

TOKEN_PATH = "/control/v1/token"
STAFF_ERRORS = {
    "401": "No token, or one that is unknown or expired: get a new one from POST /control/v1/token.",
    "403": "Signed in, but not platform staff.",
}


def add_staff_errors(result: dict, generator, request, public) -> dict:
    """drf-spectacular postprocessing hook: 401 and 403 problem details on every staff operation."""
    problem = {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path, operations in result.get("paths", {}).items():
        if not path.startswith("/control/v1/") or path == TOKEN_PATH:
            continue
        for operation in operations.values():
            for code, description in STAFF_ERRORS.items():
                operation["responses"].setdefault(code, {"description": description, "content": problem})
    return result
