from collections.abc import Iterator

from pynamodb.models import Model

from resale.cursors import Page, cursor_decode, cursor_encode
from resale.errors import NotFound
from resale.ids import plausible_id
from resale.orders.status import IN_FLIGHT_STATUSES
from resale.tenancy import TenantRoute


def order_get(*, route: TenantRoute, order_id: str, consistent: bool = False) -> Model:
    if not plausible_id(order_id):
        raise NotFound("No such order.")
    try:
        return route.models.orders.get(order_id, consistent_read=consistent)
    except route.models.orders.DoesNotExist as exc:
        raise NotFound("No such order.") from exc


def orders_stalled(*, route: TenantRoute, unchanged_since: str) -> Iterator[Model]:
    """Orders still in flight whose last change is older than ``unchanged_since`` (RFC 3339)."""
    for status in IN_FLIGHT_STATUSES:
        yield from route.models.orders.by_status.query(
            status, route.models.orders.updated_at < unchanged_since
        )


def order_list(
    *, route: TenantRoute, status: str = "", buyer_id: str = "", cursor: str | None = None, limit: int = 50
) -> Page:
    """One page of orders: a buyer's newest first (in ``status`` if given), else one status's
    most recently changed first, else the table in no set order; a cursor of another query
    raises ``InvalidCursor``."""
    model = route.models.orders
    query = {"status": status, "buyer_id": buyer_id}
    reading = {
        "limit": limit,
        "last_evaluated_key": cursor_decode(tenant_slug=route.slug, query=query, cursor=cursor),
    }
    if buyer_id:
        condition = (model.status == status) if status else None
        results = model.by_buyer.query(
            buyer_id, scan_index_forward=False, filter_condition=condition, **reading
        )
    elif status:
        results = model.by_status.query(status, scan_index_forward=False, **reading)
    else:
        results = model.scan(**reading)
    items = list(results)
    position = results.last_evaluated_key if len(items) >= limit else None
    return Page(
        items=items, next_cursor=cursor_encode(tenant_slug=route.slug, query=query, position=position)
    )
