"""Which shards exist: the shards (with their parents) of every consumed tenant's streams.

Every discovery reads the tenants whose streams are read (``CONSUMED_STATUSES``) from the
registry, one query, and records in ``StreamShard`` the shards of each stream not described yet,
so a new tenant or a new stream is picked up without a restart. A stream already described is
described again only when it changed (one of its shards finished, and its children appear; or a
read of it failed: ``stream_changed``) and, as a safety net, about every ``rediscovery_seconds``:
each stream at its own time, drawn between half and all of it after its last description, so a
fleet's streams are not all described in one round.
"""

import logging
import random
import time

from botocore.exceptions import BotoCoreError, ClientError

from resale.binding import tenant_streams_client
from resale.models import StreamShard
from resale.registry import RegisteredTenant
from resale.streams.consumed_tenants import consumed_tenants

logger = logging.getLogger(__name__)


def stream_shards(streams, stream_arn: str) -> list[dict]:
    """Every shard of a stream, page after page (the streams API has no paginator for this)."""
    shards, start = [], None
    while True:
        kwargs = {"StreamArn": stream_arn}
        if start:
            kwargs["ExclusiveStartShardId"] = start
        description = streams.describe_stream(**kwargs)["StreamDescription"]
        shards.extend(description.get("Shards", []))
        start = description.get("LastEvaluatedShardId")
        if not start:
            return shards


class ShardDiscovery:
    def __init__(self, *, rediscovery_seconds: float) -> None:
        self.rediscovery_seconds = rediscovery_seconds
        self._describe_at: dict[str, float] = {}
        """When each described stream is due to be described again (``time.monotonic()``)."""

    def discover(self) -> dict[str, RegisteredTenant]:
        """Records the shards of the streams due to be described; returns the consumed tenants by slug."""
        tenants = {tenant.slug: tenant for tenant in consumed_tenants() if tenant.resources.get("tables")}
        now = time.monotonic()
        consumed_streams = set()
        rows = []
        for tenant in tenants.values():
            for role, stream_arn in (tenant.resources.get("streams") or {}).items():
                consumed_streams.add(stream_arn)
                if self._describe_at.get(stream_arn, now) > now:
                    continue
                try:
                    shards = stream_shards(tenant_streams_client(tenant), stream_arn)
                except (ClientError, BotoCoreError):
                    logger.warning("stream not readable", extra={"tenant": tenant.slug, "stream": stream_arn})
                    continue
                self._describe_at[stream_arn] = now + self.rediscovery_seconds * random.uniform(0.5, 1.0)
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
        for stream_arn in set(self._describe_at) - consumed_streams:
            del self._describe_at[stream_arn]  # its tenant is no longer consumed
        return tenants

    def stream_changed(self, stream_arn: str) -> None:
        """A shard of the stream finished (its children appear) or a read of it failed: the next
        discovery describes it again."""
        self._describe_at.pop(stream_arn, None)
