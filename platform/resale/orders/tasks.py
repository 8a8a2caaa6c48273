"""Celery tasks of the order workflow. Each task names its tenant and binds it itself.

No thread-local or context state carries a tenant from one task to the next: the task looks
up the tenant's route from the slug it was given, every time.
"""

from datetime import timedelta

from celery import shared_task
from django.conf import settings

from resale.errors import DataStoreUnavailable, as_unavailable, is_transient_dynamodb_error
from resale.orders.recovery import stalled_orders_requeue
from resale.orders.workflow import order_abandon_payment, order_advance
from resale.providers.client import ProviderUnavailable
from resale.tenancy import tenant_route

DATA_STORE_MAX_RETRIES = 30
"""DynamoDB throttling or an outage: keep retrying (full jitter, capped at a minute) for about
12 minutes on average; past that the stalled-orders sweep queues the workflow again."""


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(ProviderUnavailable, DataStoreUnavailable),
    retry_backoff=settings.ORDER_WORKFLOW_BACKOFF_SECONDS,
    retry_backoff_max=60,
    retry_jitter=True,
    # The provider's budget (ORDER_WORKFLOW_MAX_RETRIES) is kept below, where giving up relists.
    max_retries=max(DATA_STORE_MAX_RETRIES, settings.ORDER_WORKFLOW_MAX_RETRIES),
)
def order_workflow(self, tenant_slug: str, order_id: str) -> str:
    route = tenant_route(tenant_slug)
    if route is None:
        return "unroutable"
    try:
        return order_advance(route=route, order_id=order_id)
    except ProviderUnavailable as exc:
        if self.request.retries >= settings.ORDER_WORKFLOW_MAX_RETRIES:
            order_abandon_payment(route=route, order_id=order_id, reason=f"provider unavailable: {exc}")
            return "gave_up"
        raise
    except Exception as exc:
        if is_transient_dynamodb_error(exc):
            raise as_unavailable(exc) from exc
        raise


@shared_task(acks_late=True)
def stalled_orders_sweep() -> int:
    """Periodic (Celery beat): queues again the workflows that stopped; see resale.orders.recovery."""
    stalled_for = timedelta(seconds=settings.ORDER_STALLED_AFTER_SECONDS)
    return len(stalled_orders_requeue(stalled_for=stalled_for, enqueue=order_workflow.delay))
