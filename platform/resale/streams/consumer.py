"""The long-running driver of the stream handler: one round after another over the shards it leases.

Each job has its module, and its crash-safety rule is written at the top of it:
- discovery of every consumed tenant's shards (``resale.streams.discovery``): the registry every
  ``STREAMS_DISCOVERY_SECONDS``, a stream's shards when it is new or changed and about every
  ``STREAMS_REDISCOVERY_SECONDS``; the shards of an offboarded tenant are released;
- leases, so that each shard has one reader and several consumers split the shards
  (``resale.streams.leases``), balanced every third of ``STREAMS_LEASE_SECONDS``;
- reading a batch, applying it and recording every loss as a ``GAP`` (``resale.streams.reading``);
- checkpoints, moved only after a batch's effects are durable and only under the lease, so a
  consumer killed at any point resumes with no gap and no duplicate
  (``resale.streams.shard_checkpoints``);
- the read schedule of each shard (``resale.streams.owned_shard``): a shard that answered records
  is read again at once, an idle one after a delay doubling up to
  ``STREAMS_IDLE_BACKOFF_MAX_WAKEABLE_SECONDS``, and at once when a write to its tenant is noted
  (``resale.streams.wake``). An idle fleet then costs the store a read per shard per backoff cap,
  not one per ``STREAMS_POLL_IDLE_SECONDS``. In a round where the wake notes cannot be read, no
  shard waits longer than ``STREAMS_IDLE_BACKOFF_MAX_SECONDS``, which then bounds the lag of a write.

It signs nothing: the history's checkpoints are signed by a Celery beat sweep
(``resale.history.checkpoints``), the same locally and on AWS, where this consumer does not run.
"""

import logging
import os
import secrets
import socket
import threading
import time

from botocore.exceptions import BotoCoreError, ClientError
from django.db import DatabaseError, close_old_connections

from resale.registry import RegisteredTenant
from resale.streams.discovery import ShardDiscovery
from resale.streams.leases import ShardLeases
from resale.streams.metrics import STREAM_LAG
from resale.streams.options import ConsumerOptions
from resale.streams.owned_shard import OwnedShard
from resale.streams.reading import ShardReader
from resale.streams.wake import WakeNotesUnreadable, tenants_woken_since

logger = logging.getLogger(__name__)


class ShardStreamConsumer:
    def __init__(self, *, name: str | None = None, options: ConsumerOptions | None = None) -> None:
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.options = options or ConsumerOptions()
        self.tenants: dict[str, RegisteredTenant] = {}
        self.discovery = ShardDiscovery(rediscovery_seconds=self.options.rediscovery_seconds)
        self.leases = ShardLeases(owner=self.name, lease_seconds=self.options.lease_seconds)
        self.reader = ShardReader(owner=self.name, options=self.options, tenant_of=self.tenants.__getitem__)
        self._next_discovery = 0.0
        self._next_lease_round = 0.0
        self._next_lag_publish = 0.0
        self._wake_seen = 0.0
        self._wake_notes_read = False

    @property
    def owned(self) -> dict[int, OwnedShard]:
        return self.leases.owned

    def discover(self) -> None:
        # Replaced in place: the reader looks tenants up in this same dict.
        tenants = self.discovery.discover()
        self.tenants.clear()
        self.tenants.update(tenants)
        self.leases.release_tenants_not_in(set(self.tenants))

    def poll_shard(self, shard: OwnedShard) -> bool:
        """Reads and applies one batch of a shard; True when it applied records."""
        polled = self.reader.poll(shard)
        if polled.lease_lost or polled.finished:
            self.leases.forget(shard)
        if polled.finished:
            # Its children are found by the next discovery and leased in the next round.
            self.discovery.stream_changed(shard.stream_arn)
            self._next_discovery = self._next_lease_round = 0.0
        return polled.worked

    def _wake_written_tenants(self, now: float) -> None:
        try:
            woken, self._wake_seen = tenants_woken_since(self._wake_seen)
        except WakeNotesUnreadable:
            # A write now wakes nothing: the shorter cap bounds its lag again.
            self._wake_notes_read = False
            for shard in self.owned.values():
                shard.read_by(now + self.options.idle_backoff_max_seconds)
            return
        self._wake_notes_read = True
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

    def run_once(self) -> bool:
        """One round: discovery and leases when due, then one batch from each owned shard."""
        now = time.monotonic()
        if now >= self._next_discovery:
            self.discover()
            self._next_discovery = now + self.options.discovery_seconds
        if now >= self._next_lease_round:
            self.leases.balance(list(self.tenants))
            self._next_lease_round = now + self.options.lease_seconds / 3
        self._wake_written_tenants(now)
        worked = False
        for shard in list(self.owned.values()):
            if shard.next_poll_at > now:
                continue
            self.leases.renew_if_due()
            try:
                applied = self.poll_shard(shard)
            except Exception as exc:
                # Whatever a record does to the handler, the consumer lives on: the shard retries
                # it, then isolates it as a dead letter (``ShardReader._apply``).
                logger.warning(
                    "shard batch failed; retrying",
                    extra={"shard": shard.shard_id, "error": str(exc), "failures": shard.failures},
                )
                shard.iterator = None
                shard.next_poll_at = now + 1.0
                if isinstance(exc, ClientError | BotoCoreError):
                    # The stream itself may have changed under the shard (closed, replaced).
                    self.discovery.stream_changed(shard.stream_arn)
                continue
            shard.polled(worked=applied, now=now, options=self.options, wakeable=self._wake_notes_read)
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
                self.leases.release_all()
            except DatabaseError:
                logger.warning("could not release leases; they expire on their own")
        logger.info("stream consumer stopped", extra={"consumer": self.name})
