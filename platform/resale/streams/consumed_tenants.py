"""The tenants whose streams are read."""

from resale.streams.handler import CONSUMED_STATUSES
from tenants.models import Tenant


def consumed_tenants() -> list[Tenant]:
    return list(Tenant.objects.filter(status__in=CONSUMED_STATUSES).order_by("slug"))
