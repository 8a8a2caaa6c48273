"""Affiliate links: create one (API), follow one (the public redirect)."""

import logging

from django.core.validators import URLValidator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from httpkit.problems import problem_response
from resale.api.base import TenantAPIView
from resale.api.serializers import RequestSerializer, represent
from resale.errors import is_transient_dynamodb_error
from resale.links.selectors import link_target
from resale.links.services import click_record, link_create, link_url
from resale.ratelimit.limiter import RateLimited, RateLimiterUnavailable, rate_limit_enforce
from resale.tenancy import TenantRoute, tenant_route

logger = logging.getLogger(__name__)


class LinkOutputSerializer(serializers.Serializer):
    code = serializers.CharField()
    url = serializers.CharField()
    target_url = serializers.CharField()
    listing_id = serializers.CharField(allow_null=True)
    affiliate_id = serializers.CharField(allow_null=True)
    created_at = serializers.CharField()

    class Meta:
        ref_name = "Link"


class LinkCollectionApi(TenantAPIView):
    required_scopes = {"POST": "write"}

    class InputSerializer(RequestSerializer):
        target_url = serializers.CharField(
            max_length=2048,
            validators=[URLValidator(schemes=["http", "https"], message="An http or https URL.")],
        )
        listing_id = serializers.CharField(max_length=128, required=False)
        affiliate_id = serializers.CharField(max_length=128, required=False)

        class Meta:
            ref_name = "LinkCreateInput"

    @extend_schema(request=InputSerializer, responses={201: LinkOutputSerializer})
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        link = link_create(route=self.route, actor=self.actor, **data.validated_data)
        body = {
            "code": link.code,
            "url": link_url(self.route.slug, link.code),
            "target_url": link.target_url,
            "listing_id": link.listing_id,
            "affiliate_id": link.affiliate_id,
            "created_at": link.created_at,
        }
        return Response(represent(LinkOutputSerializer, body), status=status.HTTP_201_CREATED)


def link_redirect(request: HttpRequest, tenant_slug: str, code: str) -> HttpResponse:
    """The hottest path: cached route and link, one PutItem for the click, then 302.

    The link is found before the click quota is asked: an unknown tenant or code is 404 and takes
    nothing from any tenant's quota, so junk clicks cannot turn a tenant's real links into 429s.
    Clicks are taken from the tenant's own ``clicks`` bucket (a flood on one marketplace's
    links answers 429 there and takes nothing from any other). Should the rate limiter's Redis
    be unreachable the redirect still happens: a shopper's click is worth more than the quota.
    """
    route = tenant_route(tenant_slug)
    if route is None or not route.serving:
        return problem_response(request, 404, "Not found", "No such link.")
    try:
        target = link_target(route=route, code=code)
        if target is None:
            return problem_response(request, 404, "Not found", "No such link.")
        refusal = _click_quota_refusal(request, route)
        if refusal is not None:
            return refusal
        click_record(
            route=route,
            code=code,
            affiliate_id=target.affiliate_id,
            listing_id=target.listing_id,
            referrer=request.META.get("HTTP_REFERER"),
            user_agent=request.META.get("HTTP_USER_AGENT"),
        )
    except Exception as exc:
        if not is_transient_dynamodb_error(exc):
            raise
        logger.warning("click store unavailable for %s", tenant_slug)
        response = problem_response(request, 503, "Data store unavailable", "Retry shortly.")
        response["Retry-After"] = "1"
        return response
    return HttpResponseRedirect(target.target_url)


def _click_quota_refusal(request: HttpRequest, route: TenantRoute) -> HttpResponse | None:
    """The 429 of a tenant over its click quota, or None to go on (also when Redis is unreachable)."""
    try:
        rate_limit_enforce(tenant_slug=route.slug, policy=route.policy, quota="clicks")
    except RateLimited as exc:
        response = problem_response(request, exc.status_code, exc.title, str(exc.detail))
        response["Retry-After"] = exc.headers["Retry-After"]
        return response
    except RateLimiterUnavailable:
        logger.warning("click quota not checked for %s: rate limiter unreachable", route.slug)
    return None
