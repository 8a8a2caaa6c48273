"""Which webhook events a stream record makes, and their payloads.

A payload carries what the item's model declares keepable: ordinary attributes, and personal
ones in clear (the tenant's own integration ships the order); secrets never.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from resale.history.services import rfc3339
from resale.privacy.declarations import in_clear, keepable_image
from resale.streams.records import EXPIRE, INSERT, MODIFY, REMOVE, StreamRecord
from resale.tables import TENANT_TABLE_MODELS

ORDER_STATUSES = ("submitted", "paid", "shipped", "completed", "payment_failed", "cancelled")
EVENT_TYPES = frozenset(
    {
        "listing.created",
        "listing.updated",
        "listing.withdrawn",
        "listing.sold",
        "listing.deleted",
        "link.created",
        *(f"order.{status}" for status in ORDER_STATUSES),
    }
)
ALL_EVENTS = "*"
TEST_EVENT = "webhook.test"


@dataclass(frozen=True)
class WebhookEvent:
    event_id: str
    event_type: str
    payload: dict[str, Any]


def _listing_event(record: StreamRecord) -> str | None:
    if record.event == INSERT:
        return "listing.created"
    if record.event in (REMOVE, EXPIRE):
        return "listing.deleted"
    old_status = (record.old or {}).get("status")
    new_status = (record.new or {}).get("status")
    if new_status != old_status and new_status in ("withdrawn", "sold"):
        return f"listing.{new_status}"
    return "listing.updated"


def _order_event(record: StreamRecord) -> str | None:
    if record.event not in (INSERT, MODIFY):
        return None
    new_status = (record.new or {}).get("status")
    if record.event == MODIFY and new_status == (record.old or {}).get("status"):
        return None
    return f"order.{new_status}" if new_status in ORDER_STATUSES else None


def webhook_body(*, event_type: str, timestamp: datetime, data: dict[str, Any]) -> dict[str, Any]:
    """The body a receiver gets, as the Standard Webhooks specification shapes it."""
    return {"type": event_type, "timestamp": rfc3339(timestamp), "data": data}


def webhook_event_for(*, record: StreamRecord) -> WebhookEvent | None:
    if record.table_role == "listings":
        event_type = _listing_event(record)
    elif record.table_role == "orders":
        event_type = _order_event(record)
    elif record.table_role == "links" and record.event == INSERT:
        event_type = "link.created"
    else:
        event_type = None
    if event_type is None:
        return None
    schema = TENANT_TABLE_MODELS[record.table_role]
    payload = webhook_body(
        event_type=event_type,
        timestamp=record.approximate_at,
        data={
            record.entity_type: keepable_image(schema, record.image, personal_value=in_clear),
            "previous": keepable_image(schema, record.old, personal_value=in_clear),
        },
    )
    return WebhookEvent(
        event_id=f"{record.table_role}#{record.event_id}", event_type=event_type, payload=payload
    )
