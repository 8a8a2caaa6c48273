"""Reads of a tenant's listings: by id, by seller (newest first), by status, by category."""

from dataclasses import dataclass

from pynamodb.models import Model

from resale.cursors import cursor_decode, cursor_encode
from resale.errors import NotFound
from resale.ids import plausible_id
from resale.tenancy import TenantRoute


@dataclass(frozen=True)
class Page:
    items: list
    next_cursor: str | None


def listing_get(*, route: TenantRoute, listing_id: str) -> Model:
    if not plausible_id(listing_id):
        raise NotFound("No such listing.")
    try:
        return route.models.listings.get(listing_id)
    except route.models.listings.DoesNotExist as exc:
        raise NotFound("No such listing.") from exc


def listing_list(
    *,
    route: TenantRoute,
    seller_id: str | None = None,
    status: str | None = None,
    category: str | None = None,
    limit: int = 20,
    cursor: str | None = None,
) -> Page:
    """One page of listings, newest first, through the index of the most selective filter given.

    The other filters apply as DynamoDB filter expressions; PynamoDB reads on until it has
    ``limit`` matches or the index ends.
    """
    model = route.models.listings
    query = {"seller_id": seller_id, "status": status, "category": category}
    if seller_id is not None:
        index, hash_key = model.by_seller, seller_id
    elif category is not None:
        index, hash_key = model.by_category, category
    else:
        index, hash_key = model.by_status, status
    filters = None
    for attribute, value, indexed in (
        (model.category, category, index is model.by_category),
        (model.status, status, index is model.by_status),
    ):
        if value is not None and not indexed:
            filters = (attribute == value) if filters is None else (filters & (attribute == value))
    results = index.query(
        hash_key,
        filter_condition=filters,
        scan_index_forward=False,
        limit=limit,
        page_size=limit,
        last_evaluated_key=cursor_decode(tenant_slug=route.slug, query=query, cursor=cursor),
    )
    items = list(results)
    return Page(
        items=items,
        next_cursor=cursor_encode(
            tenant_slug=route.slug, query=query, last_evaluated_key=results.last_evaluated_key
        ),
    )
