"""The tenant status machine: which status may follow which."""

from tenants.errors import InvalidTenantTransition
from tenants.models import Tenant

S = Tenant.Status

ALLOWED_TRANSITIONS: dict[str, set[str]] = {
    S.PROVISIONING: {S.ACTIVE, S.FAILED, S.OFFBOARDING},
    S.FAILED: {S.PROVISIONING, S.OFFBOARDING},
    S.ACTIVE: {S.SUSPENDED, S.OFFBOARDING, S.PROVISIONING},
    S.SUSPENDED: {S.ACTIVE, S.OFFBOARDING},
    S.OFFBOARDING: {S.OFFBOARDED, S.FAILED},
    S.OFFBOARDED: set(),
}


def check_transition(tenant: Tenant, new_status: str) -> None:
    if new_status == tenant.status:
        return
    if new_status not in ALLOWED_TRANSITIONS[tenant.status]:
        raise InvalidTenantTransition(f"A tenant that is {tenant.status} cannot become {new_status}.")
