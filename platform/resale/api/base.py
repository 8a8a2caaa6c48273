"""The base of every tenant API view: key -> tenant route, scope per method, quota, bounded JSON.

Views subclass ``TenantAPIView`` and read ``self.route`` (the tenant's bound tables) and
``self.actor``; nothing a client sends can choose the tenant.
"""

import io

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions, status
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import JSONParser
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from httpkit.problems import ProblemError
from resale.api.auth import ApiKeyAuthentication, TenantIsServing
from resale.errors import as_unavailable, is_transient_dynamodb_error
from resale.ratelimit.costs import request_cost
from resale.ratelimit.limiter import rate_limit_enforce
from resale.registry import ApiKeyPrincipal
from resale.tenancy import TenantRoute, tenant_route


class BodyTooLarge(ProblemError):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    title = "Request body too large"


class BoundedJSONParser(JSONParser):
    """Reads at most ``API_MAX_BODY_BYTES``: a larger body is 413 before it is parsed or buffered."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.API_MAX_BODY_BYTES
        request = (parser_context or {}).get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        if declared and declared.isdigit() and int(declared) > limit:
            raise BodyTooLarge(f"Bodies are limited to {limit} bytes.")
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise BodyTooLarge(f"Bodies are limited to {limit} bytes.")
        if not raw:
            raise exceptions.ParseError("Send a JSON body.")
        try:
            return super().parse(io.BytesIO(raw), media_type, parser_context)
        except exceptions.ParseError as exc:
            raise exceptions.ParseError("The body is not valid JSON.") from exc


class OneRendererNegotiation(DefaultContentNegotiation):
    """DRF's content negotiation, with its answer given at once where there is nothing to choose:
    one renderer, no ``?format=``, and no ``Accept`` or one naming exactly ``*/*`` or the
    renderer's type. Parsing the header every request was a thirtieth of a create's CPU.
    ``tests/resale/api/test_negotiation.py`` pins it to DRF's answer for any ``Accept``."""

    def select_renderer(self, request, renderers, format_suffix=None):
        if len(renderers) == 1 and format_suffix is None:
            (renderer,) = renderers
            accept = request.META.get("HTTP_ACCEPT")
            if accept in (None, "*/*", renderer.media_type) and (
                self.settings.URL_FORMAT_OVERRIDE not in request.query_params
            ):
                return renderer, renderer.media_type
        return super().select_renderer(request, renderers, format_suffix)


class MethodScope(BasePermission):
    """The key must hold the scope the view names for the request's method."""

    def has_permission(self, request: Request, view) -> bool:
        scope = view.required_scopes.get(request.method, "write")
        self.message = f"This API key lacks the '{scope}' scope."
        principal = request.auth
        return isinstance(principal, ApiKeyPrincipal) and scope in principal.scopes


class TenantNotServing(ProblemError):
    status_code = status.HTTP_403_FORBIDDEN
    title = "Tenant not serving"


class TenantAPIView(APIView):
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [TenantIsServing, MethodScope]
    parser_classes = [BoundedJSONParser]
    content_negotiation_class = OneRendererNegotiation
    required_scopes: dict[str, str] = {"GET": "read", "HEAD": "read", "OPTIONS": "read"}

    route: TenantRoute
    principal: ApiKeyPrincipal

    def initial(self, request: Request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        self.principal = request.auth
        route = tenant_route(self.principal.tenant_slug)
        if route is None or not route.serving:
            raise TenantNotServing("This tenant's API is not available (suspended or not active).")
        self.route = route
        url_name = request.resolver_match.url_name if request.resolver_match else None
        cost = request_cost(url_name=url_name, method=request.method)
        rate_limit_enforce(tenant_slug=route.slug, policy=route.policy, cost=cost)

    @property
    def actor(self) -> str:
        return self.principal.actor

    def handle_exception(self, exc: Exception) -> Response:
        if is_transient_dynamodb_error(exc):
            exc = as_unavailable(exc)
        return super().handle_exception(exc)

    def finalize_response(self, request: Request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if isinstance(response, Response):
            response.add_post_render_callback(_release_view_and_request)
        return response


def _release_view_and_request(response: Response) -> None:
    """Breaks the reference cycles DRF and Django leave between a view, its request and its response.

    ``parser_context`` holds the request itself and the view, ``renderer_context`` the view, which
    holds the request, the response and (Django's ``head = get``) a bound method of itself. Each
    request thus left some 60 objects that only the garbage collector could free: a collection
    every dozen requests, holding the GIL from every other request's thread meanwhile. Once the body
    is rendered none of these is read again (a body that was read stays parsed), so reference
    counting can free them all as soon as the answer is sent.
    """
    context = response.renderer_context or {}
    if (request := context.get("request")) is not None:
        request.parser_context = {}
    if (view := context.get("view")) is not None:
        vars(view).clear()
    response.renderer_context = {}


PAGE_LIMIT = OpenApiParameter(
    "limit",
    {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
    description="1 to 100, default 20",
)
"""``?limit=`` as ``page_limit`` reads it, for the views that take it outside their filter serializer."""


def page_limit(request: Request) -> int:
    raw = request.query_params.get("limit", "20")
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= 100:
        raise exceptions.ValidationError({"limit": ["An integer from 1 to 100."]})
    return int(raw)
