"""Per-day counts of a tenant's activity: history events, listings created, orders placed.

The console charts them. They live in the tenant's history table, one item per UTC day of the
events' ``at`` (``chain="daily-counts"``, ``seq=YYYYMMDD``), and are bumped with ``ADD`` inside
the very transaction that appends the events (``resale.history.services``): an event is counted
once, when it is appended, never again when a redelivered record is dropped, and never lost to
a crash between the append and the count. A 30-day chart is one query of 30 items
(``resale.history.selectors.daily_counts``), not a scan of the tenant's tables. Like the rest of
the append, this module needs no Django: the stream consumer's Lambda runs it.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

from resale.streams.records import INSERT

DAILY_COUNTS_CHAIN = "daily-counts"
COUNTED_KINDS = ("events", "listings", "orders")
_CREATIONS = {"listing": "listings", "order": "orders"}


@dataclass(frozen=True)
class DailyCounts:
    day: date
    events: int = 0
    listings: int = 0
    orders: int = 0


def event_day(event: dict[str, Any]) -> str:
    """The UTC day (``YYYY-MM-DD``) an event counts on: that of its ``at``."""
    return event["at"][:10]


def day_seq(day: date | str) -> int:
    return int(str(day)[:10].replace("-", ""))


def daily_counts_updates(table: str, events: list[dict[str, Any]]) -> list[dict]:
    """The ``TransactWriteItems`` updates that count ``events``: one per UTC day among them."""
    counts: dict[str, Counter[str]] = {}
    for event in events:
        day = counts.setdefault(event_day(event), Counter())
        day["events"] += 1
        created = _CREATIONS.get(event["entity_type"]) if event["event"] == INSERT else None
        if created:
            day[created] += 1
    return [
        {
            "Update": {
                "TableName": table,
                "Key": {"chain": {"S": DAILY_COUNTS_CHAIN}, "seq": {"N": str(day_seq(day))}},
                "UpdateExpression": "ADD " + ", ".join(f"{kind} :{kind}" for kind in COUNTED_KINDS),
                "ExpressionAttributeValues": {f":{kind}": {"N": str(count[kind])} for kind in COUNTED_KINDS},
            }
        }
        for day, count in sorted(counts.items())
    ]
