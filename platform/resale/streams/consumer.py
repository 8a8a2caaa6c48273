"""The long-running driver of the stream handler: shards, iterators, leases and checkpoints.

- Discovery: every ``STREAMS_DISCOVERY_SECONDS`` the consumer reads the tenants whose streams
  are read (``CONSUMED_STATUSES``) from the registry and records the shards (with their parents)
  of each NEW tenant's streams in ``StreamShard``; a stream is described again when one of its
  shards finishes (its children appear) and every ``STREAMS_REDISCOVERY_SECONDS`` in any case. New
  tenants are picked up without a restart; the shards of an offboarded tenant are released.
- Polling: a shard that answered records is read again at once; an idle one is read after a
  delay that doubles with each empty read, up to ``STREAMS_IDLE_BACKOFF_MAX_SECONDS``, and at once
  again when a write to its tenant is noted (``resale.streams.wake``). An idle fleet then costs
  the store a read per shard per backoff cap, not one per ``STREAMS_POLL_IDLE_SECONDS``.
- Order: a shard is read only after its parent is finished (read to its end after closing),
  so an item's changes, which follow the shard lineage, are applied in order.
- Leases: a shard has one reader. A consumer takes a free or expired lease with a conditional
  UPDATE (PostgreSQL's clock decides expiry), renews its own every third of the lease time,
  and takes no more than its fair share (shards / live consumers), releasing extras, so
  several consumers split the shards. A consumer that stops renewing loses its shards when
  its leases expire.
- Losses are recorded, never skipped: a checkpoint older than the stream's retention
  (``TrimmedDataAccessException``) is a ``GAP`` event naming the shard and the range from the
  checkpoint to the oldest record left, and a batch that fails ``STREAMS_MAX_BATCH_ATTEMPTS``
  times is applied record by record, each record that still fails becoming a dead letter in the
  tenant's history table with a ``GAP`` event (``resale.streams.dead_letters``); the shard goes on.
- Signed checkpoints of the history: every ``AUDIT_CHECKPOINT_SECONDS`` the consumer signs the
  chain head of each tenant whose shards it holds, if it moved (``resale.history.checkpoints``).
- Checkpoints: after a batch's effects are durable, the shard's checkpoint moves to the
  batch's last sequence number, on the condition that this consumer still holds the lease. A
  consumer killed at any point resumes AFTER the checkpoint; records applied but not yet
  checkpointed are applied again and skipped by the handler's idempotency. So: no gap, no
  duplicate.
"""

import contextlib
import logging
import math
import os
import random
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.db import DatabaseError, close_old_connections
from django.db.models import DateTimeField, ExpressionWrapper, F, Q, Value
from django.db.models.functions import Now

from resale.binding import tenant_dynamodb_client, tenant_models, tenant_ref, tenant_streams_client
from resale.history.checkpoints import history_checkpoint_create
from resale.history.services import Gap, history_gap_append
from resale.models import StreamConsumer, StreamShard
from resale.streams.dead_letters import Applied, stream_records_apply_isolating
from resale.streams.handler import apply_stream_records
from resale.streams.metrics import SHARDS_OWNED, STREAM_DUPLICATES, STREAM_LAG, STREAM_RECORDS
from resale.streams.records import INSERT, MODIFY, StreamRecord, stream_record_from_raw
from resale.streams.tenancy import consumed_tenants
from resale.streams.wake import tenants_woken_since
from resale.webhooks.services import webhook_deliveries_requeue
from tenants.models import Tenant

logger = logging.getLogger(__name__)

REQUEUE_INTERVAL_SECONDS = 30


@dataclass
class OwnedShard:
    row_id: int
    tenant_slug: str
    table_role: str
    stream_arn: str
    shard_id: str
    checkpoint: str
    iterator: str | None = None
    next_poll_at: float = 0.0
    idle_polls: int = 0
    lag_seconds: float = 0.0
    failures: int = 0

    def polled(self, *, worked: bool, now: float, options: "ConsumerOptions") -> None:
        """Schedules the next read: at once after records, later after each empty read."""
        if worked:
            self.idle_polls, self.next_poll_at = 0, 0.0
            return
        self.idle_polls += 1
        delay = options.idle_seconds * 2 ** min(self.idle_polls, 16)
        self.next_poll_at = now + min(options.idle_backoff_max_seconds, delay)

    def wake(self) -> None:
        self.idle_polls, self.next_poll_at = 0, 0.0


@dataclass
class ConsumerOptions:
    lease_seconds: float = field(default_factory=lambda: settings.STREAMS_LEASE_SECONDS)
    discovery_seconds: float = field(default_factory=lambda: settings.STREAMS_DISCOVERY_SECONDS)
    idle_seconds: float = field(default_factory=lambda: settings.STREAMS_POLL_IDLE_SECONDS)
    idle_backoff_max_seconds: float = field(default_factory=lambda: settings.STREAMS_IDLE_BACKOFF_MAX_SECONDS)
    rediscovery_seconds: float = field(default_factory=lambda: settings.STREAMS_REDISCOVERY_SECONDS)
    batch_limit: int = field(default_factory=lambda: settings.STREAMS_BATCH_LIMIT)
    checkpoint_seconds: float = field(default_factory=lambda: settings.AUDIT_CHECKPOINT_SECONDS)
    max_batch_attempts: int = field(default_factory=lambda: settings.STREAMS_MAX_BATCH_ATTEMPTS)


def _lease_until(seconds: float) -> ExpressionWrapper:
    return ExpressionWrapper(Now() + Value(timedelta(seconds=seconds)), output_field=DateTimeField())


def record_time(record: StreamRecord) -> datetime:
    """The newest known moment of a change: the writer's own timestamp if later than the stream's."""
    moment = record.approximate_at
    if record.event in (INSERT, MODIFY) and record.new:
        value = record.new.get("updated_at") or record.new.get("created_at") or record.new.get("clicked_at")
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                moment = max(moment, datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC))
    return moment


class ShardStreamConsumer:
    def __init__(self, *, name: str | None = None, options: ConsumerOptions | None = None) -> None:
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.options = options or ConsumerOptions()
        self.tenants: dict[str, Tenant] = {}
        self.owned: dict[int, OwnedShard] = {}
        self._next_discovery = 0.0
        self._next_rediscovery = 0.0
        self._described: set[str] = set()
        self._wake_seen = 0.0
        self._next_lag_publish = 0.0
        self._next_lease_round = 0.0
        self._next_requeue = 0.0
        self._next_renewal = 0.0
        self._next_checkpoints = 0.0
        self._signed_heads: dict[str, int] = {}

    # Discovery -------------------------------------------------------------------------------

    def _streams(self, tenant_slug: str):
        """The streams client of the shard's tenant: its own credentials reach only its streams."""
        return tenant_streams_client(self.tenants[tenant_slug])

    def _stream_shards(self, tenant_slug: str, stream_arn: str) -> list[dict]:
        shards, start = [], None
        while True:
            kwargs = {"StreamArn": stream_arn}
            if start:
                kwargs["ExclusiveStartShardId"] = start
            description = self._streams(tenant_slug).describe_stream(**kwargs)["StreamDescription"]
            shards.extend(description.get("Shards", []))
            start = description.get("LastEvaluatedShardId")
            if not start:
                return shards

    def discover(self) -> None:
        tenants = consumed_tenants()
        self.tenants = {tenant.slug: tenant for tenant in tenants if tenant.resources.get("tables")}
        if time.monotonic() >= self._next_rediscovery:
            self._described.clear()
            self._next_rediscovery = time.monotonic() + self.options.rediscovery_seconds
        rows = []
        for tenant in self.tenants.values():
            for role, stream_arn in (tenant.resources.get("streams") or {}).items():
                if stream_arn in self._described:
                    continue
                try:
                    shards = self._stream_shards(tenant.slug, stream_arn)
                except (ClientError, BotoCoreError):
                    logger.warning("stream not readable", extra={"tenant": tenant.slug, "stream": stream_arn})
                    continue
                self._described.add(stream_arn)
                rows.extend(
                    StreamShard(
                        tenant_slug=tenant.slug,
                        table_role=role,
                        stream_arn=stream_arn,
                        shard_id=shard["ShardId"],
                        parent_shard_id=shard.get("ParentShardId", ""),
                    )
                    for shard in shards
                )
        if rows:
            StreamShard.objects.bulk_create(rows, ignore_conflicts=True)
        for shard in list(self.owned.values()):
            if shard.tenant_slug not in self.tenants:
                logger.info("tenant no longer consumed; releasing", extra={"tenant": shard.tenant_slug})
                self._release(shard)

    # Leases ----------------------------------------------------------------------------------

    def _eligible_rows(self) -> list[dict]:
        rows = list(
            StreamShard.objects.filter(tenant_slug__in=list(self.tenants)).values(
                "id",
                "stream_arn",
                "shard_id",
                "parent_shard_id",
                "finished",
                "lease_owner",
                "lease_expires_at",
            )
        )
        known = {(row["stream_arn"], row["shard_id"]) for row in rows}
        finished = {(row["stream_arn"], row["shard_id"]) for row in rows if row["finished"]}
        return [
            row
            for row in rows
            if not row["finished"]
            and (
                not row["parent_shard_id"]
                or (row["stream_arn"], row["parent_shard_id"]) in finished
                or (row["stream_arn"], row["parent_shard_id"]) not in known
            )
        ]

    def balance_leases(self) -> None:
        lease = self.options.lease_seconds
        StreamConsumer.objects.update_or_create(name=self.name, defaults={"last_seen_at": Now()})
        StreamConsumer.objects.filter(last_seen_at__lt=Now() - timedelta(seconds=10 * lease)).delete()
        live = max(
            1, StreamConsumer.objects.filter(last_seen_at__gte=Now() - timedelta(seconds=lease)).count()
        )
        if self.owned:
            self.renew_leases()
            still_mine = set(
                StreamShard.objects.filter(id__in=list(self.owned), lease_owner=self.name).values_list(
                    "id", flat=True
                )
            )
            for row_id in set(self.owned) - still_mine:
                logger.warning("lease lost", extra={"shard": self.owned[row_id].shard_id})
                self.owned.pop(row_id)
        eligible = self._eligible_rows()
        fair_share = math.ceil(len(eligible) / live)
        mine = [row for row in eligible if row["id"] in self.owned]
        for row in mine[fair_share:]:
            self._release(self.owned[row["id"]])
        now = datetime.now(UTC)
        free = [
            row
            for row in eligible
            if row["id"] not in self.owned
            and (not row["lease_owner"] or row["lease_expires_at"] is None or row["lease_expires_at"] < now)
        ]
        random.shuffle(free)
        for row in free[: max(0, fair_share - len(self.owned))]:
            self._acquire(row["id"])
        SHARDS_OWNED.set(len(self.owned))

    def renew_leases(self) -> None:
        """Extends this consumer's leases; also called between shards, so a slow round keeps them."""
        StreamShard.objects.filter(id__in=list(self.owned), lease_owner=self.name).update(
            lease_expires_at=_lease_until(self.options.lease_seconds)
        )
        self._next_renewal = time.monotonic() + self.options.lease_seconds / 3

    def _acquire(self, row_id: int) -> None:
        taken = (
            StreamShard.objects.filter(id=row_id, finished=False)
            .filter(Q(lease_owner="") | Q(lease_expires_at__lt=Now()) | Q(lease_owner=self.name))
            .update(lease_owner=self.name, lease_expires_at=_lease_until(self.options.lease_seconds))
        )
        if not taken:
            return
        row = StreamShard.objects.get(id=row_id)
        self.owned[row_id] = OwnedShard(
            row_id=row.id,
            tenant_slug=row.tenant_slug,
            table_role=row.table_role,
            stream_arn=row.stream_arn,
            shard_id=row.shard_id,
            checkpoint=row.checkpoint,
        )
        logger.info(
            "lease taken", extra={"shard": row.shard_id, "tenant": row.tenant_slug, "owner": self.name}
        )

    def _release(self, shard: OwnedShard) -> None:
        StreamShard.objects.filter(id=shard.row_id, lease_owner=self.name).update(
            lease_owner="", lease_expires_at=None
        )
        self.owned.pop(shard.row_id, None)

    def release_all(self) -> None:
        for shard in list(self.owned.values()):
            self._release(shard)
        StreamConsumer.objects.filter(name=self.name).delete()

    # Reading ---------------------------------------------------------------------------------

    def _iterator(self, shard: OwnedShard) -> str:
        kwargs = {"StreamArn": shard.stream_arn, "ShardId": shard.shard_id}
        if shard.checkpoint:
            kwargs.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=shard.checkpoint)
        else:
            kwargs["ShardIteratorType"] = "TRIM_HORIZON"
        return self._streams(shard.tenant_slug).get_shard_iterator(**kwargs)["ShardIterator"]

    def _checkpoint(self, shard: OwnedShard, sequence_number: str, applied: int) -> bool:
        return bool(
            StreamShard.objects.filter(id=shard.row_id, lease_owner=self.name).update(
                checkpoint=sequence_number,
                lag_seconds=shard.lag_seconds,
                records_applied=F("records_applied") + applied,
                lease_expires_at=_lease_until(self.options.lease_seconds),
            )
        )

    def _finish(self, shard: OwnedShard) -> None:
        StreamShard.objects.filter(id=shard.row_id, lease_owner=self.name).update(
            finished=True, lease_owner="", lease_expires_at=None, lag_seconds=0
        )
        self.owned.pop(shard.row_id, None)
        self._described.discard(shard.stream_arn)  # its children are found by the next discovery
        self._next_discovery = self._next_lease_round = 0.0
        logger.info("shard finished", extra={"shard": shard.shard_id, "tenant": shard.tenant_slug})

    def _models(self, tenant_slug: str):
        return tenant_models(self.tenants[tenant_slug])

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
        models = self._models(shard.tenant_slug)
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

    def _apply(self, shard: OwnedShard, raw_records: list[dict]):
        """Applies a batch; after ``max_batch_attempts`` failures, record by record with dead letters."""
        tenant = tenant_ref(self.tenants[shard.tenant_slug])
        if shard.failures + 1 >= self.options.max_batch_attempts:
            return stream_records_apply_isolating(tenant=tenant, table_role=shard.table_role, raw=raw_records)
        try:
            records = [stream_record_from_raw(raw, shard.table_role) for raw in raw_records]
            result = apply_stream_records(tenant=tenant, records=records)
        except Exception:
            shard.failures += 1
            raise
        return Applied(records=records, result=result)

    def poll_shard(self, shard: OwnedShard) -> bool:
        """Reads and applies one batch of a shard; True when it applied records."""
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
                return False
            if code == "TrimmedDataAccessException" and shard.checkpoint:
                self._record_trim(shard)
                return True
            raise
        raw_records = response.get("Records", [])
        if raw_records:
            applied = self._apply(shard, raw_records)
            shard.failures = 0
            records, result = applied.records, applied.result
            last_sequence = raw_records[-1]["dynamodb"]["SequenceNumber"]
            if records:
                shard.lag_seconds = max(0.0, (datetime.now(UTC) - record_time(records[-1])).total_seconds())
            if not self._checkpoint(shard, last_sequence, result.appended):
                logger.warning("lease lost before checkpoint", extra={"shard": shard.shard_id})
                self.owned.pop(shard.row_id, None)
                return True
            shard.checkpoint = last_sequence
            STREAM_RECORDS.labels(shard.tenant_slug, shard.table_role).inc(result.appended)
            if result.duplicates:
                STREAM_DUPLICATES.labels(shard.tenant_slug, shard.table_role).inc(result.duplicates)
            logger.info(
                "applied",
                extra={
                    "consumer": self.name,
                    "tenant": shard.tenant_slug,
                    "shard": shard.shard_id,
                    "first_sequence": raw_records[0]["dynamodb"]["SequenceNumber"],
                    "last_sequence": last_sequence,
                    "appended": result.appended,
                    "duplicates": result.duplicates,
                },
            )
        else:
            shard.lag_seconds = 0.0
        shard.iterator = response.get("NextShardIterator")
        if shard.iterator is None:
            self._finish(shard)
        return bool(raw_records)

    def _wake_written_tenants(self) -> None:
        woken, self._wake_seen = tenants_woken_since(self._wake_seen)
        if woken:
            woken_set = set(woken)
            for shard in self.owned.values():
                if shard.tenant_slug in woken_set:
                    shard.wake()

    def _publish_lag(self) -> None:
        if time.monotonic() < self._next_lag_publish:
            return
        self._next_lag_publish = time.monotonic() + 1.0
        by_tenant: dict[str, float] = dict.fromkeys(self.tenants, 0.0)
        for shard in self.owned.values():
            by_tenant[shard.tenant_slug] = max(by_tenant.get(shard.tenant_slug, 0.0), shard.lag_seconds)
        for slug, lag in by_tenant.items():
            STREAM_LAG.labels(slug).set(lag)

    def sign_checkpoints(self) -> None:
        """Signs the history head of each tenant whose shards this consumer holds, if it moved."""
        for slug in {shard.tenant_slug for shard in self.owned.values()}:
            checkpoint = history_checkpoint_create(
                tenant_slug=slug, tenant_models=self._models(slug), after_seq=self._signed_heads.get(slug, 0)
            )
            if checkpoint is not None:
                self._signed_heads[slug] = checkpoint.seq

    # Loop ------------------------------------------------------------------------------------

    def run_once(self) -> bool:
        """One round: discovery and leases when due, then one batch from each owned shard."""
        now = time.monotonic()
        if now >= self._next_discovery:
            self.discover()
            self._next_discovery = now + self.options.discovery_seconds
        if now >= self._next_lease_round:
            self.balance_leases()
            self._next_lease_round = now + self.options.lease_seconds / 3
        if now >= self._next_requeue:
            webhook_deliveries_requeue()
            self._next_requeue = now + REQUEUE_INTERVAL_SECONDS
        self._wake_written_tenants()
        if now >= self._next_checkpoints:
            self.sign_checkpoints()
            self._next_checkpoints = now + self.options.checkpoint_seconds
        worked = False
        for shard in list(self.owned.values()):
            if shard.next_poll_at > now:
                continue
            if time.monotonic() >= self._next_renewal:
                self.renew_leases()
            try:
                applied = self.poll_shard(shard)
            except Exception as exc:
                # Whatever a record does to the handler, the consumer lives on: the shard retries
                # it, then isolates it as a dead letter (``_apply``).
                logger.warning(
                    "shard batch failed; retrying",
                    extra={"shard": shard.shard_id, "error": str(exc), "failures": shard.failures},
                )
                shard.iterator = None
                shard.next_poll_at = now + 1.0
                continue
            shard.polled(worked=applied, now=now, options=self.options)
            worked = applied or worked
        self._publish_lag()
        return worked

    def run(self, stop: threading.Event) -> None:
        logger.info("stream consumer started", extra={"consumer": self.name})
        try:
            while not stop.is_set():
                try:
                    worked = self.run_once()
                except (DatabaseError, ClientError, BotoCoreError) as exc:
                    logger.warning("consumer round failed; retrying", extra={"error": str(exc)})
                    close_old_connections()
                    stop.wait(1.0)
                    continue
                if not worked:
                    stop.wait(self.options.idle_seconds)
        finally:
            try:
                self.release_all()
            except DatabaseError:
                logger.warning("could not release leases; they expire on their own")
        logger.info("stream consumer stopped", extra={"consumer": self.name})
