"""The data plane's one view of the tenant registry (the ``tenants`` app, on PostgreSQL).

Only this module imports ``tenants`` (an import contract in ``pyproject.toml`` says so). What the
data plane may know of a tenant beyond its tables comes through here, as read-only values: a
tenant by slug, the tenants in some statuses, whether a status serves, a tier's policy, and who
an API key speaks for. Registry models never cross it, so no data-plane code can write the
registry; tenant writes are the control plane's.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tenants.api_keys import ApiKeyPrincipal, resolve_api_key
from tenants.lookup_cache import LookupCache
from tenants.models import SLUG_VALIDATOR, Tenant
from tenants.tiers import TierPolicy, tier_policy

__all__ = [
    "CONSUMED_STATUSES",
    "ApiKeyPrincipal",
    "LookupCache",
    "RegisteredTenant",
    "TierPolicy",
    "is_serving_status",
    "plausible_slug",
    "registered_tenant",
    "registered_tenants",
    "resolve_api_key",
    "serving_tenant_slugs",
]

CONSUMED_STATUSES = (Tenant.Status.ACTIVE, Tenant.Status.SUSPENDED, Tenant.Status.OFFBOARDING)
"""A suspended tenant's order workflow and TTL expiries still write, and offboarding exports the
history last: their streams are read until the tenant is offboarded."""

_FIELDS = ("slug", "status", "tier", "resources", "attribute_schema")


@dataclass(frozen=True)
class RegisteredTenant:
    """A tenant as the registry records it, read once: what routing, quotas and feeds need."""

    slug: str
    status: str
    tier: str
    resources: Mapping[str, Any]
    attribute_schema: dict[str, Any] | None

    @property
    def serving(self) -> bool:
        return is_serving_status(self.status)

    @property
    def policy(self) -> TierPolicy:
        return tier_policy(self.tier)


def _registered(tenant: Tenant) -> RegisteredTenant:
    return RegisteredTenant(
        slug=tenant.slug,
        status=tenant.status,
        tier=tenant.tier,
        resources=tenant.resources or {},
        attribute_schema=tenant.attribute_schema,
    )


def is_serving_status(status: str) -> bool:
    """Only an active tenant's API serves; every other status answers 403."""
    return status == Tenant.Status.ACTIVE


def plausible_slug(slug: str) -> bool:
    """Whether the string could be a tenant's slug at all (no query)."""
    return SLUG_VALIDATOR.regex.fullmatch(slug) is not None


def registered_tenant(slug: str) -> RegisteredTenant | None:
    """The tenant with this slug, or None (one query)."""
    tenant = Tenant.objects.filter(slug=slug).only(*_FIELDS).first()
    return None if tenant is None else _registered(tenant)


def registered_tenants(*, statuses: Iterable[str]) -> list[RegisteredTenant]:
    """The tenants in any of ``statuses``, by slug."""
    tenants = Tenant.objects.filter(status__in=list(statuses)).only(*_FIELDS).order_by("slug")
    return [_registered(tenant) for tenant in tenants]


def serving_tenant_slugs() -> list[str]:
    """The slugs of the tenants whose API serves, by slug."""
    return list(
        Tenant.objects.filter(status=Tenant.Status.ACTIVE).order_by("slug").values_list("slug", flat=True)
    )
