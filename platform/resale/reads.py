"""Reading a query or scan within a budget of DynamoDB calls, then stopping with where it stopped.

PynamoDB's result iterator reads on until it has ``limit`` items or the index ends; with a filter
that matches nothing, one request becomes one DynamoDB call per page of the whole partition (with
``page_size=1``, one call per item). Here a request reads at most ``max_pages`` pages; what it
found by then is its answer, and the key it stopped at is the next cursor.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pynamodb.pagination import ResultIterator


@dataclass(frozen=True)
class BoundedRead:
    items: list
    last_evaluated_key: dict[str, Any] | None


def bounded_read(
    results: ResultIterator, *, from_raw: Callable[[dict], Any], limit: int, max_pages: int
) -> BoundedRead:
    """Up to ``limit`` items from at most ``max_pages`` pages, and the key to resume from (None: the end)."""
    pages = results.page_iter
    items: list = []
    for read, page in enumerate(pages, start=1):
        raw = page.get("Items", [])
        wanted = raw[: limit - len(items)]
        items.extend(from_raw(item) for item in wanted)
        if len(items) >= limit and len(wanted) < len(raw):
            resume_at = {name: wanted[-1][name] for name in pages.key_names}
            return BoundedRead(items, resume_at)
        if len(items) >= limit or read >= max_pages:
            return BoundedRead(items, pages.last_evaluated_key)
    return BoundedRead(items, None)
