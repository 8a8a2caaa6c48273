from pynamodb.models import Model

from resale.errors import NotFound
from resale.tenancy import TenantRoute


def order_get(*, route: TenantRoute, order_id: str, consistent: bool = False) -> Model:
    try:
        return route.models.orders.get(order_id, consistent_read=consistent)
    except route.models.orders.DoesNotExist as exc:
        raise NotFound("No such order.") from exc
