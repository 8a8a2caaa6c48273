"""Keeping the search index in step with the listings stream.

Why PostgreSQL full-text search: it runs locally and in production (RDS/Aurora) with no new
system to operate, its index is updated in the same transaction-safe way as the rest of the
data plane's state, it ranks (``ts_rank`` with weights: title over category over description)
and filters (category, price range) in one query, and it scales past one machine the usual way:
read replicas for queries, and tenants spread over databases by cell. The ``search_vector`` is
a stored generated column with a GIN index, so a document is searchable the moment its row is
written. When a tenant outgrows that, the same stream handler can feed OpenSearch instead;
nothing outside this package knows the engine. A document holds only what the listing model
declares keepable (``resale.privacy.declarations``).

Idempotent and order-safe: a document carries the listing's ``version`` and only a newer version
replaces it (one upsert, ``ON CONFLICT ... WHERE``), so a record applied twice or late changes
nothing; a removal of the current version marks the document removed.
"""

from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import connection

from resale.models import SearchDocument
from resale.privacy.declarations import keepable_image
from resale.streams.records import EXPIRE, REMOVE, StreamRecord
from resale.tables import Listing

REMOVED = "removed"


def _price(value: Any) -> Decimal:
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        return Decimal("0")


def _document_fields(record: StreamRecord) -> dict[str, Any]:
    image = keepable_image(Listing, record.image)
    return {
        "title": str(image.get("title", "")),
        "description": str(image.get("description", "")),
        "category": str(image.get("category", "")),
        "condition": str(image.get("condition", "")),
        "price": _price(image.get("price", "0")),
        "currency": str(image.get("currency", ""))[:3],
        "seller_id": str(image.get("seller_id", "")),
        "status": REMOVED if record.event in (REMOVE, EXPIRE) else str(image.get("status", "active")),
        "version": int(image.get("version") or 0),
        "listing_created_at": str(image.get("created_at", "")),
        "listing_updated_at": str(image.get("updated_at", "")),
    }


FIELDS = (
    "title",
    "description",
    "category",
    "condition",
    "price",
    "currency",
    "seller_id",
    "status",
    "version",
    "listing_created_at",
    "listing_updated_at",
)


def search_documents_apply(*, tenant_slug: str, records: list[StreamRecord]) -> None:
    """Applies listings-stream records (insert, change, withdraw, sale, delete) in one upsert.

    Within a batch only each listing's last record counts: a shard holds an item's changes in
    order, so the last one is its newest state (and one statement may not touch a row twice).
    """
    latest = {record.entity_id: record for record in records if record.table_role == "listings"}
    if not latest:
        return
    table = SearchDocument._meta.db_table
    columns = ("tenant_slug", "listing_id", *FIELDS)
    row = "(" + ", ".join(["%s"] * len(columns)) + ", now())"
    values: list[Any] = []
    for listing_id, record in latest.items():
        fields = _document_fields(record)
        values.extend([tenant_slug, listing_id, *(fields[name] for name in FIELDS)])
    updates = ", ".join(f"{column} = EXCLUDED.{column}" for column in FIELDS)
    sql = (
        f"INSERT INTO {table} ({', '.join(columns)}, indexed_at) "  # noqa: S608 - names are ours
        f"VALUES {', '.join([row] * len(latest))} "
        f"ON CONFLICT (tenant_slug, listing_id) DO UPDATE SET {updates}, indexed_at = now() "
        f"WHERE {table}.version < EXCLUDED.version "
        f"OR ({table}.version = EXCLUDED.version AND EXCLUDED.status = %s AND {table}.status <> %s)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*values, REMOVED, REMOVED])
