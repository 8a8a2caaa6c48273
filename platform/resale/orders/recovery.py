"""Orders whose workflow stopped are queued again.

The API answers 202 once the order is safe in DynamoDB; if queueing its workflow then fails
(Redis down) or a workflow task gives up on an unexpected error, nothing would move the order
again. This sweep, run periodically by Celery beat, finds in-flight orders unchanged for a while
and queues their workflow. The workflow re-reads the order and its steps are idempotent (the
charge is keyed by the order id), so an order queued twice is still charged once.
"""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from resale.clock import rfc3339
from resale.orders.selectors import orders_stalled
from resale.registry import serving_tenant_slugs
from resale.tenancy import tenant_route


def stalled_orders_requeue(
    *, stalled_for: timedelta, enqueue: Callable[[str, str], object]
) -> list[tuple[str, str]]:
    """Calls ``enqueue(tenant_slug, order_id)`` (the workflow task's ``delay``) for every active
    tenant's in-flight order unchanged for ``stalled_for``; returns the pairs it queued."""
    unchanged_since = rfc3339(datetime.now(UTC) - stalled_for)
    requeued = []
    for slug in serving_tenant_slugs():
        route = tenant_route(slug)
        if route is None:
            continue
        for order in orders_stalled(route=route, unchanged_since=unchanged_since):
            enqueue(slug, order.id)
            requeued.append((slug, order.id))
    return requeued
