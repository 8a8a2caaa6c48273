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
    text: str | None = None,
    limit: int = 20,
    cursor: str | None = None,
) -> Page:
    """One page of listings, newest first, through the index of the most selective filter given.

    The other filters apply as DynamoDB filter expressions; PynamoDB reads on until it has
    ``limit`` matches or the index ends. ``text`` keeps listings whose title or description
    contains it (case-sensitive, as DynamoDB's ``contains``). With none of seller, category and
    status (the console's "any"; the API requires one) the table is scanned, in no set order.
    """
    model = route.models.listings
    query = {"seller_id": seller_id, "status": status, "category": category}
    if text is not None:
        query["text"] = text
    if seller_id is not None:
        index, hash_key = model.by_seller, seller_id
    elif category is not None:
        index, hash_key = model.by_category, category
    elif status is not None:
        index, hash_key = model.by_status, status
    else:
        index = hash_key = None
    conditions = []
    if category is not None and index is not model.by_category:
        conditions.append(model.category == category)
    if status is not None and index is not model.by_status:
        conditions.append(model.status == status)
    if text is not None:
        conditions.append(model.title.contains(text) | model.description.contains(text))
    filters = None
    for condition in conditions:
        filters = condition if filters is None else (filters & condition)
    reading = {
        "filter_condition": filters,
        "limit": limit,
        "page_size": limit,
        "last_evaluated_key": cursor_decode(tenant_slug=route.slug, query=query, cursor=cursor),
    }
    if index is None:
        results = model.scan(**reading)
    else:
        results = index.query(hash_key, scan_index_forward=False, **reading)
    items = list(results)
    return Page(
        items=items,
        next_cursor=cursor_encode(
            tenant_slug=route.slug, query=query, last_evaluated_key=results.last_evaluated_key
        ),
    )
