"""Changes of the tenant program made from outside, as a developer's edit of a model would make them.

A ``sitecustomize.py`` with this text, on the ``PYTHONPATH`` of a process, gives the orders table
one index more (``by_listing``) in that process: tests and ``bench/fleet.py`` use it to roll a
changed program out to tenants onboarded with the unchanged one.
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
