"""The endpoints the API benches measure, each beside raw boto3 making the DynamoDB calls it makes.

One ``Endpoint`` per entry of ``ENDPOINTS``: its name, the throughput it must reach as a share of
raw boto3's, how to write the data it needs, the API call and the raw call. Adding an endpoint to
the benches is adding an entry.
"""

import json
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from support.items import (
    BENCH_TIME,
    LISTING_BODY,
    WRITTEN_BY_BENCH,
    link_item,
    listing_item,
    strings,
    write_listings,
)
from support.onboard import BenchTenant

Send = Callable[[str, str, dict[str, str], bytes], int]
"""Sends (method, path, headers, body) to the API and returns the status: over HTTP, or to the WSGI
application in-process."""


@dataclass
class Fleet:
    """The tenants calls go to, with each way of calling them."""

    tenants: list[BenchTenant]
    raws: list
    """A boto3 client per tenant, in that tenant's namespace."""
    send: Send
    orders_per_side: int
    """Listings each tenant has to buy for each side of a run of orders; a side that runs out shows
    its extra attempts as failures."""
    pick: random.Random = field(default_factory=lambda: random.Random(7))

    def of(self, n: int) -> int:
        """The tenant (its index) of call ``n``: calls go round the tenants."""
        return n % len(self.tenants)

    def headers(self, t: int, **extra: str) -> dict[str, str]:
        return {
            "Authorization": f"Api-Key {self.tenants[t].key}",
            "Content-Type": "application/json",
            **extra,
        }

    def write_listings(self, count: int) -> list[list[str]]:
        """``count`` active listings for each tenant, written straight to its table; their ids."""
        return [
            write_listings(raw, tenant.tables["listings"], count)
            for tenant, raw in zip(self.tenants, self.raws, strict=True)
        ]


Call = Callable[[Fleet, Any, int], bool]
"""Makes call ``n`` with the endpoint's prepared data; true when it succeeded."""


@dataclass(frozen=True)
class Endpoint:
    name: str
    target: float
    """The API's throughput it must reach, as a share of raw boto3's."""
    prepare: Callable[[Fleet], Any]
    api: Call
    raw: Call
    prepared_for_its_run: bool = False
    """Its data is written just before its own run instead of up front: data that would sit in
    DynamoDB Local's streams and indexes and slow every other endpoint's run."""


def _listing_ids(fleet: Fleet) -> list[list[str]]:
    return fleet.write_listings(100)


def _api_get(fleet: Fleet, ids: list[list[str]], n: int) -> bool:
    t = fleet.of(n)
    return fleet.send("GET", f"/api/v1/listings/{fleet.pick.choice(ids[t])}", fleet.headers(t), b"") == 200


def _raw_get(fleet: Fleet, ids: list[list[str]], n: int) -> bool:
    t = fleet.of(n)
    fleet.raws[t].get_item(
        TableName=fleet.tenants[t].tables["listings"],
        Key={"id": {"S": fleet.pick.choice(ids[t])}},
        ReturnConsumedCapacity="TOTAL",
    )
    return True


def _nothing(fleet: Fleet) -> None:
    return None


def _api_create(fleet: Fleet, _: None, n: int) -> bool:
    t = fleet.of(n)
    return fleet.send("POST", "/api/v1/listings", fleet.headers(t), LISTING_BODY) == 201


def _raw_create(fleet: Fleet, _: None, n: int) -> bool:
    from resale.clock import utc_now

    t = fleet.of(n)
    item = listing_item(uuid.uuid4().hex)
    item["created_at"] = item["updated_at"] = {"S": utc_now()}
    fleet.raws[t].put_item(
        TableName=fleet.tenants[t].tables["listings"],
        Item=item,
        ConditionExpression="attribute_not_exists(id) AND attribute_not_exists(version)",
        ReturnConsumedCapacity="TOTAL",
    )
    return True


class ListingsToBuy:
    """Each side's own listings per tenant, each bought once, whichever thread asks next."""

    def __init__(self, fleet: Fleet) -> None:
        self.pools = {side: fleet.write_listings(fleet.orders_per_side) for side in ("api", "raw")}
        self.taken = {side: [0] * len(fleet.tenants) for side in self.pools}
        self.lock = threading.Lock()

    def next(self, side: str, t: int) -> str | None:
        with self.lock:
            i = self.taken[side][t]
            self.taken[side][t] += 1
        pool = self.pools[side][t]
        return pool[i] if i < len(pool) else None

    def sides_run_out(self) -> list[str]:
        """The sides that asked for a listing when a tenant had none left: each such call failed
        at once, without a request, so that side's failures and throughput say nothing."""
        return [
            side
            for side, pools in self.pools.items()
            if any(taken > len(pool) for taken, pool in zip(self.taken[side], pools, strict=True))
        ]


def _api_order(fleet: Fleet, listings: ListingsToBuy, n: int) -> bool:
    t = fleet.of(n)
    listing_id = listings.next("api", t)
    if listing_id is None:
        return False
    payload = {
        "listing_id": listing_id,
        "buyer_id": "b",
        "shipping_address": {"line1": "x"},
        "payment_token": "tok",
    }
    headers = fleet.headers(t, **{"Idempotency-Key": uuid.uuid4().hex})
    return fleet.send("POST", "/api/v1/orders", headers, json.dumps(payload).encode()) == 202


def _raw_order(fleet: Fleet, listings: ListingsToBuy, n: int) -> bool:
    t = fleet.of(n)
    listing_id = listings.next("raw", t)
    if listing_id is None:
        return False
    tables, raw = fleet.tenants[t].tables, fleet.raws[t]
    key, order_id = uuid.uuid4().hex, uuid.uuid4().hex
    raw.get_item(
        TableName=tables["idempotency"],
        Key={"key": {"S": key}},
        ConsistentRead=True,
        ReturnConsumedCapacity="TOTAL",
    )
    raw.get_item(
        TableName=tables["listings"],
        Key={"id": {"S": listing_id}},
        ConsistentRead=True,
        ReturnConsumedCapacity="TOTAL",
    )
    raw.transact_write_items(
        ReturnConsumedCapacity="TOTAL",
        TransactItems=[
            {"Update": _reservation(tables["listings"], listing_id, order_id)},
            {"Put": _order(tables["orders"], listing_id, order_id)},
            {"Put": _idempotency_record(tables["idempotency"], key, order_id)},
        ],
    )
    return True


def _reservation(table: str, listing_id: str, order_id: str) -> dict:
    return {
        "TableName": table,
        "Key": {"id": {"S": listing_id}},
        "UpdateExpression": "SET #s = :r, reserved_order_id = :o ADD version :one",
        "ConditionExpression": "#s = :a",
        "ExpressionAttributeNames": {"#s": "status"},
        "ExpressionAttributeValues": {
            ":r": {"S": "reserved"},
            ":a": {"S": "active"},
            ":o": {"S": order_id},
            ":one": {"N": "1"},
        },
    }


def _order(table: str, listing_id: str, order_id: str) -> dict:
    submitted = strings(status="submitted", at=BENCH_TIME, actor="bench", reason="")
    return {
        "TableName": table,
        "ConditionExpression": "attribute_not_exists(id)",
        "Item": {
            **strings(id=order_id, listing_id=listing_id, buyer_id="b", status="submitted"),
            **strings(amount="45.00", currency="EUR"),
            **strings(payment_token_fingerprint="f" * 64, payment_token_sealed="x" * 120),
            **WRITTEN_BY_BENCH,
            "shipping_address": {"M": strings(line1="x")},
            "history": {"L": [{"M": submitted}]},
            "version": {"N": "1"},
        },
    }


def _idempotency_record(table: str, key: str, order_id: str) -> dict:
    return {
        "TableName": table,
        "ConditionExpression": "attribute_not_exists(#k)",
        "ExpressionAttributeNames": {"#k": "key"},
        "Item": {
            **strings(key=key, request_fingerprint="f" * 64, order_id=order_id, created_at=BENCH_TIME),
            "expires_at": {"N": str(int(time.time()) + 86400)},
        },
    }


def _link_code(fleet: Fleet) -> str:
    for tenant, raw in zip(fleet.tenants, fleet.raws, strict=True):
        raw.put_item(TableName=tenant.tables["links"], Item=link_item("bench"))
    return "bench"


def _api_redirect(fleet: Fleet, code: str, n: int) -> bool:
    headers = {"User-Agent": "bench", "Referer": "https://blog.example"}
    return fleet.send("GET", f"/r/{fleet.tenants[fleet.of(n)].slug}/{code}", headers, b"") == 302


def _raw_redirect(fleet: Fleet, code: str, n: int) -> bool:
    from resale.clock import utc_now

    t = fleet.of(n)
    fleet.raws[t].put_item(
        TableName=fleet.tenants[t].tables["clicks"],
        Item={
            **strings(code=code, clicked_at=f"{utc_now()}#{uuid.uuid4().hex[:6]}"),
            **strings(affiliate_id="a", listing_id="l", actor="anonymous"),
            **strings(referrer="https://blog.example", user_agent="bench"),
            "expires_at": {"N": str(int(time.time()) + 60 * 86400)},
        },
        ReturnConsumedCapacity="TOTAL",
    )
    return True


ENDPOINTS = (
    # The redirect first: DynamoDB Local keeps a table first written after thousands of listings
    # slow (7 ms of its CPU per click instead of 0.9, on both sides), so the clicks' table gets its
    # first items in the redirect's warm-up, before any other endpoint writes listings.
    Endpoint("redirect", 0.8, _link_code, _api_redirect, _raw_redirect),
    Endpoint("get listing", 0.7, _listing_ids, _api_get, _raw_get),
    Endpoint("submit order", 0.7, ListingsToBuy, _api_order, _raw_order, prepared_for_its_run=True),
    # Creates last: their run and warm-up write tens of thousands of listings, which would make
    # every later write to the listings' tables dearer (see api_load.ORDERS_PER_SECOND_CEILING).
    Endpoint("create listing", 0.7, _nothing, _api_create, _raw_create),
)


def endpoints_named(names: list[str] | None) -> list[Endpoint]:
    """The endpoints of ``names`` (every one when none), in the table's order."""
    unknown = set(names or ()) - {endpoint.name for endpoint in ENDPOINTS}
    if unknown:
        raise SystemExit(f"unknown endpoints: {', '.join(sorted(unknown))}")
    return [endpoint for endpoint in ENDPOINTS if not names or endpoint.name in names]
