"""A tenant's route: its bound table classes, status, tier and attribute schema, by slug.

Read from the registry and cached in-process for ``TENANT_ROUTE_CACHE_SECONDS``, so the hot
paths (the redirect, every API call) do not query PostgreSQL each time, and a suspension or a
schema change still takes effect within seconds. The bound classes themselves are cached for
the life of the process (see ``resale.binding``).
"""

from dataclasses import dataclass, fields

from django.conf import settings

from resale.binding import TenantModels, TenantNotRoutable, tenant_models
from resale.registry import LookupCache, RegisteredTenant, plausible_slug, registered_tenant


@dataclass(frozen=True)
class TenantRoute(RegisteredTenant):
    """The registered tenant with its bound table classes."""

    models: TenantModels


MAX_REMEMBERED_UNKNOWN_SLUGS = 10_000
_routes: LookupCache[TenantRoute] = LookupCache(
    ttl=lambda: settings.TENANT_ROUTE_CACHE_SECONDS, max_missing=MAX_REMEMBERED_UNKNOWN_SLUGS
)


def _load_route(slug: str) -> TenantRoute | None:
    tenant = registered_tenant(slug)
    if tenant is None:
        return None
    try:
        models = tenant_models(tenant)
    except TenantNotRoutable:
        return None
    return TenantRoute(**{field.name: getattr(tenant, field.name) for field in fields(tenant)}, models=models)


def tenant_route(slug: str) -> TenantRoute | None:
    """The tenant's route, or None when it has no such tenant or no tables.

    A string that cannot be a slug costs no query; an unknown slug costs one per
    ``TENANT_ROUTE_CACHE_SECONDS`` while it is among the last ``MAX_REMEMBERED_UNKNOWN_SLUGS``
    unknown ones."""
    if not plausible_slug(slug):
        return None
    hit, route = _routes.get(slug)
    if hit:
        return route
    route = _load_route(slug)
    _routes.put(slug, route)
    return route


def forget_tenant_routes() -> None:
    """Drops the cached routes (tests, and a process that must see a change at once)."""
    _routes.clear()
