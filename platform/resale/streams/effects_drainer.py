"""The platform's consumer of the tenants' stream-effects queues on AWS (``consume_stream_effects``).

Why a platform process and not a Lambda of its own: search and webhooks live in PostgreSQL, and
the tenant's Lambda is given no network path to it nor a database secret (README, "Streams on
AWS"); a second Lambda would need both, for every tenant. The platform's workers hold them.

One thread per tenant queue, found in the registry every ``discovery_seconds`` (a consumed
tenant with a recorded ``effects_queue_url``), each long-polling its queue with the tenant's own
credentials: an idle queue costs one request per ``wait_seconds``, a busy one is read as soon as
a message lands. At most ``apply_concurrency`` batches are applied at once, each on a database
connection closed after it, so a fleet of idle queues holds no PostgreSQL connection. A tenant
that leaves the consumed statuses, or whose queue changes, has its thread stopped at the next
discovery.

Crash-safety is the queue's (``resale.streams.effects_queue``): messages are deleted only after
their effects are committed, so a killed process leaves them to reappear, and applying one again
changes nothing.
"""

import logging
import threading
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError
from django.db import DatabaseError, close_old_connections, connection

from resale.binding import TenantRef, tenant_ref, tenant_sqs_client
from resale.registry import RegisteredTenant
from resale.streams.consumed_tenants import consumed_tenants
from resale.streams.effects_queue import stream_effects_apply, stream_effects_receive

logger = logging.getLogger(__name__)

RETRY_BACKOFF_MAX_SECONDS = 60.0


@dataclass(frozen=True)
class DrainerOptions:
    wait_seconds: int = 20
    discovery_seconds: float = 10.0
    apply_concurrency: int = 4


@dataclass(frozen=True)
class TenantQueue:
    tenant: TenantRef
    queue_url: str


def effects_queues(tenants: list[RegisteredTenant]) -> list[TenantQueue]:
    """The tenants' stream-effects queues (only a tenant provisioned on AWS records one)."""
    return [
        TenantQueue(tenant=tenant_ref(tenant), queue_url=tenant.resources["effects_queue_url"])
        for tenant in tenants
        if (tenant.resources or {}).get("effects_queue_url")
    ]


class StreamEffectsDrainer:
    def __init__(self, options: DrainerOptions | None = None) -> None:
        self.options = options or DrainerOptions()
        self._applying = threading.BoundedSemaphore(self.options.apply_concurrency)
        self._running: dict[TenantQueue, tuple[threading.Thread, threading.Event]] = {}

    def _drain_batch(self, client, queue: TenantQueue) -> None:
        messages = stream_effects_receive(
            client=client, queue_url=queue.queue_url, wait_seconds=self.options.wait_seconds
        )
        if not messages:
            return
        with self._applying:
            try:
                stream_effects_apply(
                    client=client, queue_url=queue.queue_url, tenant_slug=queue.tenant.slug, messages=messages
                )
            finally:
                connection.close()

    def _drain(self, queue: TenantQueue, stop: threading.Event) -> None:
        client = tenant_sqs_client(queue.tenant, wait_seconds=self.options.wait_seconds)
        backoff = 0.0
        while not stop.is_set():
            try:
                self._drain_batch(client, queue)
                backoff = 0.0
            except (DatabaseError, ClientError, BotoCoreError) as exc:
                backoff = min(max(1.0, backoff * 2), RETRY_BACKOFF_MAX_SECONDS)
                logger.warning(
                    "stream-effects queue failed; retrying",
                    extra={"tenant": queue.tenant.slug, "error": str(exc), "retry_in": backoff},
                )
                stop.wait(backoff)

    def discover(self) -> None:
        """Starts a thread for each queue found, stops those of queues no longer found."""
        queues = set(effects_queues(consumed_tenants()))
        close_old_connections()
        for queue in [queue for queue in self._running if queue not in queues]:
            self._running.pop(queue)[1].set()
        for queue in queues - set(self._running):
            stop = threading.Event()
            thread = threading.Thread(
                target=self._drain, args=(queue, stop), name=f"effects-{queue.tenant.slug}", daemon=True
            )
            self._running[queue] = (thread, stop)
            thread.start()

    def stop_all(self) -> None:
        """Stops every thread and waits for the batches in hand (a long poll ends within its wait)."""
        for _, stop in self._running.values():
            stop.set()
        for thread, _ in self._running.values():
            thread.join(self.options.wait_seconds + 15)
        self._running.clear()

    def run(self, stop: threading.Event) -> None:
        logger.info("stream-effects drainer started")
        try:
            while not stop.is_set():
                try:
                    self.discover()
                except DatabaseError as exc:
                    logger.warning("stream-effects discovery failed; retrying", extra={"error": str(exc)})
                    close_old_connections()
                stop.wait(self.options.discovery_seconds)
        finally:
            self.stop_all()
            connection.close()
        logger.info("stream-effects drainer stopped")
