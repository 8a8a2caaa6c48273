"""The platform's side of the stream-effects queue: what the AWS Lambda hands over, applied.

The Lambda appends the history and queues each record (``resale.streams.effects``); this
reads a batch of one tenant's queue, applies search and webhooks, and deletes a message only
after its effects are committed. SQS delivers at least once, and a worker killed between the
effects and the delete leaves the messages to reappear after the queue's visibility timeout:
both effects are idempotent on the record (versioned search upserts, one webhook delivery per
subscription and event), so applying a message again changes nothing.

A message that cannot be applied on its own (not a record, a record of another tenant, or
effects that fail for that record alone) is left undeleted: the queue's redrive policy moves it
to the effects dead-letter queue after ``maxReceiveCount`` receives (the tenant program), and
the rest of its batch goes on. A database that is unavailable fails the whole batch instead,
so that no message is counted as poison for an outage.
"""

import logging
from dataclasses import dataclass

from django.db import InterfaceError, OperationalError

from resale.streams.effects import record_from_effects_message
from resale.streams.handler import apply_stream_effects
from resale.streams.records import StreamRecord

logger = logging.getLogger(__name__)

MAX_MESSAGES = 10
DEPENDENCY_ERRORS = (OperationalError, InterfaceError)


@dataclass(frozen=True)
class QueuedRecord:
    receipt_handle: str
    record: StreamRecord


class ForeignTenantMessage(Exception):
    """A message naming another tenant than the queue's: never applied to either."""


def _decoded(message: dict, tenant_slug: str) -> QueuedRecord | None:
    try:
        named_tenant, record = record_from_effects_message(message["Body"])
        if named_tenant != tenant_slug:
            raise ForeignTenantMessage(f"message for tenant {named_tenant} on {tenant_slug}'s queue")
    except Exception:
        logger.exception("poison stream-effects message %s", message.get("MessageId"))
        return None
    return QueuedRecord(receipt_handle=message["ReceiptHandle"], record=record)


def _stream_order(queued: QueuedRecord) -> int:
    """A standard queue does not keep order; a shard's sequence numbers do (search keeps, within
    one batch, each listing's last record)."""
    return int(queued.record.sequence_number or 0)


def _applied(tenant_slug: str, queued: list[QueuedRecord]) -> list[QueuedRecord]:
    """The records whose effects are committed: all of them, or, when the batch fails for a
    reason other than the database, each one that succeeds on its own."""
    try:
        apply_stream_effects(tenant_slug=tenant_slug, records=[entry.record for entry in queued])
        return queued
    except DEPENDENCY_ERRORS:
        raise
    except Exception:
        if len(queued) == 1:
            logger.exception("stream-effects record %s failed alone", queued[0].record.event_id)
            return []
        logger.warning("a stream-effects batch failed; applying its records one by one", exc_info=True)
    return [entry for one in queued for entry in _applied(tenant_slug, [one])]


def stream_effects_receive(*, client, queue_url: str, wait_seconds: int = 0) -> list[dict]:
    """One batch of the queue's messages (a long poll of ``wait_seconds``), invisible to other
    readers for the queue's visibility timeout."""
    answer = client.receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=MAX_MESSAGES, WaitTimeSeconds=wait_seconds
    )
    return answer.get("Messages", [])


def stream_effects_apply(*, client, queue_url: str, tenant_slug: str, messages: list[dict]) -> int:
    """Applies received messages of the tenant's queue and deletes those whose effects are
    committed; returns how many that was."""
    decoded = [entry for entry in (_decoded(message, tenant_slug) for message in messages) if entry]
    if not decoded:
        return 0
    applied = _applied(tenant_slug, sorted(decoded, key=_stream_order))
    if applied:
        answer = client.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[
                {"Id": str(number), "ReceiptHandle": entry.receipt_handle}
                for number, entry in enumerate(applied)
            ],
        )
        for failed in answer.get("Failed", []):
            # Applied but not deleted: it comes back and is applied again, changing nothing.
            logger.warning("stream-effects message not deleted: %s", failed)
    return len(applied)
