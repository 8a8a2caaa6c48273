"""Searching one tenant's active listings: ranked full-text matches, filtered by category and price.

Two walls between tenants: every query filters on the tenant, and it runs under row-level
security as a role that sees only the rows of the tenant set for the transaction.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from decimal import Decimal

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection, transaction
from django.db.models import F, QuerySet

from resale.cursors import Page, cursor_decode, cursor_encode
from resale.errors import InvalidCursor
from resale.models import SearchDocument

ACTIVE = "active"
SEARCH_READER_ROLE = "resale_search_reader"


@dataclass(frozen=True)
class SearchCriteria:
    q: str = ""
    category: str | None = None
    min_price: Decimal | None = None
    max_price: Decimal | None = None


def search_documents(*, tenant_slug: str, criteria: SearchCriteria) -> QuerySet[SearchDocument]:
    """The tenant's matching active listings, best first. The tenant filter is never optional."""
    documents = SearchDocument.objects.filter(tenant_slug=tenant_slug, status=ACTIVE)
    if criteria.category:
        documents = documents.filter(category=criteria.category)
    if criteria.min_price is not None:
        documents = documents.filter(price__gte=criteria.min_price)
    if criteria.max_price is not None:
        documents = documents.filter(price__lte=criteria.max_price)
    if criteria.q.strip():
        query = SearchQuery(criteria.q, search_type="websearch", config="english")
        documents = (
            documents.filter(search_vector=query)
            .annotate(rank=SearchRank(F("search_vector"), query))
            .order_by("-rank", "-listing_created_at", "listing_id")
        )
    else:
        documents = documents.order_by("-listing_created_at", "listing_id")
    return documents


@contextmanager
def tenant_search_scope(tenant_slug: str) -> Iterator[None]:
    """A transaction in which the search index shows only this tenant's rows (row-level security)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL ROLE {SEARCH_READER_ROLE}")
        cursor.execute("SELECT set_config('resale.tenant', %s, true)", [tenant_slug])
        yield
        # Inside an outer transaction this block is a savepoint, whose release keeps SET LOCAL (on an
        # error the savepoint's rollback undoes both settings).
        cursor.execute("RESET ROLE")
        cursor.execute("SELECT set_config('resale.tenant', '', true)")


def search_page(*, tenant_slug: str, criteria: SearchCriteria, cursor: str | None, limit: int) -> Page:
    """One page of matches, best first; a cursor of other criteria raises ``InvalidCursor``."""
    query = asdict(criteria)
    position = cursor_decode(tenant_slug=tenant_slug, query=query, cursor=cursor) or {"offset": 0}
    offset = position.get("offset")
    if not isinstance(offset, int) or offset < 0:
        raise InvalidCursor()
    with tenant_search_scope(tenant_slug):
        rows = list(search_documents(tenant_slug=tenant_slug, criteria=criteria)[offset : offset + limit + 1])
    next_position = {"offset": offset + limit} if len(rows) > limit else None
    return Page(
        items=rows[:limit],
        next_cursor=cursor_encode(tenant_slug=tenant_slug, query=query, position=next_position),
    )
