"""A tenant's route: its bound table classes, status, tier and attribute schema, by slug.

Read from the registry and cached in-process for ``TENANT_ROUTE_CACHE_SECONDS``, so the hot
paths (the redirect, every API call) do not query PostgreSQL each time, and a suspension or a
schema change still takes effect within seconds. The bound classes themselves are cached for
the life of the process (see ``resale.binding``).
"""

import time
from dataclasses import dataclass
from threading import Lock
from typing import Any

from django.conf import settings

from resale.binding import TenantModels, TenantNotRoutable, tenant_models
from tenants.models import Tenant
from tenants.tiers import TierPolicy, tier_policy


@dataclass(frozen=True)
class TenantRoute:
    slug: str
    status: str
    tier: str
    attribute_schema: dict[str, Any] | None
    models: TenantModels

    @property
    def serving(self) -> bool:
        return self.status == Tenant.Status.ACTIVE

    @property
    def policy(self) -> TierPolicy:
        return tier_policy(self.tier)


_routes: dict[str, tuple[float, TenantRoute | None]] = {}
_routes_lock = Lock()


def _load_route(slug: str) -> TenantRoute | None:
    tenant = Tenant.objects.filter(slug=slug).only("slug", "status", "tier", "resources", "attribute_schema")
    tenant = tenant.first()
    if tenant is None:
        return None
    try:
        models = tenant_models(tenant)
    except TenantNotRoutable:
        return None
    return TenantRoute(
        slug=tenant.slug,
        status=tenant.status,
        tier=tenant.tier,
        attribute_schema=tenant.attribute_schema,
        models=models,
    )


def tenant_route(slug: str) -> TenantRoute | None:
    """The tenant's route, or None when it has no such tenant or no tables."""
    entry = _routes.get(slug)
    now = time.monotonic()
    if entry is not None and entry[0] > now:
        return entry[1]
    route = _load_route(slug)
    with _routes_lock:
        if len(_routes) > 50_000:
            _routes.clear()
        _routes[slug] = (now + settings.TENANT_ROUTE_CACHE_SECONDS, route)
    return route


def forget_tenant_routes() -> None:
    """Drops the cached routes (tests, and a process that must see a change at once)."""
    with _routes_lock:
        _routes.clear()
