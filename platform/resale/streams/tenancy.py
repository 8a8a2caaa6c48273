"""Which tenant and table role a stream ARN belongs to, from the tenants' provisioning outputs."""

from resale.routing import TenantModels, tenant_models
from resale.streams.handler import CONSUMED_STATUSES
from tenants.models import Tenant


class UnknownStream(Exception):
    """No tenant whose streams are read has this stream ARN."""


def consumed_tenants() -> list[Tenant]:
    return list(Tenant.objects.filter(status__in=CONSUMED_STATUSES).order_by("slug"))


def tenant_for_stream_arn(stream_arn: str) -> tuple[Tenant, str]:
    for tenant in Tenant.objects.filter(status__in=CONSUMED_STATUSES, resources__has_key="streams"):
        for role, arn in (tenant.resources.get("streams") or {}).items():
            if arn == stream_arn:
                return tenant, role
    raise UnknownStream(stream_arn)


def tenant_models_for(tenant_id: int) -> TenantModels:
    """The bound table models of an (API-key-resolved) tenant, from its recorded table names."""
    tenant = Tenant.objects.get(id=tenant_id)
    return tenant_models(tenant.slug, tenant.resources.get("tables") or {})
