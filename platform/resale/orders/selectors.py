from collections.abc import Iterator

from pynamodb.models import Model

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
