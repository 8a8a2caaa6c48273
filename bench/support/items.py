"""What the benches write and send: listings as DynamoDB stores them, a link, a create-listing body."""

import json
import uuid

BENCH_TIME = "2026-01-01T00:00:00.000000Z"

LISTING_BODY = (
    b'{"seller_id":"s-1","title":"Bench jacket","description":"d","category":"clothing",'
    b'"condition":"good","price":"45.00","currency":"EUR","attributes":{"size":"M"}}'
)
"""POST /api/v1/listings: the same listing as ``listing_item``."""


def strings(**values: str) -> dict[str, dict]:
    """Attributes of DynamoDB's string type, as an item on the wire holds them."""
    return {name: {"S": value} for name, value in values.items()}


WRITTEN_BY_BENCH = strings(created_at=BENCH_TIME, updated_at=BENCH_TIME, actor="bench")


def listing_item(listing_id: str, seller: str = "s-1") -> dict:
    """The listing of ``LISTING_BODY``, active, as DynamoDB stores it: written straight to the table."""
    fields = json.loads(LISTING_BODY)
    attributes = fields.pop("attributes")
    fields["seller_id"] = seller
    return {
        **strings(id=listing_id, status="active", **fields),
        **WRITTEN_BY_BENCH,
        "attributes": {"M": strings(**attributes)},
        "image_keys": {"L": []},
        "version": {"N": "1"},
    }


def link_item(code: str) -> dict:
    """An affiliate link to a shop's page, written straight to the table."""
    return strings(
        code=code,
        target_url="https://shop.example/x",
        affiliate_id="a",
        listing_id="l",
        created_at=BENCH_TIME,
        actor="bench",
    )


def write_listings(raw, table: str, count: int) -> list[str]:
    """Writes ``count`` active listings straight to ``table`` with the boto3 client ``raw``; their ids."""
    ids = [uuid.uuid4().hex for _ in range(count)]
    for start in range(0, count, 25):
        batch = ids[start : start + 25]
        raw.batch_write_item(RequestItems={table: [{"PutRequest": {"Item": listing_item(i)}} for i in batch]})
    return ids
