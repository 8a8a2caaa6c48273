"""Reading a tenant's history: filtered pages and a lazy iterator for reports and exports.

Everything reads the ``events`` chain in ``seq`` order through PynamoDB's lazy, paged queries,
so a range of a million events is never held in memory: each DynamoDB page is yielded and
dropped. Entity filters use the ``by_entity`` index (entity key, seq).
"""

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pynamodb.expressions.condition import Condition

from resale.binding import TenantModels, tenant_dynamodb_client
from resale.clock import rfc3339
from resale.cursors import Page, seq_cursor_decode, seq_cursor_encode
from resale.history.daily_counts import COUNTED_KINDS, DAILY_COUNTS_CHAIN, DailyCounts, day_seq
from resale.history.services import DEAD_LETTERS_CHAIN, EVENTS_CHAIN, read_head

PAGE_SIZE = 500


@dataclass(frozen=True)
class HistoryFilter:
    """Which events to read: one entity type (or one entity), one actor, a time range."""

    entity_type: str | None = None
    entity_id: str | None = None
    actor: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    @property
    def by_entity(self) -> bool:
        """Whether the ``by_entity`` index answers (both the entity's type and id are named)."""
        return bool(self.entity_type and self.entity_id)

    def condition(self, model) -> Condition | None:
        """What the filter asks beyond the key condition, as a DynamoDB filter expression."""
        conditions = []
        if self.entity_type and not self.by_entity:
            conditions.append(model.entity_type == self.entity_type)
        if self.entity_id and not self.by_entity:
            conditions.append(model.entity_id == self.entity_id)
        if self.actor:
            conditions.append(model.actor == self.actor)
        if self.since is not None:
            conditions.append(model.at >= rfc3339(self.since))
        if self.until is not None:
            conditions.append(model.at < rfc3339(self.until))
        combined = None
        for condition in conditions:
            combined = condition if combined is None else combined & condition
        return combined


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


def history_iter(
    *,
    tenant_models: TenantModels,
    history_filter: HistoryFilter | None = None,
    after_seq: int = 0,
    through_seq: int | None = None,
    newest_first: bool = False,
) -> Iterator:
    """The tenant's events (PynamoDB items) after ``after_seq`` (and up to ``through_seq``),
    oldest first (or newest first), read lazily page by page; through the ``by_entity`` index
    when the filter names one entity."""
    history_filter = history_filter or HistoryFilter()
    if through_seq is not None and through_seq <= after_seq:
        return iter(())
    model = tenant_models.history
    seq_range = (
        model.seq > after_seq if through_seq is None else model.seq.between(after_seq + 1, through_seq)
    )
    reading = {
        "filter_condition": history_filter.condition(model),
        "scan_index_forward": not newest_first,
        "page_size": PAGE_SIZE,
    }
    if history_filter.by_entity:
        entity_key = f"{history_filter.entity_type}#{history_filter.entity_id}"
        return model.by_entity.query(entity_key, seq_range, **reading)
    return model.query(EVENTS_CHAIN, seq_range, **reading)


def history_page(
    *,
    tenant_models: TenantModels,
    history_filter: HistoryFilter,
    cursor: str | None,
    limit: int,
    newest_first: bool = False,
) -> Page:
    """One page of events (as ``event_as_dict``), oldest first (or newest first), and the signed
    cursor of the next page (None at the end); a cursor of another query raises ``InvalidCursor``."""
    query = {"events": asdict(history_filter), "newest_first": newest_first}
    seq = seq_cursor_decode(tenant_slug=tenant_models.slug, query=query, cursor=cursor)
    window = {"through_seq": seq - 1} if newest_first and seq is not None else {"after_seq": seq or 0}
    items: list[dict[str, Any]] = []
    events = history_iter(
        tenant_models=tenant_models, history_filter=history_filter, newest_first=newest_first, **window
    )
    for item in events:
        if len(items) == limit:
            last_seq = items[-1]["seq"]
            return Page(
                items=items,
                next_cursor=seq_cursor_encode(tenant_slug=tenant_models.slug, query=query, seq=last_seq),
            )
        items.append(event_as_dict(item))
    return Page(items=items, next_cursor=None)


def history_report_window(
    *, tenant_models: TenantModels, history_filter: HistoryFilter, cursor: str | None, limit: int
) -> tuple[Iterator, str | None]:
    """The events among the chain's next ``limit`` seqs after the cursor that match the filter
    (PynamoDB items, oldest first, lazily), and the cursor of the window after it (None once the
    window reaches the chain's head)."""
    query = {"report": asdict(history_filter)}
    after_seq = seq_cursor_decode(tenant_slug=tenant_models.slug, query=query, cursor=cursor) or 0
    last_seq = after_seq + limit
    events = history_iter(
        tenant_models=tenant_models, history_filter=history_filter, after_seq=after_seq, through_seq=last_seq
    )
    client = tenant_dynamodb_client(tenant_models.tenant)
    head_seq = read_head(client, tenant_models.history.Meta.table_name)[0]
    next_seq = last_seq if head_seq > last_seq else None
    return events, seq_cursor_encode(tenant_slug=tenant_models.slug, query=query, seq=next_seq)


def chain_page(*, tenant_models: TenantModels, chain: str, cursor: str | None, limit: int) -> Page:
    """Raw items of one of the history table's other chains (checkpoints, dead letters), by seq,
    oldest first, ``limit`` at a time; a cursor of another chain raises ``InvalidCursor``."""
    query = {"chain": chain}
    after_seq = seq_cursor_decode(tenant_slug=tenant_models.slug, query=query, cursor=cursor) or 0
    response = tenant_dynamodb_client(tenant_models.tenant).query(
        TableName=tenant_models.history.Meta.table_name,
        KeyConditionExpression="chain = :chain AND seq > :after",
        ExpressionAttributeValues={":chain": {"S": chain}, ":after": {"N": str(after_seq)}},
        Limit=limit + 1,
    )
    items = response.get("Items", [])
    if len(items) > limit:
        last_seq = int(items[limit - 1]["seq"]["N"])
        return Page(
            items=items[:limit],
            next_cursor=seq_cursor_encode(tenant_slug=tenant_models.slug, query=query, seq=last_seq),
        )
    return Page(items=items, next_cursor=None)


def dead_letters_page(*, tenant_models: TenantModels, cursor: str | None, limit: int) -> Page:
    """The stream records that could not be applied, by the seq of their ``GAP`` event, oldest first."""
    page = chain_page(tenant_models=tenant_models, chain=DEAD_LETTERS_CHAIN, cursor=cursor, limit=limit)
    letters = [
        {
            "seq": int(item["seq"]["N"]),
            "table": item["table_role"]["S"],
            "event_id": item["event_id"]["S"],
            "error": item["error"]["S"],
            "recorded_at": item["recorded_at"]["S"],
            "record": json.loads(item["record"]["S"]) if "record" in item else None,
        }
        for item in page.items
    ]
    return Page(items=letters, next_cursor=page.next_cursor)


def daily_counts(*, tenant_models: TenantModels, days: int = 30) -> list[DailyCounts]:
    """The last ``days`` UTC days, oldest first, zero where nothing was counted (one query)."""
    today = datetime.now(UTC).date()
    span = [today - timedelta(days=offset) for offset in range(days - 1, -1, -1)]
    response = tenant_dynamodb_client(tenant_models.tenant).query(
        TableName=tenant_models.history.Meta.table_name,
        KeyConditionExpression="chain = :chain AND seq BETWEEN :first AND :last",
        ExpressionAttributeValues={
            ":chain": {"S": DAILY_COUNTS_CHAIN},
            ":first": {"N": str(day_seq(span[0]))},
            ":last": {"N": str(day_seq(span[-1]))},
        },
    )
    stored = {int(item["seq"]["N"]): item for item in response.get("Items", [])}
    return [
        DailyCounts(
            day,
            **{kind: int(stored.get(day_seq(day), {}).get(kind, {}).get("N", 0)) for kind in COUNTED_KINDS},
        )
        for day in span
    ]
