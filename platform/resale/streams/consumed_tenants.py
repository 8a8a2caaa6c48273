"""The tenants whose streams are read."""

from resale.registry import CONSUMED_STATUSES, RegisteredTenant, registered_tenants


def consumed_tenants() -> list[RegisteredTenant]:
    return registered_tenants(statuses=CONSUMED_STATUSES)
