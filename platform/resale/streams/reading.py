"""Reading one shard: a batch of records, applied, then checkpointed.

- An expired iterator is fetched again from the checkpoint on the next read.
- Losses are recorded, never skipped: a checkpoint older than the stream's retention
  (``TrimmedDataAccessException``) is a ``GAP`` event naming the shard and the range from the
  checkpoint to the oldest record left, and a batch that fails ``max_batch_attempts`` times is
  applied record by record, each record that still fails becoming a dead letter in the tenant's
  history table with a ``GAP`` event (``resale.streams.dead_letters``); the shard goes on.
- A shard whose iterator ends (closed, read to its end) is finished (``shard_finish``).
"""

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from botocore.exceptions import ClientError

from resale.binding import tenant_dynamodb_client, tenant_models, tenant_ref, tenant_streams_client
from resale.history.services import Gap, history_gap_append
from resale.registry import RegisteredTenant
from resale.streams.dead_letters import Applied, stream_records_apply_isolating
from resale.streams.handler import apply_stream_records
from resale.streams.metrics import STREAM_DUPLICATES, STREAM_RECORDS
from resale.streams.options import ConsumerOptions
from resale.streams.owned_shard import OwnedShard
from resale.streams.records import INSERT, MODIFY, StreamRecord, stream_record_from_raw
from resale.streams.shard_checkpoints import shard_checkpoint_advance, shard_finish

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Polled:
    """What one read of a shard did: ``worked`` when it applied records or recorded a loss;
    ``finished`` or ``lease_lost`` when the shard is no longer this consumer's to read."""

    worked: bool
    finished: bool = False
    lease_lost: bool = False


def record_time(record: StreamRecord) -> datetime:
    """The newest known moment of a change: the writer's own timestamp if later than the stream's."""
    moment = record.approximate_at
    if record.event in (INSERT, MODIFY) and record.new:
        value = record.new.get("updated_at") or record.new.get("created_at") or record.new.get("clicked_at")
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                moment = max(moment, datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC))
    return moment


class ShardReader:
    def __init__(
        self, *, owner: str, options: ConsumerOptions, tenant_of: Callable[[str], RegisteredTenant]
    ) -> None:
        self.owner = owner
        self.options = options
        self._tenant_of = tenant_of

    def _streams(self, tenant_slug: str):
        """The streams client of the shard's tenant: its own credentials reach only its streams."""
        return tenant_streams_client(self._tenant_of(tenant_slug))

    def _iterator(self, shard: OwnedShard) -> str:
        kwargs = {"StreamArn": shard.stream_arn, "ShardId": shard.shard_id}
        if shard.checkpoint:
            kwargs.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=shard.checkpoint)
        else:
            kwargs["ShardIteratorType"] = "TRIM_HORIZON"
        return self._streams(shard.tenant_slug).get_shard_iterator(**kwargs)["ShardIterator"]

    def _record_trim(self, shard: OwnedShard) -> None:
        """The stream no longer holds the records after the checkpoint: a GAP names the shard and
        the lost range (after the checkpoint, before the oldest record left), then reading goes
        on from the oldest record left."""
        streams = self._streams(shard.tenant_slug)
        oldest = streams.get_shard_iterator(
            StreamArn=shard.stream_arn, ShardId=shard.shard_id, ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        first = streams.get_records(ShardIterator=oldest, Limit=1).get("Records", [])
        before = first[0]["dynamodb"]["SequenceNumber"] if first else None
        logger.error(
            "stream records trimmed before they were read",
            extra={"shard": shard.shard_id, "tenant": shard.tenant_slug, "after": shard.checkpoint},
        )
        models = tenant_models(self._tenant_of(shard.tenant_slug))
        history_gap_append(
            client=tenant_dynamodb_client(models.tenant),
            table=models.history.Meta.table_name,
            gap=Gap(
                gap_id=f"trimmed#{shard.table_role}#{shard.shard_id}#{shard.checkpoint}",
                entity_type="stream",
                entity_id=f"{shard.table_role}#{shard.shard_id}",
                detail={
                    "reason": "trimmed",
                    "table": shard.table_role,
                    "shard": shard.shard_id,
                    "after_sequence": shard.checkpoint,
                    "before_sequence": before,
                },
            ),
        )
        shard.checkpoint, shard.iterator = "", oldest

    def _apply(self, shard: OwnedShard, raw_records: list[dict]) -> Applied:
        """Applies a batch; after ``max_batch_attempts`` failures, record by record with dead letters."""
        tenant = tenant_ref(self._tenant_of(shard.tenant_slug))
        if shard.failures + 1 >= self.options.max_batch_attempts:
            return stream_records_apply_isolating(tenant=tenant, table_role=shard.table_role, raw=raw_records)
        try:
            records = [stream_record_from_raw(raw, shard.table_role) for raw in raw_records]
            result = apply_stream_records(tenant=tenant, records=records)
        except Exception:
            shard.failures += 1
            raise
        return Applied(records=records, result=result)

    def poll(self, shard: OwnedShard) -> Polled:
        """Reads, applies and checkpoints one batch of a shard."""
        try:
            if shard.iterator is None:
                shard.iterator = self._iterator(shard)
            response = self._streams(shard.tenant_slug).get_records(
                ShardIterator=shard.iterator, Limit=self.options.batch_limit
            )
        except ClientError as exc:
            code = exc.response["Error"]["Code"]
            if code == "ExpiredIteratorException":
                shard.iterator = None
                return Polled(worked=False)
            if code == "TrimmedDataAccessException" and shard.checkpoint:
                self._record_trim(shard)
                return Polled(worked=True)
            raise
        raw_records = response.get("Records", [])
        if raw_records:
            if not self._apply_and_checkpoint(shard, raw_records):
                logger.warning("lease lost before checkpoint", extra={"shard": shard.shard_id})
                return Polled(worked=True, lease_lost=True)
        else:
            shard.lag_seconds = 0.0
        shard.iterator = response.get("NextShardIterator")
        if shard.iterator is None:
            shard_finish(shard=shard, owner=self.owner)
            logger.info("shard finished", extra={"shard": shard.shard_id, "tenant": shard.tenant_slug})
            return Polled(worked=bool(raw_records), finished=True)
        return Polled(worked=bool(raw_records))

    def _apply_and_checkpoint(self, shard: OwnedShard, raw_records: list[dict]) -> bool:
        """Applies a batch and moves the checkpoint past it; False when the lease was lost first."""
        applied = self._apply(shard, raw_records)
        shard.failures = 0
        records, result = applied.records, applied.result
        last_sequence = raw_records[-1]["dynamodb"]["SequenceNumber"]
        if records:
            shard.lag_seconds = max(0.0, (datetime.now(UTC) - record_time(records[-1])).total_seconds())
        checkpointed = shard_checkpoint_advance(
            shard=shard,
            owner=self.owner,
            sequence_number=last_sequence,
            applied=result.appended,
            lease_seconds=self.options.lease_seconds,
        )
        if not checkpointed:
            return False
        shard.checkpoint = last_sequence
        STREAM_RECORDS.labels(shard.tenant_slug, shard.table_role).inc(result.appended)
        if result.duplicates:
            STREAM_DUPLICATES.labels(shard.tenant_slug, shard.table_role).inc(result.duplicates)
        logger.info(
            "applied",
            extra={
                "consumer": self.owner,
                "tenant": shard.tenant_slug,
                "shard": shard.shard_id,
                "first_sequence": raw_records[0]["dynamodb"]["SequenceNumber"],
                "last_sequence": last_sequence,
                "appended": result.appended,
                "duplicates": result.duplicates,
            },
        )
        return True
