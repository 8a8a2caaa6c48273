"""The PynamoDB models of a tenant's tables: attributes, keys, indexes, streams and TTL.

These classes are unbound (``table_name`` is None) and cannot reach any table: a request
works with a subclass bound to one tenant's tables (see ``resale.binding``). The Pulumi
tenant program declares its tables from these same classes (see ``provisioning.table_specs``),
so schema and infrastructure cannot drift apart.

Every attribute declares what it is (``ordinary``, ``personal`` or ``secret``, see
``resale.privacy.declarations``): that, and nothing else, decides what leaves the live item.
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

from resale.privacy.declarations import ordinary, personal, secret

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

    id = ordinary(UnicodeAttribute(hash_key=True))
    seller_id = ordinary(UnicodeAttribute())
    title = ordinary(UnicodeAttribute())
    description = ordinary(UnicodeAttribute(default=""))
    category = ordinary(UnicodeAttribute())
    condition = ordinary(UnicodeAttribute())
    price = ordinary(UnicodeAttribute())
    currency = ordinary(UnicodeAttribute())
    attributes = ordinary(MapAttribute(default=dict))
    image_keys = ordinary(ListAttribute(default=list))
    status = ordinary(UnicodeAttribute(default="active"))
    reserved_order_id = ordinary(UnicodeAttribute(null=True))
    version = ordinary(VersionAttribute())
    created_at = ordinary(UnicodeAttribute())
    updated_at = ordinary(UnicodeAttribute())
    actor = ordinary(UnicodeAttribute())

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
    status = ordinary(UnicodeAttribute())
    at = ordinary(UnicodeAttribute())
    actor = ordinary(UnicodeAttribute())
    reason = ordinary(UnicodeAttribute(default=""))


class Order(Model):
    class Meta(TenantTableMeta):
        stream_view_type = NEW_AND_OLD_IMAGES
        data_subject = "buyer_id"

    id = ordinary(UnicodeAttribute(hash_key=True))
    listing_id = ordinary(UnicodeAttribute())
    buyer_id = personal(UnicodeAttribute())
    status = ordinary(UnicodeAttribute())
    amount = ordinary(UnicodeAttribute())
    currency = ordinary(UnicodeAttribute())
    shipping_address = personal(MapAttribute(default=dict))
    payment_token_fingerprint = secret(UnicodeAttribute())
    payment_token_sealed = secret(UnicodeAttribute(null=True))
    payment_reference = ordinary(UnicodeAttribute(null=True))
    shipment_reference = ordinary(UnicodeAttribute(null=True))
    shipping_started_at = ordinary(UnicodeAttribute(null=True))
    refund_reference = ordinary(UnicodeAttribute(null=True))
    buyer_email = personal(UnicodeAttribute(null=True))
    idempotency_key = secret(UnicodeAttribute(null=True))
    notified = ordinary(ListAttribute(default=list))
    history = ordinary(ListAttribute(of=OrderStatusChange, default=list))
    version = ordinary(VersionAttribute())
    created_at = ordinary(UnicodeAttribute())
    updated_at = ordinary(UnicodeAttribute())
    actor = ordinary(UnicodeAttribute())

    by_buyer = OrdersByBuyer()
    by_status = OrdersByStatus()


class Link(Model):
    """A tracking link: ``/r/<tenant>/<code>`` redirects to ``target_url``."""

    class Meta(TenantTableMeta):
        stream_view_type = NEW_AND_OLD_IMAGES

    code = ordinary(UnicodeAttribute(hash_key=True))
    target_url = ordinary(UnicodeAttribute())
    listing_id = ordinary(UnicodeAttribute(null=True))
    affiliate_id = ordinary(UnicodeAttribute(null=True))
    created_at = ordinary(UnicodeAttribute())
    actor = ordinary(UnicodeAttribute())


class Click(Model):
    """One click on a link, kept 60 days (DynamoDB TTL)."""

    class Meta(TenantTableMeta):
        stream_view_type = NEW_AND_OLD_IMAGES

    code = ordinary(UnicodeAttribute(hash_key=True))
    clicked_at = ordinary(UnicodeAttribute(range_key=True))
    affiliate_id = ordinary(UnicodeAttribute(null=True))
    listing_id = ordinary(UnicodeAttribute(null=True))
    referrer = personal(UnicodeAttribute(null=True))
    user_agent = personal(UnicodeAttribute(null=True))
    actor = ordinary(UnicodeAttribute(default="anonymous"))
    expires_at = ordinary(TTLAttribute())


class IdempotencyRecord(Model):
    """An Idempotency-Key and the order it produced, kept 24 hours (DynamoDB TTL)."""

    class Meta(TenantTableMeta):
        pass

    key = secret(UnicodeAttribute(hash_key=True))
    request_fingerprint = secret(UnicodeAttribute())
    order_id = ordinary(UnicodeAttribute())
    created_at = ordinary(UnicodeAttribute())
    expires_at = ordinary(TTLAttribute())


class HistoryByEntity(GlobalSecondaryIndex):
    Meta = _index_meta("by_entity")
    entity_key = UnicodeAttribute(hash_key=True)
    seq = NumberAttribute(range_key=True)


class HistoryEvent(Model):
    """One event of the tenant's append-only, hash-chained history (written by the stream consumer)."""

    class Meta(TenantTableMeta):
        pass

    chain = ordinary(UnicodeAttribute(hash_key=True))
    seq = ordinary(NumberAttribute(range_key=True))
    chain_version = ordinary(NumberAttribute(null=True))
    event = ordinary(UnicodeAttribute())
    entity_type = ordinary(UnicodeAttribute())
    entity_id = ordinary(UnicodeAttribute())
    entity_key = ordinary(UnicodeAttribute())
    old = ordinary(UnicodeAttribute(null=True))
    new = ordinary(UnicodeAttribute(null=True))
    actor = ordinary(UnicodeAttribute())
    at = ordinary(UnicodeAttribute())
    source = ordinary(UnicodeAttribute())
    stream_sequence = ordinary(UnicodeAttribute(null=True))
    recorded_at = ordinary(UnicodeAttribute(null=True))
    hash = ordinary(UnicodeAttribute())
    prev_hash = ordinary(UnicodeAttribute())

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
