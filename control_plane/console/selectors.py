"""The console's reads of the registry (tenants and their provisioning), and the shape of
history events on its pages.

A tenant's own data (listings, orders, history, the per-day counts) is read through the data
plane's selectors (``resale.listings``, ``resale.orders``, ``resale.history``), never queried
here: one filter, one page type and one signed cursor serve the API and the console alike.
"""

from dataclasses import dataclass, field
from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery

from provisioning.models import ProvisioningRun
from resale.binding import TenantModels, TenantNotRoutable, tenant_models
from tenants.models import Tenant
from tenants.selectors import tenant_list


def tenant_tables(tenant: Tenant) -> TenantModels | None:
    """The tenant's bound models, or None while it has no recorded tables."""
    try:
        return tenant_models(tenant)
    except TenantNotRoutable:
        return None


# Tenants (staff)


def tenant_overview(
    *, status: str | None = None, search: str | None = None, tier: str | None = None
) -> QuerySet:
    """The tenants with their latest provisioning run's status and time annotated."""
    latest = ProvisioningRun.objects.filter(tenant=OuterRef("pk")).order_by("-created_at", "-id")
    tenants = tenant_list(status=status or None, search=search or None)
    if tier:
        tenants = tenants.filter(tier=tier)
    return tenants.annotate(
        last_run_id=Subquery(latest.values("id")[:1]),
        last_run_status=Subquery(latest.values("status")[:1]),
        last_run_kind=Subquery(latest.values("kind")[:1]),
        last_run_at=Subquery(latest.values("created_at")[:1]),
    )


def tenant_health(tenant: Tenant) -> str:
    """healthy, degraded, failing, pending or inactive: the registry's view of a tenant."""
    last_run_status = getattr(tenant, "last_run_status", None)
    if tenant.status == Tenant.Status.FAILED or last_run_status == ProvisioningRun.Status.FAILED:
        return "failing" if tenant.status != Tenant.Status.ACTIVE else "degraded"
    if tenant.status == Tenant.Status.ACTIVE:
        return "healthy" if tenant.resources.get("tables") else "degraded"
    if tenant.status in (Tenant.Status.PROVISIONING, Tenant.Status.OFFBOARDING):
        return "pending"
    return "inactive"


# History


@dataclass(frozen=True)
class FieldChange:
    name: str
    old: object
    new: object

    @property
    def changed(self) -> bool:
        return self.old != self.new


@dataclass
class HistoryRow:
    """An event (as the audit API returns it) with its old and new images side by side."""

    event: dict[str, Any]
    changes: list[FieldChange] = field(default_factory=list)


def _image(value: object) -> dict:
    if value is None:
        return {}
    return value if isinstance(value, dict) else {"(value)": value}


def field_changes(event: dict[str, Any]) -> list[FieldChange]:
    """The event's old and new images side by side, one row per field of either."""
    old, new = _image(event["old"]), _image(event["new"])
    return [FieldChange(name, old.get(name), new.get(name)) for name in sorted(old.keys() | new.keys())]


def history_rows(events: list[dict[str, Any]]) -> list[HistoryRow]:
    return [HistoryRow(event=event, changes=field_changes(event)) for event in events]
