"""Webhook subscriptions and deliveries: register, fan out from the streams, deliver, redrive.

A delivery row is created once per (subscription, event) inside the consumer's handling of a
record, so a record applied twice makes one delivery. Its task is enqueued after commit; a
sweep that Celery beat runs every ``WEBHOOK_REQUEUE_SWEEP_SECONDS`` re-enqueues deliveries whose
task went missing (``webhook_deliveries_requeue``), so a crash between commit and enqueue delays
a delivery but never loses it.

An attempt holds no transaction or row lock while it waits on the receiver: one conditional
UPDATE claims the delivery (a token, valid for the timeout plus a margin, and one more attempt
counted) only if it is pending, due and unclaimed; the POST goes out with no transaction open;
a conditional UPDATE on the token records the outcome only if the claim still holds. Of several
tasks racing for one delivery one claims it and the others wait; a worker killed mid-send
leaves a claim that lapses, and the delivery is sent again (at least once, with the same
``webhook-id`` for the receiver to drop the duplicate).

Retries: exponential backoff with full jitter, ``WEBHOOK_RETRY_BASE_SECONDS * 2**attempt``
capped at ``WEBHOOK_RETRY_MAX_SECONDS``; after ``WEBHOOK_MAX_ATTEMPTS`` failures the delivery is
``dead`` (the dead-letter list), visible and re-drivable from the console or the API.

Fair share: a tenant has at most its tier's ``max_webhooks`` subscriptions, and its test
deliveries and redrives share a bucket of ``webhook_sends_per_minute``.
"""

import json
import logging
import secrets
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from resale.backoff import backoff_delay
from resale.models import WebhookDelivery, WebhookSubscription
from resale.ratelimit.limiter import rate_limit_enforce
from resale.registry import TierPolicy
from resale.webhooks.errors import (
    WebhookDeliveryNotFound,
    WebhookLimitReached,
    WebhookNotFound,
    WebhookTargetRefused,
)
from resale.webhooks.events import ALL_EVENTS, TEST_EVENT, WebhookEvent, webhook_body
from resale.webhooks.sender import SendOutcome, webhook_post
from resale.webhooks.signing import webhook_secret_new, webhook_signed_headers
from resale.webhooks.targets import webhook_target_check, webhook_target_resolve

logger = logging.getLogger(__name__)

CLAIM_MARGIN_SECONDS = 30
"""How long past the timeout a claim outlives its attempt: DNS, signing and recording the outcome."""


def webhook_subscription_create(
    *, tenant_slug: str, policy: TierPolicy, url: str, events: list[str], actor: str = ""
) -> WebhookSubscription:
    """Registers a URL; the returned object's ``secret`` is the only time the secret is shown.

    Creates for one tenant are serialised (a transaction-scoped advisory lock), so concurrent
    requests cannot count the same free slot twice and pass the tier's ``max_webhooks``.
    """
    webhook_target_check(url)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"webhooks:{tenant_slug}"]
            )
        if webhook_subscriptions_list(tenant_slug=tenant_slug).count() >= policy.max_webhooks:
            raise WebhookLimitReached(
                f"The {policy.name} tier allows {policy.max_webhooks} webhooks (max_webhooks); "
                "delete one before adding another."
            )
        return WebhookSubscription.objects.create(
            id=f"wh_{secrets.token_hex(8)}",
            tenant_slug=tenant_slug,
            url=url,
            events=sorted(set(events)),
            secret=webhook_secret_new(),
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


def webhook_test_send(*, tenant_slug: str, policy: TierPolicy, webhook_id: str) -> WebhookDelivery:
    """Sends a ``webhook.test`` event to one webhook, through the same signed, retried path.

    Counts against the tenant's ``webhook_sends`` bucket (429 past it), like a redrive.
    """
    subscription = webhook_subscription_get(tenant_slug=tenant_slug, webhook_id=webhook_id)
    rate_limit_enforce(tenant_slug=tenant_slug, policy=policy, quota="webhook_sends")
    event = WebhookEvent(
        event_id=f"test#{secrets.token_hex(8)}",
        event_type=TEST_EVENT,
        payload=webhook_body(
            event_type=TEST_EVENT, timestamp=timezone.now(), data={"webhook_id": subscription.id}
        ),
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


def webhook_delivery_redrive(*, tenant_slug: str, policy: TierPolicy, delivery_id: str) -> WebhookDelivery:
    """Gives a dead (or pending) delivery a fresh set of attempts and sends it now.

    Counts against the tenant's ``webhook_sends`` bucket (429 past it), like a test delivery.
    """
    if not WebhookDelivery.objects.filter(tenant_slug=tenant_slug, id=delivery_id).exists():
        raise WebhookDeliveryNotFound(f"No delivery {delivery_id}.")
    rate_limit_enforce(tenant_slug=tenant_slug, policy=policy, quota="webhook_sends")
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().get(tenant_slug=tenant_slug, id=delivery_id)
        if delivery.status != WebhookDelivery.Status.SUCCEEDED:
            delivery.status = WebhookDelivery.Status.PENDING
            delivery.attempts = 0
            delivery.next_attempt_at = timezone.now()
            delivery.save(update_fields=["status", "attempts", "next_attempt_at", "updated_at"])
            transaction.on_commit(lambda: _enqueue([delivery.id]))
    return delivery


def retry_delay(attempts: int) -> float:
    """Full-jitter exponential backoff from the webhook settings, at least half the base."""
    base = settings.WEBHOOK_RETRY_BASE_SECONDS
    return backoff_delay(attempts, base=base, cap=settings.WEBHOOK_RETRY_MAX_SECONDS, floor=base / 2)


def _attempt_claim(delivery_id: str) -> tuple[WebhookDelivery | None, float | None]:
    """The delivery to send now, claimed by one conditional UPDATE with one more attempt counted;
    or none and how long until it may be due (``None``: it never will)."""
    delivery = WebhookDelivery.objects.select_related("subscription").filter(id=delivery_id).first()
    if delivery is None or delivery.status != WebhookDelivery.Status.PENDING:
        return None, None
    if delivery.subscription.deleted_at is not None:
        WebhookDelivery.objects.filter(id=delivery_id, status=WebhookDelivery.Status.PENDING).update(
            status=WebhookDelivery.Status.DEAD, last_error="webhook deleted", updated_at=timezone.now()
        )
        return None, None
    now = timezone.now()
    due = now + timedelta(seconds=1)
    token = secrets.token_hex(16)
    claimed = WebhookDelivery.objects.filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=due),
        Q(claimed_until__isnull=True) | Q(claimed_until__lte=due),
        id=delivery_id,
        status=WebhookDelivery.Status.PENDING,
    ).update(
        claim_token=token,
        claimed_until=now + timedelta(seconds=settings.WEBHOOK_TIMEOUT_SECONDS + CLAIM_MARGIN_SECONDS),
        attempts=F("attempts") + 1,
        updated_at=now,
    )
    if not claimed:
        return None, _seconds_until_free(delivery_id, now)
    delivery.refresh_from_db(fields=["claim_token", "claimed_until", "attempts"])
    return delivery, None


def _seconds_until_free(delivery_id: str, now: datetime) -> float | None:
    """How long until a delivery someone else holds (or that is not due) may be tried again."""
    row = (
        WebhookDelivery.objects.filter(id=delivery_id, status=WebhookDelivery.Status.PENDING)
        .values("next_attempt_at", "claimed_until")
        .first()
    )
    if row is None:
        return None
    busy_until = max(filter(None, [row["next_attempt_at"], row["claimed_until"]]), default=now)
    return max(1.0, (busy_until - now).total_seconds())


def _send(delivery: WebhookDelivery) -> SendOutcome:
    """One signed POST, to the address the target check approved just now (no transaction open)."""
    body = json.dumps(delivery.payload, separators=(",", ":")).encode()
    headers = {
        "content-type": "application/json",
        **webhook_signed_headers(
            secret=delivery.subscription.secret, message_id=delivery.id, timestamp=int(time.time()), body=body
        ),
    }
    try:
        target = webhook_target_resolve(delivery.subscription.url)
    except WebhookTargetRefused as exc:
        return SendOutcome(None, 0, exc.detail)
    return webhook_post(
        target=target, body=body, headers=headers, timeout_seconds=settings.WEBHOOK_TIMEOUT_SECONDS
    )


def _attempt_record(claimed: WebhookDelivery, outcome: SendOutcome) -> float | None:
    """Records the outcome by conditional UPDATEs on the claim's token (nothing when the claim
    lapsed and another attempt took over); returns the delay before the next try, if any."""
    now = timezone.now()
    mine = WebhookDelivery.objects.filter(
        id=claimed.id, claim_token=claimed.claim_token, status=WebhookDelivery.Status.PENDING
    )
    released = {
        "claim_token": "",
        "claimed_until": None,
        "last_status_code": outcome.status_code,
        "last_error": outcome.error,
        "updated_at": now,
    }
    if outcome.delivered:
        mine.update(
            **released, status=WebhookDelivery.Status.SUCCEEDED, delivered_at=now, next_attempt_at=None
        )
        return None
    if mine.filter(attempts__gte=settings.WEBHOOK_MAX_ATTEMPTS).update(
        **released, status=WebhookDelivery.Status.DEAD, next_attempt_at=None
    ):
        logger.warning("webhook delivery dead", extra={"delivery": claimed.id, "error": outcome.error})
        return None
    delay = retry_delay(claimed.attempts)
    if not mine.update(**released, next_attempt_at=now + timedelta(seconds=delay)):
        return None
    return delay


def webhook_delivery_attempt(*, delivery_id: str) -> float | None:
    """Tries one delivery once; returns the delay before the next try, or None when there is none."""
    delivery, wait = _attempt_claim(delivery_id)
    if delivery is None:
        return wait
    return _attempt_record(delivery, _send(delivery))


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
