"""Reading a tenant's history: filtered pages and a lazy iterator for reports and exports.

Everything reads the ``events`` chain in ``seq`` order through PynamoDB's lazy, paged queries,
so a range of a million events is never held in memory: each DynamoDB page is yielded and
dropped. Entity filters use the ``by_entity`` index (entity key, seq).
"""

import base64
import binascii
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pynamodb.expressions.condition import Condition

from resale.binding import TenantModels, tenant_dynamodb_client
from resale.history.services import DEAD_LETTERS_CHAIN, EVENTS_CHAIN, rfc3339

PAGE_SIZE = 500


class BadHistoryCursor(ValueError):
    pass


@dataclass(frozen=True)
class HistoryFilter:
    entity_type: str | None = None
    entity_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"seq": seq}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        seq = json.loads(base64.urlsafe_b64decode(padded.encode()))["seq"]
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise BadHistoryCursor("not a cursor this API gave out") from exc
    if not isinstance(seq, int) or seq < 0:
        raise BadHistoryCursor("not a cursor this API gave out")
    return seq


def event_as_dict(item) -> dict[str, Any]:
    """A stored event exactly as the audit API returns it (and as version 2 hashes it): ``old``
    and ``new`` parsed back from their canonical JSON; events stored before versions were
    recorded are version 1."""
    return {
        "seq": int(item.seq),
        "chain_version": int(item.chain_version or 1),
        "event": item.event,
        "entity_type": item.entity_type,
        "entity_id": item.entity_id,
        "old": json.loads(item.old) if item.old is not None else None,
        "new": json.loads(item.new) if item.new is not None else None,
        "actor": item.actor,
        "at": item.at,
        "hash": item.hash,
        "prev_hash": item.prev_hash,
        "source": item.source,
        "stream_sequence": item.stream_sequence,
        "recorded_at": item.recorded_at,
    }


def _time_condition(model, history_filter: HistoryFilter) -> Condition | None:
    condition = None
    if history_filter.since is not None:
        condition = model.at >= rfc3339(history_filter.since)
    if history_filter.until is not None:
        until = model.at < rfc3339(history_filter.until)
        condition = until if condition is None else condition & until
    return condition


def history_iter(
    *,
    tenant_models: TenantModels,
    history_filter: HistoryFilter | None = None,
    after_seq: int = 0,
    through_seq: int | None = None,
) -> Iterator:
    """The tenant's events (PynamoDB items) after ``after_seq`` (and up to ``through_seq``),
    oldest first, read lazily page by page."""
    history_filter = history_filter or HistoryFilter()
    model = tenant_models.history
    filter_condition = _time_condition(model, history_filter)
    seq_range = (
        model.seq > after_seq if through_seq is None else model.seq.between(after_seq + 1, through_seq)
    )
    if history_filter.entity_type and history_filter.entity_id:
        return model.by_entity.query(
            f"{history_filter.entity_type}#{history_filter.entity_id}",
            seq_range,
            filter_condition=filter_condition,
            page_size=PAGE_SIZE,
        )
    if history_filter.entity_type:
        entity_condition = model.entity_type == history_filter.entity_type
        filter_condition = (
            entity_condition if filter_condition is None else filter_condition & entity_condition
        )
    return model.query(
        EVENTS_CHAIN,
        seq_range,
        filter_condition=filter_condition,
        page_size=PAGE_SIZE,
    )


def history_page(
    *, tenant_models: TenantModels, history_filter: HistoryFilter, cursor: str | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of events, oldest first, and the cursor of the next page (None at the end)."""
    after_seq = decode_cursor(cursor) if cursor else 0
    items: list[dict[str, Any]] = []
    for item in history_iter(tenant_models=tenant_models, history_filter=history_filter, after_seq=after_seq):
        if len(items) == limit:
            return items, encode_cursor(items[-1]["seq"])
        items.append(event_as_dict(item))
    return items, None


def chain_page(
    *, tenant_models: TenantModels, chain: str, cursor: str | None, limit: int
) -> tuple[list[dict[str, dict]], str | None]:
    """Raw items of one of the history table's other chains (checkpoints, dead letters), by seq,
    oldest first, ``limit`` at a time; a bad cursor raises ``BadHistoryCursor``."""
    after_seq = decode_cursor(cursor) if cursor else 0
    response = tenant_dynamodb_client(tenant_models.tenant).query(
        TableName=tenant_models.history.Meta.table_name,
        KeyConditionExpression="chain = :chain AND seq > :after",
        ExpressionAttributeValues={":chain": {"S": chain}, ":after": {"N": str(after_seq)}},
        Limit=limit + 1,
    )
    items = response.get("Items", [])
    if len(items) > limit:
        return items[:limit], encode_cursor(int(items[limit - 1]["seq"]["N"]))
    return items, None


def dead_letters_page(
    *, tenant_models: TenantModels, cursor: str | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    """The stream records that could not be applied, by the seq of their ``GAP`` event, oldest first."""
    items, next_cursor = chain_page(
        tenant_models=tenant_models, chain=DEAD_LETTERS_CHAIN, cursor=cursor, limit=limit
    )
    letters = [
        {
            "seq": int(item["seq"]["N"]),
            "table": item["table_role"]["S"],
            "event_id": item["event_id"]["S"],
            "error": item["error"]["S"],
            "recorded_at": item["recorded_at"]["S"],
            "record": json.loads(item["record"]["S"]) if "record" in item else None,
        }
        for item in items
    ]
    return letters, next_cursor
