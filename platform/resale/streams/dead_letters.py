"""Records that cannot be applied: kept as dead letters, recorded in the chain, and passed over.

When a batch has failed ``STREAMS_MAX_BATCH_ATTEMPTS`` times the consumer applies it record by
record. A record that fails for a reason of its own (it cannot be parsed, the history refuses
it) is kept, redacted, in the tenant's history table (``chain="dead-letters"``, ``seq`` = the seq
of its ``GAP`` event, readable by the tenant's auditors) and the chain gets a ``GAP`` event
naming it, its error and the SHA-256 of the record; then the shard goes on. A failure of a
dependency (DynamoDB or PostgreSQL unreachable, throttled) is not the record's fault: it is
raised, and the shard retries the same record later.

Crash-safety: the ``GAP`` event is appended first (idempotent on the record's event id), then
the dead letter is written; a consumer killed between the two keeps the ``GAP`` (with the
record's digest and error) and loses only the dead letter's copy of the record.
"""

import hashlib
import json
import logging
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError
from django.db import DatabaseError

from resale.binding import TenantRef, tenant_dynamodb_client, tenant_models
from resale.history.chain import canonical_json
from resale.history.services import DEAD_LETTERS_CHAIN, Gap, history_gap_append
from resale.streams.handler import BatchResult, apply_stream_records
from resale.streams.records import ENTITY_TYPES, StreamRecord, stream_record_from_raw

logger = logging.getLogger(__name__)

DEAD_LETTER_MAX_BYTES = 300 * 1024
TRANSIENT_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "TransactionConflictException",
    }
)


@dataclass(frozen=True)
class Applied:
    records: list[StreamRecord]
    result: BatchResult


def _transient(exc: Exception) -> bool:
    if isinstance(exc, BotoCoreError | DatabaseError):
        return True
    return isinstance(exc, ClientError) and exc.response["Error"]["Code"] in TRANSIENT_CODES


def _what_is_kept(raw: dict) -> dict:
    """A record that could not be applied keeps what names it, never its images: they may hold
    personal data or secrets, and the record was not readable enough to apply the declarations."""
    change = raw.get("dynamodb") or {}
    return {
        "eventID": raw.get("eventID"),
        "eventName": raw.get("eventName"),
        "dynamodb": {name: change.get(name) for name in ("Keys", "SequenceNumber", "SizeBytes")},
    }


def _dead_letter(*, tenant: TenantRef, table_role: str, raw: dict, error: Exception) -> None:
    models = tenant_models(tenant)
    text = canonical_json(json.loads(json.dumps(_what_is_kept(raw), default=str)))
    change = raw.get("dynamodb") or {}
    event_id = raw.get("eventID") or change.get("SequenceNumber", "unknown")
    keys = change.get("Keys") or {}
    gap = Gap(
        gap_id=f"dead-letter#{table_role}#{event_id}",
        entity_type=ENTITY_TYPES.get(table_role, table_role),
        entity_id="#".join(str(next(iter(value.values()), "")) for value in keys.values()) or "unknown",
        detail={
            "reason": "unprocessable",
            "table": table_role,
            "event_id": event_id,
            "sequence": change.get("SequenceNumber"),
            "error": type(error).__name__,
            "record_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
        },
    )
    appended = history_gap_append(
        client=tenant_dynamodb_client(models.tenant), table=models.history.Meta.table_name, gap=gap
    ).appended
    logger.error(
        "stream record dead-lettered",
        extra={"tenant": tenant.slug, "table": table_role, "event_id": event_id, "error": str(error)},
    )
    if not appended:
        return
    item = {
        "chain": {"S": DEAD_LETTERS_CHAIN},
        "seq": {"N": str(appended[0]["seq"])},
        "table_role": {"S": table_role},
        "event_id": {"S": str(event_id)},
        "error": {"S": f"{type(error).__name__}: {error}"[:2000]},
        "recorded_at": {"S": appended[0]["recorded_at"]},
    }
    if len(text.encode("utf-8")) <= DEAD_LETTER_MAX_BYTES:
        item["record"] = {"S": text}
    tenant_dynamodb_client(models.tenant).put_item(TableName=models.history.Meta.table_name, Item=item)


def stream_records_apply_isolating(*, tenant: TenantRef, table_role: str, raw: list[dict]) -> Applied:
    """Applies the raw records one at a time; those that fail on their own become dead letters."""
    applied: list[StreamRecord] = []
    appended = duplicates = 0
    for one in raw:
        try:
            record = stream_record_from_raw(one, table_role)
            result = apply_stream_records(tenant=tenant, records=[record])
        except Exception as exc:
            if _transient(exc):
                raise
            _dead_letter(tenant=tenant, table_role=table_role, raw=one, error=exc)
            continue
        applied.append(record)
        appended += result.appended
        duplicates += result.duplicates
    return Applied(records=applied, result=BatchResult(appended=appended, duplicates=duplicates))
