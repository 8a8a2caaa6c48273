"""The console's reads of a tenant's data, through the tenant-bound models of ``resale.binding``.

These are the patterns the data plane has no selector for: orders by buyer or status, the
per-day counts of the usage charts, and the history browser's newest-first pages; listings and
single orders are read through ``resale.listings`` and ``resale.orders``.
"""

import base64
import binascii
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone
from pynamodb.models import Model

from provisioning.models import ProvisioningRun
from resale.binding import TenantModels, TenantNotRoutable, tenant_models
from resale.history.services import EVENTS_CHAIN
from tenants.models import Tenant
from tenants.selectors import tenant_list

PAGE_SIZE = 50
HISTORY_LIMIT = 100


@dataclass(frozen=True)
class Page:
    items: list
    next_cursor: str | None


def tenant_tables(tenant: Tenant) -> TenantModels | None:
    """The tenant's bound models, or None while it has no recorded tables."""
    try:
        return tenant_models(tenant)
    except TenantNotRoutable:
        return None


def encode_cursor(last_evaluated_key: dict | None) -> str | None:
    if not last_evaluated_key:
        return None
    return base64.urlsafe_b64encode(json.dumps(last_evaluated_key, sort_keys=True).encode()).decode()


def decode_cursor(cursor: str | None) -> dict | None:
    """A cursor from the query string; a malformed one starts from the beginning."""
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (binascii.Error, ValueError):
        return None
    return key if isinstance(key, dict) else None


def _page(results, limit: int) -> Page:
    items = list(results)
    return Page(
        items=items, next_cursor=encode_cursor(results.last_evaluated_key) if len(items) >= limit else None
    )


def _and(conditions: list):
    combined = None
    for condition in conditions:
        combined = condition if combined is None else combined & condition
    return combined


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


# Orders


def order_page(
    *,
    tables: TenantModels,
    status: str = "",
    buyer_id: str = "",
    cursor: str | None = None,
    limit: int = PAGE_SIZE,
) -> Page:
    order = tables.orders
    condition = (order.status == status) if status else None
    start = decode_cursor(cursor)
    if buyer_id:
        results = order.by_buyer.query(
            buyer_id,
            scan_index_forward=False,
            filter_condition=condition,
            limit=limit,
            last_evaluated_key=start,
        )
    else:
        results = order.scan(filter_condition=condition, limit=limit, last_evaluated_key=start)
    return _page(results, limit)


# Usage


@dataclass(frozen=True)
class DayCount:
    day: date
    count: int


def _per_day(timestamps: Iterator[str], *, days: int) -> list[DayCount]:
    today = timezone.now().date()
    first = today - timedelta(days=days - 1)
    counts = Counter(stamp[:10] for stamp in timestamps if stamp and stamp[:10] >= first.isoformat())
    return [
        DayCount(day, counts.get(day.isoformat(), 0)) for day in (first + timedelta(n) for n in range(days))
    ]


def orders_per_day(*, tables: TenantModels, days: int = 30) -> list[DayCount]:
    orders = tables.orders.scan(attributes_to_get=["id", "created_at"])
    return _per_day((order.created_at for order in orders), days=days)


def listings_per_day(*, tables: TenantModels, days: int = 30) -> list[DayCount]:
    listings = tables.listings.scan(attributes_to_get=["id", "created_at"])
    return _per_day((listing.created_at for listing in listings), days=days)


# History
#
# The history table holds the hash chain's events under ``chain="events"`` (seq 1, 2, 3, ...),
# next to bookkeeping items of the stream consumer (its head and per-record markers) under
# other chain keys; these selectors read the events chain only, in seq order.


@dataclass(frozen=True)
class HistoryFilter:
    entity_type: str = ""
    entity_id: str = ""
    actor: str = ""
    since: str = ""
    until: str = ""

    def condition(self, history: type[Model], *, by_entity: bool):
        conditions = []
        if self.entity_type and not by_entity:
            conditions.append(history.entity_type == self.entity_type)
        if self.entity_id and not by_entity:
            conditions.append(history.entity_id == self.entity_id)
        if self.actor:
            conditions.append(history.actor == self.actor)
        if self.since:
            conditions.append(history.at >= self.since)
        if self.until:
            conditions.append(history.at < self.until)
        return _and(conditions)


def _history_query(tables: TenantModels, filters: HistoryFilter, *, newest_first: bool, **kwargs):
    """Events matching the filter, through the by_entity index when one entity is named."""
    history = tables.history
    by_entity = bool(filters.entity_type and filters.entity_id)
    condition = filters.condition(history, by_entity=by_entity)
    if by_entity:
        return history.by_entity.query(
            f"{filters.entity_type}#{filters.entity_id}",
            scan_index_forward=not newest_first,
            filter_condition=condition,
            **kwargs,
        )
    return history.query(
        EVENTS_CHAIN, scan_index_forward=not newest_first, filter_condition=condition, **kwargs
    )


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
    event: Model
    changes: list[FieldChange] = field(default_factory=list)


def _image(raw: str | None) -> dict:
    if not raw:
        return {}
    try:
        image = json.loads(raw)
    except ValueError:
        return {"(raw)": raw}
    return image if isinstance(image, dict) else {"(value)": image}


def field_changes(event: Model) -> list[FieldChange]:
    """The event's old and new images side by side, one row per field of either."""
    old, new = _image(event.old), _image(event.new)
    return [FieldChange(name, old.get(name), new.get(name)) for name in sorted(old.keys() | new.keys())]


def history_events(*, tables: TenantModels, filters: HistoryFilter) -> Iterator[Model]:
    """Every matching event, oldest first, read lazily page by page (for exports)."""
    return iter(_history_query(tables, filters, newest_first=False))


def history_newest(
    *, tables: TenantModels, filters: HistoryFilter, cursor: str | None = None, limit: int = HISTORY_LIMIT
) -> Page:
    """A page of matching events, newest first, each with its field changes."""
    results = _history_query(
        tables, filters, newest_first=True, limit=limit, last_evaluated_key=decode_cursor(cursor)
    )
    page = _page(results, limit)
    return Page(
        items=[HistoryRow(event=event, changes=field_changes(event)) for event in page.items],
        next_cursor=page.next_cursor,
    )


def history_activity_per_day(*, tables: TenantModels, days: int = 30) -> list[DayCount]:
    events = tables.history.query(EVENTS_CHAIN, attributes_to_get=["chain", "seq", "at"])
    return _per_day((event.at for event in events), days=days)
