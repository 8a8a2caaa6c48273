"""The PynamoDB models of a tenant's tables: attributes, keys, indexes, streams and TTL.

These classes are unbound (``table_name`` is None) and cannot reach any table: a request
works with a subclass bound to one tenant's tables (see ``resale.binding``). The Pulumi
tenant program declares its tables from these same classes (see ``provisioning.table_specs``),
so schema and infrastructure cannot drift apart.
"""

from pynamodb.attributes import (
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    VersionAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

NEW_AND_OLD_IMAGES = "NEW_AND_OLD_IMAGES"
PAY_PER_REQUEST = "PAY_PER_REQUEST"


class TenantTableMeta:
    table_name = None
    billing_mode = PAY_PER_REQUEST


def _index_meta(name: str) -> type:
    return type(
        "Meta", (), {"index_name": name, "projection": AllProjection(), "billing_mode": PAY_PER_REQUEST}
    )


class ListingsBySeller(GlobalSecondaryIndex):
    """A seller's listings, newest first (query with scan_index_forward=False)."""

    Meta = _index_meta("by_seller")
    seller_id = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class ListingsByStatus(GlobalSecondaryIndex):
    Meta = _index_meta("by_status")
    status = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class ListingsByCategory(GlobalSecondaryIndex):
    Meta = _index_meta("by_category")
    category = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class Listing(Model):
    class Meta(TenantTableMeta):
        stream_view_type = NEW_AND_OLD_IMAGES

    id = UnicodeAttribute(hash_key=True)
    seller_id = UnicodeAttribute()
    title = UnicodeAttribute()
    description = UnicodeAttribute(default="")
    category = UnicodeAttribute()
    condition = UnicodeAttribute()
    price = UnicodeAttribute()
    currency = UnicodeAttribute()
    attributes = MapAttribute(default=dict)
    image_keys = ListAttribute(default=list)
    status = UnicodeAttribute(default="active")
    reserved_order_id = UnicodeAttribute(null=True)
    version = VersionAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    actor = UnicodeAttribute()

    by_seller = ListingsBySeller()
    by_status = ListingsByStatus()
    by_category = ListingsByCategory()


class OrdersByBuyer(GlobalSecondaryIndex):
    Meta = _index_meta("by_buyer")
    buyer_id = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class OrdersByStatus(GlobalSecondaryIndex):
    """Orders in one status, least recently changed first: how stalled workflows are found."""

    Meta = _index_meta("by_status")
    status = UnicodeAttribute(hash_key=True)
    updated_at = UnicodeAttribute(range_key=True)


class OrderStatusChange(MapAttribute):
    status = UnicodeAttribute()
    at = UnicodeAttribute()
    actor = UnicodeAttribute()
    reason = UnicodeAttribute(default="")


class Order(Model):
    class Meta(TenantTableMeta):
        stream_view_type = NEW_AND_OLD_IMAGES

    id = UnicodeAttribute(hash_key=True)
    listing_id = UnicodeAttribute()
    buyer_id = UnicodeAttribute()
    status = UnicodeAttribute()
    amount = UnicodeAttribute()
    currency = UnicodeAttribute()
    shipping_address = MapAttribute(default=dict)
    payment_token_fingerprint = UnicodeAttribute()
    payment_token_sealed = UnicodeAttribute(null=True)
    payment_reference = UnicodeAttribute(null=True)
    shipment_reference = UnicodeAttribute(null=True)
    shipping_started_at = UnicodeAttribute(null=True)
    refund_reference = UnicodeAttribute(null=True)
    buyer_email = UnicodeAttribute(null=True)
    idempotency_key = UnicodeAttribute(null=True)
    notified = ListAttribute(default=list)
    history = ListAttribute(of=OrderStatusChange, default=list)
    version = VersionAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    actor = UnicodeAttribute()

    by_buyer = OrdersByBuyer()
    by_status = OrdersByStatus()


class Link(Model):
    """A tracking link: ``/r/<tenant>/<code>`` redirects to ``target_url``."""

    class Meta(TenantTableMeta):
        stream_view_type = NEW_AND_OLD_IMAGES

    code = UnicodeAttribute(hash_key=True)
    target_url = UnicodeAttribute()
    listing_id = UnicodeAttribute(null=True)
    affiliate_id = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    actor = UnicodeAttribute()


class Click(Model):
    """One click on a link, kept 60 days (DynamoDB TTL)."""

    class Meta(TenantTableMeta):
        stream_view_type = NEW_AND_OLD_IMAGES

    code = UnicodeAttribute(hash_key=True)
    clicked_at = UnicodeAttribute(range_key=True)
    affiliate_id = UnicodeAttribute(null=True)
    listing_id = UnicodeAttribute(null=True)
    referrer = UnicodeAttribute(null=True)
    user_agent = UnicodeAttribute(null=True)
    actor = UnicodeAttribute(default="anonymous")
    expires_at = TTLAttribute()


class IdempotencyRecord(Model):
    """An Idempotency-Key and the order it produced, kept 24 hours (DynamoDB TTL)."""

    class Meta(TenantTableMeta):
        pass

    key = UnicodeAttribute(hash_key=True)
    request_fingerprint = UnicodeAttribute()
    order_id = UnicodeAttribute()
    created_at = UnicodeAttribute()
    expires_at = TTLAttribute()


class HistoryByEntity(GlobalSecondaryIndex):
    Meta = _index_meta("by_entity")
    entity_key = UnicodeAttribute(hash_key=True)
    seq = NumberAttribute(range_key=True)


class HistoryEvent(Model):
    """One event of the tenant's append-only, hash-chained history (written by the stream consumer)."""

    class Meta(TenantTableMeta):
        pass

    chain = UnicodeAttribute(hash_key=True)
    seq = NumberAttribute(range_key=True)
    chain_version = NumberAttribute(null=True)
    event = UnicodeAttribute()
    entity_type = UnicodeAttribute()
    entity_id = UnicodeAttribute()
    entity_key = UnicodeAttribute()
    old = UnicodeAttribute(null=True)
    new = UnicodeAttribute(null=True)
    actor = UnicodeAttribute()
    at = UnicodeAttribute()
    source = UnicodeAttribute()
    stream_sequence = UnicodeAttribute(null=True)
    recorded_at = UnicodeAttribute(null=True)
    hash = UnicodeAttribute()
    prev_hash = UnicodeAttribute()

    by_entity = HistoryByEntity()


TENANT_TABLE_MODELS: dict[str, type[Model]] = {
    "listings": Listing,
    "orders": Order,
    "links": Link,
    "clicks": Click,
    "idempotency": IdempotencyRecord,
    "history": HistoryEvent,
}
"""Every table a tenant has, by role. The role names are the keys of the provisioning outputs."""
