from pynamodb.models import Model

from resale.errors import NotFound
from resale.ids import plausible_id
from resale.tenancy import TenantRoute


def order_get(*, route: TenantRoute, order_id: str, consistent: bool = False) -> Model:
    if not plausible_id(order_id):
        raise NotFound("No such order.")
    try:
        return route.models.orders.get(order_id, consistent_read=consistent)
    except route.models.orders.DoesNotExist as exc:
        raise NotFound("No such order.") from exc
