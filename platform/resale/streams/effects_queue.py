"""The platform's side of the stream-effects queue: what the AWS Lambda hands over, applied.

The Lambda appends the history and queues each record (``resale.streams.effects``); this
reads a batch, applies search and webhooks per tenant, and deletes the messages only after
that, so a worker killed in between leaves them to reappear and be applied again (idempotent).
"""

from itertools import groupby

from resale.streams.effects import record_from_effects_message
from resale.streams.handler import apply_stream_effects

MAX_MESSAGES = 10


def stream_effects_receive(*, client, queue_url: str, wait_seconds: int = 0) -> int:
    """Applies one batch of the queue's messages; returns how many were applied."""
    messages = client.receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=MAX_MESSAGES, WaitTimeSeconds=wait_seconds
    ).get("Messages", [])
    if not messages:
        return 0
    decoded = [record_from_effects_message(message["Body"]) for message in messages]
    for tenant_slug, records in groupby(decoded, key=lambda pair: pair[0]):
        apply_stream_effects(tenant_slug=tenant_slug, records=[record for _, record in records])
    client.delete_message_batch(
        QueueUrl=queue_url,
        Entries=[
            {"Id": str(number), "ReceiptHandle": message["ReceiptHandle"]}
            for number, message in enumerate(messages)
        ],
    )
    return len(messages)
