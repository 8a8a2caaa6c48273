"""Webhook subscriptions and deliveries: register, fan out from the streams, deliver, redrive.

A delivery row is created once per (subscription, event) inside the consumer's handling of a
record, so a record applied twice makes one delivery. Its task is enqueued after commit; the
consumer also re-enqueues deliveries whose task went missing (``webhook_deliveries_requeue``),
so a crash between commit and enqueue delays a delivery but never loses it.

Retries: exponential backoff with full jitter, ``WEBHOOK_RETRY_BASE_SECONDS * 2**attempt``
capped at ``WEBHOOK_RETRY_MAX_SECONDS``; after ``WEBHOOK_MAX_ATTEMPTS`` failures the delivery is
``dead`` (the dead-letter list), visible and re-drivable from the console or the API.
"""

import json
import logging
import random
import secrets
import time
from datetime import timedelta

import urllib3
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from resale.history.services import rfc3339
from resale.models import WebhookDelivery, WebhookSubscription
from resale.webhooks.errors import WebhookDeliveryNotFound, WebhookNotFound, WebhookTargetRefused
from resale.webhooks.events import ALL_EVENTS, TEST_EVENT, WebhookEvent
from resale.webhooks.signing import webhook_signature
from resale.webhooks.targets import webhook_target_check

logger = logging.getLogger(__name__)

_http = urllib3.PoolManager(retries=False, maxsize=16)


def webhook_subscription_create(
    *, tenant_slug: str, url: str, events: list[str], actor: str = ""
) -> WebhookSubscription:
    """Registers a URL; the returned object's ``secret`` is the only time the secret is shown."""
    webhook_target_check(url)
    return WebhookSubscription.objects.create(
        id=f"wh_{secrets.token_hex(8)}",
        tenant_slug=tenant_slug,
        url=url,
        events=sorted(set(events)),
        secret=f"whsec_{secrets.token_urlsafe(32)}",
        created_by=actor,
    )


def webhook_subscriptions_list(*, tenant_slug: str) -> QuerySet[WebhookSubscription]:
    return WebhookSubscription.objects.filter(tenant_slug=tenant_slug, deleted_at__isnull=True)


def webhook_subscription_get(*, tenant_slug: str, webhook_id: str) -> WebhookSubscription:
    subscription = webhook_subscriptions_list(tenant_slug=tenant_slug).filter(id=webhook_id).first()
    if subscription is None:
        raise WebhookNotFound(f"No webhook {webhook_id}.")
    return subscription


def webhook_subscription_delete(*, tenant_slug: str, webhook_id: str) -> None:
    subscription = webhook_subscription_get(tenant_slug=tenant_slug, webhook_id=webhook_id)
    subscription.deleted_at = timezone.now()
    subscription.save(update_fields=["deleted_at"])


def _enqueue(delivery_ids: list[str]) -> None:
    from resale.webhooks.tasks import deliver_webhook

    for delivery_id in delivery_ids:
        deliver_webhook.delay(delivery_id)
    WebhookDelivery.objects.filter(id__in=delivery_ids).update(enqueued_at=timezone.now())


def _delivery_create(subscription: WebhookSubscription, event: WebhookEvent) -> WebhookDelivery | None:
    try:
        with transaction.atomic():
            return WebhookDelivery.objects.create(
                id=f"whd_{secrets.token_hex(10)}",
                subscription=subscription,
                tenant_slug=subscription.tenant_slug,
                event_id=event.event_id,
                event_type=event.event_type,
                payload=event.payload,
                next_attempt_at=timezone.now(),
            )
    except IntegrityError:
        return None


def webhook_deliveries_create(*, tenant_slug: str, events: list[WebhookEvent]) -> list[str]:
    """One delivery per matching subscription and event (none again for an event seen before)."""
    if not events:
        return []
    subscriptions = list(webhook_subscriptions_list(tenant_slug=tenant_slug))
    created = []
    with transaction.atomic():
        for event in events:
            for subscription in subscriptions:
                if event.event_type in subscription.events or ALL_EVENTS in subscription.events:
                    delivery = _delivery_create(subscription, event)
                    if delivery is not None:
                        created.append(delivery.id)
        transaction.on_commit(lambda: _enqueue(created))
    return created


def webhook_test_send(*, tenant_slug: str, webhook_id: str) -> WebhookDelivery:
    """Sends a ``webhook.test`` event to one webhook, through the same signed, retried path."""
    subscription = webhook_subscription_get(tenant_slug=tenant_slug, webhook_id=webhook_id)
    event_id = f"test#{secrets.token_hex(8)}"
    event = WebhookEvent(
        event_id=event_id,
        event_type=TEST_EVENT,
        payload={
            "id": event_id,
            "type": TEST_EVENT,
            "tenant": tenant_slug,
            "occurred_at": rfc3339(timezone.now()),
            "data": {"webhook_id": subscription.id},
        },
    )
    with transaction.atomic():
        delivery = _delivery_create(subscription, event)
        transaction.on_commit(lambda: _enqueue([delivery.id]))
    return delivery


def webhook_deliveries_list(
    *, tenant_slug: str, status: str | None = None, webhook_id: str | None = None
) -> QuerySet[WebhookDelivery]:
    deliveries = WebhookDelivery.objects.filter(tenant_slug=tenant_slug).select_related("subscription")
    if status:
        deliveries = deliveries.filter(status=status)
    if webhook_id:
        deliveries = deliveries.filter(subscription_id=webhook_id)
    return deliveries


def webhook_failed_deliveries(*, tenant_slug: str) -> QuerySet[WebhookDelivery]:
    """The dead-letter list: deliveries that used up their attempts."""
    return webhook_deliveries_list(tenant_slug=tenant_slug, status=WebhookDelivery.Status.DEAD)


def webhook_delivery_redrive(*, tenant_slug: str, delivery_id: str) -> WebhookDelivery:
    """Gives a dead (or pending) delivery a fresh set of attempts and sends it now."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update()
            .filter(tenant_slug=tenant_slug, id=delivery_id)
            .first()
        )
        if delivery is None:
            raise WebhookDeliveryNotFound(f"No delivery {delivery_id}.")
        if delivery.status != WebhookDelivery.Status.SUCCEEDED:
            delivery.status = WebhookDelivery.Status.PENDING
            delivery.attempts = 0
            delivery.next_attempt_at = timezone.now()
            delivery.save(update_fields=["status", "attempts", "next_attempt_at", "updated_at"])
            transaction.on_commit(lambda: _enqueue([delivery.id]))
    return delivery


def retry_delay(attempts: int) -> float:
    """Full-jitter exponential backoff: uniform in [0, min(cap, base * 2**attempts)], at least base/2."""
    ceiling = min(settings.WEBHOOK_RETRY_MAX_SECONDS, settings.WEBHOOK_RETRY_BASE_SECONDS * 2**attempts)
    return max(settings.WEBHOOK_RETRY_BASE_SECONDS / 2, random.uniform(0, ceiling))


def _post(subscription: WebhookSubscription, delivery: WebhookDelivery) -> tuple[int | None, str]:
    body = json.dumps(delivery.payload, sort_keys=True, separators=(",", ":")).encode()
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "resale-webhooks/1",
        "Webhook-Id": delivery.id,
        "Webhook-Event": delivery.event_type,
        "Webhook-Timestamp": str(timestamp),
        "Webhook-Signature": webhook_signature(secret=subscription.secret, timestamp=timestamp, body=body),
    }
    try:
        webhook_target_check(subscription.url)
        response = _http.request(
            "POST",
            subscription.url,
            body=body,
            headers=headers,
            timeout=urllib3.Timeout(total=settings.WEBHOOK_TIMEOUT_SECONDS),
            redirect=False,
        )
    except WebhookTargetRefused as exc:
        return None, exc.detail
    except urllib3.exceptions.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}"[:1000]
    return response.status, "" if 200 <= response.status < 300 else response.data[:500].decode(
        errors="replace"
    )


def webhook_delivery_attempt(*, delivery_id: str) -> float | None:
    """Tries one delivery once; returns the delay before the next try, or None when there is none.

    The row stays locked during the request, so two tasks for one delivery (a retry and a
    requeue) cannot both send it; a finished or dead delivery returns at once.
    """
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update()
            .select_related("subscription")
            .filter(id=delivery_id)
            .first()
        )
        if delivery is None or delivery.status != WebhookDelivery.Status.PENDING:
            return None
        now = timezone.now()
        if delivery.next_attempt_at and delivery.next_attempt_at > now + timedelta(seconds=1):
            return (delivery.next_attempt_at - now).total_seconds()
        subscription = delivery.subscription
        if subscription.deleted_at is not None:
            delivery.status = WebhookDelivery.Status.DEAD
            delivery.last_error = "webhook deleted"
            delivery.save(update_fields=["status", "last_error", "updated_at"])
            return None
        status_code, error = _post(subscription, delivery)
        delivery.attempts += 1
        delivery.last_status_code = status_code
        delivery.last_error = error
        delay = None
        if status_code is not None and 200 <= status_code < 300:
            delivery.status = WebhookDelivery.Status.SUCCEEDED
            delivery.delivered_at = timezone.now()
            delivery.next_attempt_at = None
        elif delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
            delivery.status = WebhookDelivery.Status.DEAD
            delivery.next_attempt_at = None
            logger.warning("webhook delivery dead", extra={"delivery": delivery.id, "error": error})
        else:
            delay = retry_delay(delivery.attempts)
            delivery.next_attempt_at = timezone.now() + timedelta(seconds=delay)
        delivery.save()
    return delay


def webhook_deliveries_requeue(*, older_than_seconds: float = 30) -> int:
    """Re-enqueues pending deliveries that are overdue and not enqueued lately (a lost task)."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    due = list(
        WebhookDelivery.objects.filter(
            Q(enqueued_at__isnull=True) | Q(enqueued_at__lte=cutoff),
            status=WebhookDelivery.Status.PENDING,
            next_attempt_at__lte=cutoff,
        ).values_list("id", flat=True)[:500]
    )
    if due:
        _enqueue(due)
    return len(due)
