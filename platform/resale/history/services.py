"""Appending to a tenant's history: exactly once per stream record, in a gapless hash chain.

The history table holds these kinds of item:

- ``chain="events"``, ``seq=N``: the events, seq 1, 2, 3, ... (the hash chain);
- ``chain="head"``, ``seq=0``: the chain head, ``head_seq`` and ``head_hash`` of the last event;
- ``chain="applied#<role>#<eventID>"``, ``seq=0``: a marker that a stream record was appended
  (``applied#gap#<id>`` for a ``GAP`` event: a loss recorded once however often it is seen);
- ``chain="checkpoints"``, ``seq=N``: the signed chain heads (``resale.history.checkpoints``);
- ``chain="dead-letters"``, ``seq=N``: a stream record that could not be applied, beside the
  ``GAP`` event ``N`` that records its loss (``resale.streams.dead_letters``);
- ``chain="daily-counts"``, ``seq=YYYYMMDD``: the day's counts of events, listings created and
  orders placed (``resale.history.daily_counts``).

One DynamoDB transaction writes a batch of events, their markers, the new head and the count of
their day (a batch never spans two UTC days), on the
conditions that the head is still what we read and that no marker exists yet. So consumers on
different shards of one tenant can append at once (the loser of a race re-reads the head and
retries), and a record delivered twice (a consumer restarted from its checkpoint, a Lambda
retry) is appended once: its marker's condition fails and it is dropped from the batch.

Nothing is skipped silently: an image too large for a history item (DynamoDB's 400 KB) keeps
its largest attributes as ``{"omitted_sha256", "bytes"}`` digests of their RFC 8785 text, a
transaction stays under DynamoDB's 4 MB, and a loss (a record that cannot be applied, stream
data trimmed before it was read) becomes a ``GAP`` event of its own (``history_gap_append``).
"""

import hashlib
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from resale.backoff import backoff_delay
from resale.clock import rfc3339
from resale.history.chain import CHAIN_VERSION, GENESIS_HASH, canonical_json, event_hash, hashable
from resale.history.daily_counts import daily_counts_updates, event_day
from resale.privacy.sealing import history_images
from resale.streams.records import EXPIRE, GAP, INSERT, MODIFY, StreamRecord

logger = logging.getLogger(__name__)

EVENTS_CHAIN = "events"
HEAD_CHAIN = "head"
DEAD_LETTERS_CHAIN = "dead-letters"
TTL_ACTOR = "system:dynamodb-ttl"
UNKNOWN_ACTOR = "unknown"
# Each event takes two items of a transaction (event and marker), the head and the day's counts
# one each: 2 * 49 + 2 <= 100.
MAX_EVENTS_PER_TRANSACTION = 49
MAX_ATTEMPTS = 50
IMAGE_MAX_BYTES = 96 * 1024
"""An image's RFC 8785 text above this keeps its largest attributes as digests: old and new
together stay well under DynamoDB's 400 KB item limit."""
TRANSACTION_MAX_BYTES = 3 * 1024 * 1024
"""A transaction's images stay under this, below DynamoDB's 4 MB per transaction."""
GAP_ACTOR = "system:stream-consumer"


_known_heads: dict[str, tuple[int, str]] = {}
"""The head this process last wrote, per history table: saves a read per transaction. Only a
hint: the transaction's condition on the head decides, and a stale hint costs one retry."""


class HistoryAppendFailed(Exception):
    """The chain head stayed contended past every retry; the records stay unacknowledged."""


@dataclass(frozen=True)
class AppendResult:
    appended: list[dict[str, Any]]
    duplicates: int


def _change_time(record: StreamRecord) -> str:
    """When the change happened: the item's own timestamp written with it, else the stream's time.

    The stream's ``ApproximateCreationDateTime`` is rounded (to the second on AWS, to the minute
    by DynamoDB Local), so the timestamp the writer stored in the same write is more precise.
    """
    if record.event in (INSERT, MODIFY) and record.new:
        for name in ("updated_at", "clicked_at", "created_at"):
            value = record.new.get(name)
            if isinstance(value, str):
                try:
                    return rfc3339(datetime.fromisoformat(value.replace("Z", "+00:00")))
                except ValueError:
                    continue
    return rfc3339(record.approximate_at)


def _actor(record: StreamRecord) -> str:
    if record.event == EXPIRE:
        return TTL_ACTOR
    return str(record.image.get("actor") or UNKNOWN_ACTOR)


def applied_marker_key(record: StreamRecord) -> str:
    return f"applied#{record.table_role}#{record.event_id}"


def _size(value: Any) -> int:
    return len(canonical_json(value).encode("utf-8"))


def _digest(value: Any, size: int) -> dict[str, Any]:
    digest = hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()
    return {"omitted_sha256": digest, "bytes": size}


def bounded_image(image: dict[str, Any] | None) -> dict[str, Any] | None:
    """A kept image (``resale.privacy.sealing``), its largest attributes digested until it fits."""
    if image is None:
        return None
    kept = hashable(image)
    total = _size(kept)
    if total <= IMAGE_MAX_BYTES:
        return kept
    bounded = dict(kept)
    sizes = {name: _size(value) for name, value in kept.items()}
    for name in sorted(sizes, key=sizes.__getitem__, reverse=True):
        bounded[name] = _digest(kept[name], sizes[name])
        total -= sizes[name] - _size(bounded[name])
        if total <= IMAGE_MAX_BYTES:
            return bounded
    return _digest(kept, _size(kept))


@dataclass(frozen=True)
class Gap:
    """Stream records the history lost, with what is known of them (``detail``: shard, range...)."""

    gap_id: str
    entity_type: str
    entity_id: str
    detail: dict[str, Any]


@dataclass(frozen=True)
class _Entry:
    marker: str
    content: dict[str, Any]


def _record_entry(record: StreamRecord, images: tuple) -> _Entry:
    old, new = images
    return _Entry(
        marker=applied_marker_key(record),
        content={
            "chain_version": CHAIN_VERSION,
            "event": record.event,
            "entity_type": record.entity_type,
            "entity_id": record.entity_id,
            "old": bounded_image(old),
            "new": bounded_image(new),
            "actor": _actor(record),
            "at": _change_time(record),
            "source": f"{record.table_role}#{record.event_id}",
            "stream_sequence": record.sequence_number,
        },
    )


def _gap_entry(gap: Gap) -> _Entry:
    return _Entry(
        marker=f"applied#gap#{gap.gap_id}",
        content={
            "chain_version": CHAIN_VERSION,
            "event": GAP,
            "entity_type": gap.entity_type,
            "entity_id": gap.entity_id,
            "old": None,
            "new": hashable(gap.detail),
            "actor": GAP_ACTOR,
            "at": rfc3339(datetime.now(UTC)),
            "source": f"gap#{gap.gap_id}",
            "stream_sequence": None,
        },
    )


def read_head(client, table: str) -> tuple[int, str]:
    item = client.get_item(
        TableName=table, Key={"chain": {"S": HEAD_CHAIN}, "seq": {"N": "0"}}, ConsistentRead=True
    ).get("Item")
    if not item:
        return 0, GENESIS_HASH
    return int(item["head_seq"]["N"]), item["head_hash"]["S"]


def _event_item(event: dict[str, Any]) -> dict[str, dict]:
    item = {"chain": {"S": EVENTS_CHAIN}, "seq": {"N": str(event["seq"])}}
    item["entity_key"] = {"S": f"{event['entity_type']}#{event['entity_id']}"}
    item["chain_version"] = {"N": str(event["chain_version"])}
    for name, value in event.items():
        if name in ("seq", "chain_version") or value is None:
            continue
        item[name] = {"S": canonical_json(value) if name in ("old", "new") else value}
    return item


def _transaction(table: str, head: tuple[int, str], batch: list[tuple[_Entry, dict]]) -> list[dict]:
    head_seq, head_hash = head
    head_condition = (
        {"ConditionExpression": "attribute_not_exists(head_seq)"}
        if head_seq == 0
        else {
            "ConditionExpression": "head_seq = :expected",
            "ExpressionAttributeValues": {":expected": {"N": str(head_seq)}},
        }
    )
    items = []
    for entry, event in batch:
        items.append(
            {
                "Put": {
                    "TableName": table,
                    "Item": _event_item(event),
                    "ConditionExpression": "attribute_not_exists(seq)",
                }
            }
        )
        items.append(
            {
                "Put": {
                    "TableName": table,
                    "Item": {
                        "chain": {"S": entry.marker},
                        "seq": {"N": "0"},
                        "event_seq": {"N": str(event["seq"])},
                    },
                    "ConditionExpression": "attribute_not_exists(seq)",
                }
            }
        )
    last = batch[-1][1]
    items.append(
        {
            "Put": {
                "TableName": table,
                "Item": {
                    "chain": {"S": HEAD_CHAIN},
                    "seq": {"N": "0"},
                    "head_seq": {"N": str(last["seq"])},
                    "head_hash": {"S": last["hash"]},
                },
                **head_condition,
            }
        }
    )
    items.extend(daily_counts_updates(table, [event for _, event in batch]))
    return items


def _chain(batch: list[_Entry], head: tuple[int, str], recorded_at: str) -> list[tuple[_Entry, dict]]:
    """The entries as events after the head, in the shape the audit API returns (``hash`` last)."""
    seq, prev_hash = head
    chained = []
    for entry in batch:
        seq += 1
        event = {"seq": seq, **entry.content, "recorded_at": recorded_at, "prev_hash": prev_hash}
        event["hash"] = event_hash(event)
        prev_hash = event["hash"]
        chained.append((entry, event))
    return chained


def _entry_bytes(entry: _Entry) -> int:
    return sum(
        len(canonical_json(entry.content[side]).encode("utf-8"))
        for side in ("old", "new")
        if entry.content[side] is not None
    )


def _next_batch(pending: list[_Entry]) -> list[_Entry]:
    """The entries of the next transaction: at most ``MAX_EVENTS_PER_TRANSACTION``, under
    ``TRANSACTION_MAX_BYTES`` of images, all of one UTC day (one counts item per transaction)."""
    batch, size = [], 0
    for entry in pending[:MAX_EVENTS_PER_TRANSACTION]:
        size += _entry_bytes(entry)
        if batch and (
            size > TRANSACTION_MAX_BYTES or event_day(entry.content) != event_day(batch[0].content)
        ):
            break
        batch.append(entry)
    return batch


def history_append(*, client, table: str, records: list[StreamRecord]) -> AppendResult:
    """Appends the records' events in their order; records already in the history are skipped.

    ``client`` is a low-level DynamoDB client with the tenant's credentials, ``table`` the
    tenant's history table: all this needs, so it runs the same in the consumer and the Lambda.
    Personal attributes are sealed under their data subject's key, secrets dropped
    (``resale.privacy.sealing``), before an image is bounded and hashed.
    """
    images = history_images(
        client=client, table=table, records=records, created_at=rfc3339(datetime.now(UTC))
    )
    entries = [_record_entry(record, pair) for record, pair in zip(records, images, strict=True)]
    return _append(client, table, entries)


def history_gap_append(*, client, table: str, gap: Gap) -> AppendResult:
    """Appends a ``GAP`` event for records the history lost; the same ``gap_id`` is appended once."""
    return _append(client, table, [_gap_entry(gap)])


def _append(client, table: str, entries: list[_Entry]) -> AppendResult:
    pending = list(entries)
    appended: list[dict[str, Any]] = []
    duplicates = 0
    attempts = 0
    while pending:
        batch = _next_batch(pending)
        head = _known_heads.get(table) or read_head(client, table)
        chained = _chain(batch, head, rfc3339(datetime.now(UTC)))
        try:
            client.transact_write_items(TransactItems=_transaction(table, head, chained))
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            _known_heads.pop(table, None)
            reasons = exc.response.get("CancellationReasons") or []
            already = {
                index // 2
                for index, reason in enumerate(reasons[: 2 * len(batch)])
                if index % 2 == 1 and reason.get("Code") == "ConditionalCheckFailed"
            }
            if already:
                duplicates += len(already)
                pending = [entry for index, entry in enumerate(batch) if index not in already] + pending[
                    len(batch) :
                ]
                continue
            attempts += 1
            if attempts >= MAX_ATTEMPTS:
                raise HistoryAppendFailed(f"history head of {table} contended") from exc
            time.sleep(backoff_delay(attempts, base=0.005, cap=0.2))
            continue
        appended.extend(event for _, event in chained)
        _known_heads[table] = (chained[-1][1]["seq"], chained[-1][1]["hash"])
        pending = pending[len(batch) :]
        attempts = 0
    return AppendResult(appended=appended, duplicates=duplicates)
