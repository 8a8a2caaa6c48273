"""OpenAPI for the tenant API: the paths served outside DRF (the redirect is a plain view, for
speed). Their error responses, like every operation's, come from ``httpkit.openapi_errors``."""

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
