"""Which tenant and table role a stream ARN belongs to, from the tenants' provisioning outputs."""

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
