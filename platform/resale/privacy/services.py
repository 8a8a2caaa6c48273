"""Erasing a buyer: the right to erasure against an append-only history.

An erasure is a recorded request (``ErasureRequest``, in PostgreSQL) and four steps:

1. destroy the buyer's key (the history's envelopes of that buyer can never be opened again, in
   any copy), leaving a tombstone;
2. record the erasure as a history event of its own (who, when, which key);
3. scrub the buyer's orders (personal attributes ``"[erased]"``, the Idempotency-Key and its
   record, whose request fingerprint digests the buyer's data, deleted);
4. scrub the webhook payloads the platform still stores.

Search holds listings only, declared ordinary: nothing of a buyer to scrub.

Crash-safety: the request is recorded, pending, before the first step, and marked complete (its
buyer id dropped) only after the last. Each step is idempotent: the tombstone is found again
(same erasure id), the history event is appended once per erasure id, an order is scrubbed only
while it still names the buyer, a payload only while it still holds the buyer's data. So an
erasure that failed at any step is completed by sending the request again, or, when nobody does,
by the sweep (``pending_erasures_complete``, Celery beat) after ``ERASURE_RETRY_AFTER_SECONDS``.
A second erasure of an erased buyer runs the steps again: it finds the tombstone and records
nothing new, and scrubs what the buyer wrote since. The stream carries the scrub's writes into
the history too; the consumer finds the tombstone and keeps their personal attributes as
``"[erased]"``.

A webhook delivery made from a record the stream still held when the erasure came is written
with the buyer's data already ``"[erased]"`` (``webhook_events_without_erased_buyers``). That
check and the deliveries' insert are one transaction holding the tenant's erasure lock shared;
recording an erasure takes it exclusively. So the effects either see the erasure recorded, or
commit their deliveries before it is, and then step 4, which runs after, scrubs them.
"""

import json
import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import TextField
from django.db.models.functions import Cast
from django.utils import timezone
from pynamodb.exceptions import DeleteError, UpdateError

from resale.binding import tenant_dynamodb_client
from resale.clock import utc_now
from resale.history.services import history_append
from resale.models import ErasureRequest, WebhookDelivery
from resale.privacy.declarations import ERASED, Privacy, privacy_of
from resale.privacy.keys import Tombstone, subject_digest, subject_key_destroy
from resale.privacy.sealing import ERASURES_ROLE
from resale.streams.records import INSERT, StreamRecord
from resale.tables import Order
from resale.tenancy import TenantRoute, tenant_route
from resale.webhooks.events import WebhookEvent

logger = logging.getLogger(__name__)

ORDER_PERSONAL_ATTRIBUTES = tuple(
    name for name, attribute in Order.get_attributes().items() if privacy_of(attribute) == Privacy.PERSONAL
)


@dataclass(frozen=True)
class Erasure:
    erasure_id: str
    erased_at: str
    erased_by: str
    orders_scrubbed: int
    webhook_payloads_scrubbed: int


def _erasure_record(tombstone: Tombstone) -> StreamRecord:
    return StreamRecord(
        event_id=tombstone.erasure_id,
        event=INSERT,
        table_role=ERASURES_ROLE,
        entity_type="erasure",
        entity_id=tombstone.erasure_id,
        old=None,
        new={
            "erasure_id": tombstone.erasure_id,
            "kid": tombstone.kid,
            "erased_at": tombstone.erased_at,
            "actor": tombstone.erased_by,
        },
        sequence_number=None,
        approximate_at=datetime.fromisoformat(tombstone.erased_at.replace("Z", "+00:00")),
    )


def _order_scrub(route: TenantRoute, order, *, buyer_id: str, actor: str) -> None:
    orders = route.models.orders
    address = order.shipping_address.as_dict() if order.shipping_address is not None else {}
    actions = [
        orders.buyer_id.set(ERASED),
        orders.shipping_address.set({name: ERASED for name in address}),
        orders.buyer_email.remove(),
        orders.idempotency_key.remove(),
        orders.updated_at.set(utc_now()),
        orders.actor.set(actor),
    ]
    try:
        order.update(actions=actions, condition=orders.buyer_id == buyer_id, add_version_condition=False)
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise


def _idempotency_record_delete(route: TenantRoute, key: str, order_id: str) -> None:
    records = route.models.idempotency
    try:
        records(key=key).delete(condition=records.order_id == order_id)
    except DeleteError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise


def _orders_scrub(route: TenantRoute, *, buyer_id: str, actor: str) -> int:
    scrubbed = 0
    for order in route.models.orders.by_buyer.query(buyer_id):
        if order.idempotency_key:
            _idempotency_record_delete(route, order.idempotency_key, order.id)
        _order_scrub(route, order, buyer_id=buyer_id, actor=actor)
        scrubbed += 1
    return scrubbed


def _scrubbed(value: Any, buyer_id: str) -> Any:
    """A payload with every order image of the buyer's personal attributes replaced by ERASED."""
    if isinstance(value, list):
        return [_scrubbed(item, buyer_id) for item in value]
    if not isinstance(value, dict):
        return value
    is_buyers_order = value.get("buyer_id") == buyer_id
    return {
        key: ERASED if is_buyers_order and key in ORDER_PERSONAL_ATTRIBUTES else _scrubbed(item, buyer_id)
        for key, item in value.items()
    }


def _erasures_lock(tenant_slug: str, *, shared: bool) -> None:
    """The tenant's erasure lock, held until the transaction ends: shared by the effects that
    check for erasures and store payloads, exclusive while an erasure is recorded."""
    lock = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {lock}(hashtextextended(%s, 0))", [f"erasures:{tenant_slug}"])


def webhook_events_without_erased_buyers(
    *, tenant_slug: str, events: list[WebhookEvent]
) -> list[WebhookEvent]:
    """The events with the personal data of every buyer erased (or being erased) replaced by
    ``"[erased]"``: a stream record written before an erasure and read after it (the stream's
    backlog, the effects queue on AWS) must not bring the buyer back in a new payload.

    Called inside the transaction that stores the events: an erasure recorded after this check
    waits for that transaction, so its scrub of stored payloads finds them."""
    buyers = {
        image["buyer_id"]
        for event in events
        for image in event.payload.get("data", {}).values()
        if isinstance(image, dict) and isinstance(image.get("buyer_id"), str)
    }
    if not buyers:
        return events
    if not connection.in_atomic_block:
        raise RuntimeError("webhook_events_without_erased_buyers runs in the transaction storing the events")
    _erasures_lock(tenant_slug, shared=True)
    by_digest = {subject_digest(buyer): buyer for buyer in buyers}
    erased = [
        by_digest[digest]
        for digest in ErasureRequest.objects.filter(
            tenant_slug=tenant_slug, subject_digest__in=by_digest
        ).values_list("subject_digest", flat=True)
    ]
    if not erased:
        return events
    scrubbed = []
    for event in events:
        payload = event.payload
        for buyer_id in erased:
            payload = _scrubbed(payload, buyer_id)
        scrubbed.append(replace(event, payload=payload))
    return scrubbed


def _webhook_payloads_scrub(tenant_slug: str, *, buyer_id: str) -> int:
    """Every stored payload naming the buyer, whatever its delivery status (pending ones go out
    scrubbed; delivered and dead ones stay readable in the deliveries API)."""
    candidates = (
        WebhookDelivery.objects.filter(tenant_slug=tenant_slug)
        .annotate(text=Cast("payload", TextField()))
        .filter(text__contains=json.dumps(buyer_id, ensure_ascii=False))
        .values_list("id", flat=True)
    )
    scrubbed = 0
    for delivery_id in candidates:
        with transaction.atomic():
            delivery = WebhookDelivery.objects.select_for_update().get(id=delivery_id)
            payload = _scrubbed(delivery.payload, buyer_id)
            if payload != delivery.payload:
                delivery.payload = payload
                delivery.save(update_fields=["payload", "updated_at"])
                scrubbed += 1
    return scrubbed


def erasure_request_record(*, tenant_slug: str, buyer_id: str, actor: str) -> ErasureRequest:
    """The buyer's erasure request, pending: made, or found again (a retry, or a later erasure).
    It waits for the effects storing webhook payloads now, so step 4 finds what they stored."""
    with transaction.atomic():
        _erasures_lock(tenant_slug, shared=False)
        request, _ = ErasureRequest.objects.select_for_update().get_or_create(
            tenant_slug=tenant_slug,
            subject_digest=subject_digest(buyer_id),
            defaults={"requested_by": actor, "attempted_at": timezone.now()},
        )
        request.buyer_id, request.requested_by = buyer_id, actor
        request.completed_at, request.attempted_at = None, timezone.now()
        request.save(update_fields=["buyer_id", "requested_by", "completed_at", "attempted_at"])
    return request


def _erasure_request_complete(request: ErasureRequest, tombstone: Tombstone) -> None:
    """Marks the request complete and drops the buyer's id, unless a newer request of the same
    buyer came in meanwhile (its own run completes it)."""
    ErasureRequest.objects.filter(id=request.id, attempted_at=request.attempted_at).update(
        buyer_id="", erasure_id=tombstone.erasure_id, completed_at=timezone.now()
    )


def erasure_run(*, route: TenantRoute, request: ErasureRequest) -> Erasure:
    """Runs every step of a recorded erasure, each idempotent, then marks it complete."""
    client = tenant_dynamodb_client(route.models.tenant)
    history_table = route.models.history.Meta.table_name
    tombstone = subject_key_destroy(
        client=client,
        table=history_table,
        subject=request.buyer_id,
        erased_at=utc_now(),
        erased_by=request.requested_by,
    )
    history_append(client=client, table=history_table, records=[_erasure_record(tombstone)])
    erasure = Erasure(
        erasure_id=tombstone.erasure_id,
        erased_at=tombstone.erased_at,
        erased_by=tombstone.erased_by,
        orders_scrubbed=_orders_scrub(route, buyer_id=request.buyer_id, actor=request.requested_by),
        webhook_payloads_scrubbed=_webhook_payloads_scrub(route.slug, buyer_id=request.buyer_id),
    )
    _erasure_request_complete(request, tombstone)
    return erasure


def buyer_erase(*, route: TenantRoute, buyer_id: str, actor: str) -> Erasure:
    """Erases one buyer of the tenant: request recorded, key destroyed, erasure recorded in the
    history, live data scrubbed, request complete."""
    request = erasure_request_record(tenant_slug=route.slug, buyer_id=buyer_id, actor=actor)
    return erasure_run(route=route, request=request)


def pending_erasures_complete(*, untouched_for: timedelta) -> int:
    """Completes the erasures a failed or dead request left pending and nobody has tried since;
    one that fails again stays pending for the next sweep. Returns how many were completed."""
    pending = ErasureRequest.objects.filter(
        completed_at=None, attempted_at__lt=timezone.now() - untouched_for
    ).order_by("attempted_at")
    completed = 0
    for request in pending:
        route = tenant_route(request.tenant_slug)
        if route is None:
            continue
        try:
            buyer_erase(route=route, buyer_id=request.buyer_id, actor=request.requested_by)
        except Exception:
            logger.exception("erasure %s still pending", request.id)
            continue
        completed += 1
    return completed
