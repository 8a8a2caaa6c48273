"""Where each shard's reading stands, written only by the consumer that holds its lease.

After a batch's effects are durable, the shard's checkpoint moves to the batch's last sequence
number, on the condition that this consumer still holds the lease. A consumer killed at any
point resumes AFTER the checkpoint; records applied but not yet checkpointed are applied again
and skipped by the handler's idempotency. So: no gap, no duplicate.
"""

from django.db.models import F

from resale.models import StreamShard
from resale.streams.leases import lease_until
from resale.streams.owned_shard import OwnedShard


def shard_checkpoint_advance(
    *, shard: OwnedShard, owner: str, sequence_number: str, applied: int, lease_seconds: float
) -> bool:
    """Moves the checkpoint and renews the lease; False when the lease is no longer ``owner``'s."""
    return bool(
        StreamShard.objects.filter(id=shard.row_id, lease_owner=owner).update(
            checkpoint=sequence_number,
            lag_seconds=shard.lag_seconds,
            records_applied=F("records_applied") + applied,
            lease_expires_at=lease_until(lease_seconds),
        )
    )


def shard_finish(*, shard: OwnedShard, owner: str) -> None:
    """The shard was read to its end after closing: its children may be read, and its lease goes."""
    StreamShard.objects.filter(id=shard.row_id, lease_owner=owner).update(
        finished=True, lease_owner="", lease_expires_at=None, lag_seconds=0
    )
