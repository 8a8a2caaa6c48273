"""Verifying a tenant's chain, and the cached verification that ``/audit/verify`` answers from.

A request never rehashes a whole history: it answers the cached result (``chain="verification"``,
``seq=0`` in the tenant's history table), first bringing it forward from its last verified event
over at most ``REQUEST_BUDGET_EVENTS`` new ones; a longer way left is a job
(``resale.history.tasks.history_verify_job``). Incremental verification only checks what was
appended since, so a full verification from seq 1, which finds an event altered in storage
later, runs as a job when the last full one is older than ``AUDIT_FULL_VERIFY_SECONDS`` or when
an auditor asks (``POST /audit/verify``).

The cached item carries a version: an incremental run writes only over the version it read,
a full run always writes and bumps it, so an incremental result computed from a state older
than a full run's finding never hides that finding. Once broken, a chain stays reported broken
until a full run finds it whole again.
"""

import json
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime

from botocore.exceptions import ClientError
from django.conf import settings

from resale.binding import TenantModels, tenant_dynamodb_client
from resale.clock import rfc3339
from resale.history.chain import GENESIS_HASH, event_hash
from resale.history.selectors import PAGE_SIZE, event_as_dict
from resale.history.services import EVENTS_CHAIN, read_head
from resale.streams.records import GAP

VERIFICATION_CHAIN = "verification"
REQUEST_BUDGET_EVENTS = 2000
MAX_LISTED_GAPS = 500


@dataclass(frozen=True)
class Verification:
    ok: bool
    events: int
    first_bad_seq: int | None
    head_seq: int
    verified_hash: str = GENESIS_HASH
    gaps: list[dict] = field(default_factory=list)
    gaps_total: int = 0
    verified_at: str | None = None
    full_verified_at: str | None = None

    @property
    def complete(self) -> bool:
        return self.events >= self.head_seq or not self.ok


def _gap_summary(event: dict) -> dict:
    return {"seq": event["seq"], "at": event["at"], "entity_id": event["entity_id"], "detail": event["new"]}


def history_verify(
    *, tenant_models: TenantModels, since: Verification | None = None, budget: int | None = None
) -> Verification:
    """Checks each hash, each link and the sequence from seq 1 (or on from ``since``), up to the
    head or ``budget`` events; ``first_bad_seq`` names the first event that is missing or whose
    stored content, hash or link does not hold, and ``gaps`` lists the ``GAP`` events."""
    model = tenant_models.history
    head_seq, head_hash = read_head(tenant_dynamodb_client(tenant_models.tenant), model.Meta.table_name)
    now = rfc3339(datetime.now(UTC))
    if since is not None and not since.ok:
        return replace(since, head_seq=head_seq, verified_at=now)
    base_seq = since.events if since else 0
    prev_hash = since.verified_hash if since else GENESIS_HASH
    gaps = list(since.gaps) if since else []
    gaps_total = since.gaps_total if since else 0
    stop = head_seq if budget is None else min(head_seq, base_seq + budget)
    first_bad: int | None = None
    expected = base_seq + 1
    events = (
        model.query(
            EVENTS_CHAIN, model.seq.between(expected, stop), page_size=PAGE_SIZE, consistent_read=True
        )
        if stop >= expected
        else ()
    )
    for item in events:
        seq = int(item.seq)
        if seq != expected:
            break
        event = event_as_dict(item)
        if first_bad is None and (item.prev_hash != prev_hash or event_hash(event) != item.hash):
            first_bad = seq
        if event["event"] == GAP:
            gaps_total += 1
            if len(gaps) < MAX_LISTED_GAPS:
                gaps.append(_gap_summary(event))
        prev_hash = item.hash
        expected = seq + 1
    verified = expected - 1
    if first_bad is None and verified < stop:
        first_bad = verified + 1
    if first_bad is None and verified == head_seq and head_hash != prev_hash:
        first_bad = head_seq
    return Verification(
        ok=first_bad is None,
        events=verified,
        first_bad_seq=first_bad,
        head_seq=head_seq,
        verified_hash=prev_hash,
        gaps=gaps,
        gaps_total=gaps_total,
        verified_at=now,
        full_verified_at=(
            now if since is None and (verified >= head_seq or first_bad) else since and since.full_verified_at
        ),
    )


def _key() -> dict:
    return {"chain": {"S": VERIFICATION_CHAIN}, "seq": {"N": "0"}}


def history_verification_cached(*, tenant_models: TenantModels) -> tuple[Verification | None, int]:
    """The last stored verification and its version (``None, 0`` before the first)."""
    item = (
        tenant_dynamodb_client(tenant_models.tenant)
        .get_item(TableName=tenant_models.history.Meta.table_name, Key=_key(), ConsistentRead=True)
        .get("Item")
    )
    if not item:
        return None, 0
    return Verification(**json.loads(item["state"]["S"])), int(item["version"]["N"])


def history_verification_refresh(
    *, tenant_models: TenantModels, full: bool = False, budget: int | None = None
) -> Verification:
    """Brings the cached verification up to date (from seq 1 with ``full``) and stores it."""
    client = tenant_dynamodb_client(tenant_models.tenant)
    table = tenant_models.history.Meta.table_name
    cached, version = history_verification_cached(tenant_models=tenant_models)
    if full:
        result = history_verify(tenant_models=tenant_models)
        client.update_item(
            TableName=table,
            Key=_key(),
            UpdateExpression="SET #state = :state ADD version :one",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues={":state": {"S": json.dumps(asdict(result))}, ":one": {"N": "1"}},
        )
        return result
    result = history_verify(tenant_models=tenant_models, since=cached, budget=budget)
    condition = (
        {"ConditionExpression": "attribute_not_exists(version)"}
        if version == 0
        else {
            "ConditionExpression": "version = :version",
            "ExpressionAttributeValues": {":version": {"N": str(version)}},
        }
    )
    try:
        client.put_item(
            TableName=table,
            Item={**_key(), "state": {"S": json.dumps(asdict(result))}, "version": {"N": str(version + 1)}},
            **condition,
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        return history_verification_cached(tenant_models=tenant_models)[0] or result
    return result


def full_verification_due(verification: Verification) -> bool:
    if verification.full_verified_at is None:
        return True
    last = datetime.fromisoformat(verification.full_verified_at.replace("Z", "+00:00"))
    return (datetime.now(UTC) - last).total_seconds() > settings.AUDIT_FULL_VERIFY_SECONDS
