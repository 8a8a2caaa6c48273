"""Erasing a buyer: the right to erasure against an append-only history.

``buyer_erase`` destroys the buyer's key (the history's envelopes of that buyer can never be
opened again, in any copy), records the erasure as a history event of its own (who, when,
which key), then scrubs the live places that hold the buyer's data in clear: the buyer's
orders (personal attributes ``"[erased]"``, the Idempotency-Key and its record, whose request
fingerprint digests the buyer's data, deleted) and the webhook payloads the platform still
stores. Search holds listings only, declared ordinary: nothing of a buyer to scrub.

Each step is idempotent and a second erasure of the same buyer finds the tombstone and
re-runs the rest, so a request interrupted anywhere is completed by sending it again. The
stream carries the scrub's writes into the history too; the consumer finds the tombstone and
keeps their personal attributes as ``"[erased]"``.
"""

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import TextField
from django.db.models.functions import Cast
from pynamodb.exceptions import DeleteError, UpdateError

from resale.binding import tenant_dynamodb_client
from resale.clock import utc_now
from resale.history.services import history_append
from resale.models import WebhookDelivery
from resale.privacy.declarations import ERASED, Privacy, privacy_of
from resale.privacy.keys import Tombstone, subject_key_destroy
from resale.privacy.sealing import ERASURES_ROLE
from resale.streams.records import INSERT, StreamRecord
from resale.tables import Order
from resale.tenancy import TenantRoute

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


def buyer_erase(*, route: TenantRoute, buyer_id: str, actor: str) -> Erasure:
    """Erases one buyer of the tenant: key destroyed, erasure recorded, live data scrubbed."""
    client = tenant_dynamodb_client(route.models.tenant)
    history_table = route.models.history.Meta.table_name
    tombstone = subject_key_destroy(
        client=client,
        table=history_table,
        subject=buyer_id,
        erased_at=utc_now(),
        erased_by=actor,
    )
    history_append(client=client, table=history_table, records=[_erasure_record(tombstone)])
    return Erasure(
        erasure_id=tombstone.erasure_id,
        erased_at=tombstone.erased_at,
        erased_by=tombstone.erased_by,
        orders_scrubbed=_orders_scrub(route, buyer_id=buyer_id, actor=actor),
        webhook_payloads_scrubbed=_webhook_payloads_scrub(route.slug, buyer_id=buyer_id),
    )
