"""Searching one tenant's active listings: ranked full-text matches, filtered by category and price.

Two walls between tenants: every query filters on the tenant, and it runs under row-level
security as a role that sees only the rows of the tenant set for the transaction.
"""

import base64
import binascii
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection, transaction
from django.db.models import F, QuerySet

from resale.models import SearchDocument

ACTIVE = "active"
SEARCH_READER_ROLE = "resale_search_reader"


class BadSearchCursor(ValueError):
    pass


@dataclass(frozen=True)
class SearchCriteria:
    q: str = ""
    category: str | None = None
    min_price: Decimal | None = None
    max_price: Decimal | None = None


def _encode_offset(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode().rstrip("=")


def _decode_offset(cursor: str) -> int:
    try:
        offset = json.loads(base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()))["o"]
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise BadSearchCursor("not a cursor this API gave out") from exc
    if not isinstance(offset, int) or offset < 0:
        raise BadSearchCursor("not a cursor this API gave out")
    return offset


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


def search_page(
    *, tenant_slug: str, criteria: SearchCriteria, cursor: str | None, limit: int
) -> tuple[list[SearchDocument], str | None]:
    offset = _decode_offset(cursor) if cursor else 0
    with tenant_search_scope(tenant_slug):
        rows = list(search_documents(tenant_slug=tenant_slug, criteria=criteria)[offset : offset + limit + 1])
    next_cursor = _encode_offset(offset + limit) if len(rows) > limit else None
    return rows[:limit], next_cursor
