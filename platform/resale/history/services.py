"""Appending to a tenant's history: exactly once per stream record, in a gapless hash chain.

The history table holds three kinds of item:

- ``chain="events"``, ``seq=N``: the events, seq 1, 2, 3, ... (the hash chain);
- ``chain="head"``, ``seq=0``: the chain head, ``head_seq`` and ``head_hash`` of the last event;
- ``chain="applied#<role>#<eventID>"``, ``seq=0``: a marker that a stream record was appended.

One DynamoDB transaction writes a batch of events, their markers and the new head, on the
conditions that the head is still what we read and that no marker exists yet. So consumers on
different shards of one tenant can append at once (the loser of a race re-reads the head and
retries), and a record delivered twice (a consumer restarted from its checkpoint, a Lambda
retry) is appended once: its marker's condition fails and it is dropped from the batch.
"""

import logging
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from resale.history.chain import GENESIS_HASH, canonical_json, event_hash
from resale.privacy.sealing import history_images
from resale.streams.records import EXPIRE, INSERT, MODIFY, StreamRecord

logger = logging.getLogger(__name__)

EVENTS_CHAIN = "events"
HEAD_CHAIN = "head"
TTL_ACTOR = "system:dynamodb-ttl"
UNKNOWN_ACTOR = "unknown"
# Each event takes two items of a transaction (event and marker) and the head one: 2 * 49 + 1 <= 100.
MAX_EVENTS_PER_TRANSACTION = 49
MAX_ATTEMPTS = 50


_known_heads: dict[str, tuple[int, str]] = {}
"""The head this process last wrote, per history table: saves a read per transaction. Only a
hint: the transaction's condition on the head decides, and a stale hint costs one retry."""


class HistoryAppendFailed(Exception):
    """The chain head stayed contended past every retry; the records stay unacknowledged."""


@dataclass(frozen=True)
class AppendResult:
    appended: list[dict[str, Any]]
    duplicates: int


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


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


def _event_content(record: StreamRecord, images: tuple, recorded_at: str) -> dict[str, Any]:
    old, new = images
    return {
        "event": record.event,
        "entity_type": record.entity_type,
        "entity_id": record.entity_id,
        "old": canonical_json(old) if old is not None else None,
        "new": canonical_json(new) if new is not None else None,
        "actor": _actor(record),
        "at": _change_time(record),
        "source": f"{record.table_role}#{record.event_id}",
        "stream_sequence": record.sequence_number,
        "recorded_at": recorded_at,
    }


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
    for name, value in event.items():
        if name != "seq" and value is not None:
            item[name] = {"S": value}
    return item


def _transaction(table: str, head: tuple[int, str], batch: list[tuple[StreamRecord, dict]]) -> list[dict]:
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
    for record, event in batch:
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
                        "chain": {"S": applied_marker_key(record)},
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
    return items


def _chain(batch: list[tuple[StreamRecord, tuple]], head: tuple[int, str], recorded_at: str) -> list[tuple]:
    seq, prev_hash = head
    chained = []
    for record, images in batch:
        seq += 1
        event = {"seq": seq, **_event_content(record, images, recorded_at), "prev_hash": prev_hash}
        event["hash"] = event_hash(event)
        prev_hash = event["hash"]
        chained.append((record, event))
    return chained


def history_append(*, client, table: str, records: list[StreamRecord]) -> AppendResult:
    """Appends the records' events in their order; records already in the history are skipped.

    ``client`` is a low-level DynamoDB client with the tenant's credentials, ``table`` the
    tenant's history table: all this needs, so it runs the same in the consumer and the Lambda.
    """
    images = history_images(
        client=client, table=table, records=records, created_at=rfc3339(datetime.now(UTC))
    )
    pending = list(zip(records, images, strict=True))
    appended: list[dict[str, Any]] = []
    duplicates = 0
    attempts = 0
    while pending:
        batch = pending[:MAX_EVENTS_PER_TRANSACTION]
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
                pending = [record for index, record in enumerate(batch) if index not in already] + pending[
                    len(batch) :
                ]
                continue
            attempts += 1
            if attempts >= MAX_ATTEMPTS:
                raise HistoryAppendFailed(f"history head of {table} contended") from exc
            time.sleep(random.uniform(0, min(0.2, 0.005 * 2**attempts)))
            continue
        appended.extend(event for _, event in chained)
        _known_heads[table] = (chained[-1][1]["seq"], chained[-1][1]["hash"])
        pending = pending[len(batch) :]
        attempts = 0
    return AppendResult(appended=appended, duplicates=duplicates)
