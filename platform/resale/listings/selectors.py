"""Reads of a tenant's listings: by id, by seller (newest first), by status, by category."""

from django.conf import settings
from pynamodb.models import Model

from resale.cursors import Page, cursor_decode, cursor_encode
from resale.errors import NotFound
from resale.ids import plausible_id
from resale.reads import bounded_read
from resale.tenancy import TenantRoute


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

    The other filters apply as DynamoDB filter expressions, over pages of
    ``API_LIST_FILTERED_PAGE_SIZE`` items; the read stops at ``limit`` matches, the index's end or
    ``API_LIST_READ_BUDGET_PAGES`` pages, whichever comes first, so a page may hold fewer than
    ``limit`` items (none, even) and still have a next cursor. ``text`` keeps listings whose
    title or description contains it (case-sensitive, as DynamoDB's ``contains``). With none of
    seller, category and status (the console's "any"; the API requires one) the table is
    scanned, in no set order.
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
        "page_size": limit if filters is None else max(limit, settings.API_LIST_FILTERED_PAGE_SIZE),
        "last_evaluated_key": cursor_decode(tenant_slug=route.slug, query=query, cursor=cursor),
    }
    if index is None:
        results = model.scan(**reading)
    else:
        results = index.query(hash_key, scan_index_forward=False, **reading)
    read = bounded_read(
        results, from_raw=model.from_raw_data, limit=limit, max_pages=settings.API_LIST_READ_BUDGET_PAGES
    )
    return Page(
        items=read.items,
        next_cursor=cursor_encode(tenant_slug=route.slug, query=query, position=read.last_evaluated_key),
    )
