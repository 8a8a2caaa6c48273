"""The delivery task, and the periodic sweep that queues again deliveries whose task went missing.

The delivery task takes an id, re-reads the delivery, tries once, and schedules its own retry.
The attempt count and the next attempt time live on the delivery row (not in Celery's retry
state), so they survive a lost message and the console shows them; a task for a delivery that
is already done returns quietly.
"""

from celery import shared_task

from resale.webhooks.services import webhook_deliveries_requeue, webhook_delivery_attempt


@shared_task(acks_late=True, ignore_result=True)
def deliver_webhook(delivery_id: str) -> None:
    delay = webhook_delivery_attempt(delivery_id=delivery_id)
    if delay is not None:
        deliver_webhook.apply_async((delivery_id,), countdown=delay)


@shared_task(acks_late=True, ignore_result=True)
def webhook_deliveries_requeue_sweep() -> int:
    """Periodic (Celery beat): queues again the overdue deliveries whose task went missing."""
    return webhook_deliveries_requeue()
