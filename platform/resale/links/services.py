"""Affiliate links and their clicks."""

import secrets
from datetime import timedelta

from django.conf import settings
from pynamodb.exceptions import PutError
from pynamodb.models import Model

from resale.clock import utc_now
from resale.tenancy import TenantRoute

CLICK_TTL = timedelta(days=60)
CODE_ATTEMPTS = 5


def link_url(tenant_slug: str, code: str) -> str:
    return f"{settings.PUBLIC_BASE_URL.rstrip('/')}/r/{tenant_slug}/{code}"


def link_create(
    *,
    route: TenantRoute,
    actor: str,
    target_url: str,
    listing_id: str | None = None,
    affiliate_id: str | None = None,
) -> Model:
    links = route.models.links
    for _ in range(CODE_ATTEMPTS):
        link = links(
            code=secrets.token_urlsafe(6),
            target_url=target_url,
            listing_id=listing_id,
            affiliate_id=affiliate_id,
            created_at=utc_now(),
            actor=actor,
        )
        try:
            link.save(condition=links.code.does_not_exist())
        except PutError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                continue
            raise
        return link
    raise RuntimeError("could not find a free link code")


def click_record(
    *,
    route: TenantRoute,
    code: str,
    affiliate_id: str | None,
    listing_id: str | None,
    referrer: str | None,
    user_agent: str | None,
) -> None:
    """One PutItem: the click, kept 60 days by DynamoDB's TTL."""
    route.models.clicks(
        code=code,
        clicked_at=f"{utc_now()}#{secrets.token_hex(3)}",
        affiliate_id=affiliate_id,
        listing_id=listing_id,
        referrer=(referrer or None) and referrer[:1024],
        user_agent=(user_agent or None) and user_agent[:512],
        expires_at=CLICK_TTL,
    ).save()
