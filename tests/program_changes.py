"""Changes of the tenant program made from outside, as a developer's edit of a model would make them.

A ``sitecustomize.py`` with one of these texts, on the ``PYTHONPATH`` of a process, changes the
models in that process: the orders table gets one index more (``by_listing``), or the idempotency
table a stream. Tests and ``bench/fleet.py`` use them to roll a changed program out to tenants
onboarded with the unchanged one (the ``program_change`` fixture writes one for the program's
evaluations).
"""

NEW_INDEX_SITECUSTOMIZE = """
from pynamodb.attributes import UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from resale import tables


class OrdersByListing(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_listing"
        projection = AllProjection()
        billing_mode = "PAY_PER_REQUEST"

    listing_id = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class OrderWithListingIndex(tables.Order):
    by_listing = OrdersByListing()


tables.TENANT_TABLE_MODELS["orders"] = OrderWithListingIndex
"""

NEW_STREAM_SITECUSTOMIZE = """
from resale import tables


class IdempotencyWithStream(tables.TENANT_TABLE_MODELS["idempotency"]):
    class Meta(tables.TENANT_TABLE_MODELS["idempotency"].Meta):
        stream_view_type = tables.NEW_AND_OLD_IMAGES


tables.TENANT_TABLE_MODELS["idempotency"] = IdempotencyWithStream
"""
