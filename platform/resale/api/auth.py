"""API-key authentication and scope checks for the tenant API.

The key alone decides the tenant: the authenticated request carries an ``ApiKeyPrincipal``
and nothing in the path or body is ever consulted to choose a tenant.
"""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from httpkit.request_context import bind_tenant_to_request_context
from resale.registry import ApiKeyPrincipal, is_serving_status, resolve_api_key

KEYWORD = b"api-key"


class ApiKeyAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[None, ApiKeyPrincipal] | None:
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != KEYWORD:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Send the key as 'Authorization: Api-Key <key>'.")
        try:
            raw_key = header[1].decode("ascii")
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed("Invalid API key.") from exc
        principal = resolve_api_key(raw_key)
        if principal is None:
            raise exceptions.AuthenticationFailed("Invalid API key.")
        bind_tenant_to_request_context(principal.tenant_slug)
        return None, principal

    def authenticate_header(self, request: Request) -> str:
        return "Api-Key"


class TenantIsServing(BasePermission):
    """A suspended (or not yet active) tenant's API answers 403."""

    message = "This tenant's API is not available (suspended or not active)."

    def has_permission(self, request: Request, view) -> bool:
        principal = request.auth
        if not isinstance(principal, ApiKeyPrincipal):
            raise exceptions.NotAuthenticated("An API key is required: 'Authorization: Api-Key <key>'.")
        return is_serving_status(principal.tenant_status)


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = ApiKeyAuthentication
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "Authorization", "description": "Api-Key <key>"}
