"""Which shards exist: the shards (with their parents) of every consumed tenant's streams.

Every discovery reads the tenants whose streams are read (``CONSUMED_STATUSES``) from the
registry and records in ``StreamShard`` the shards of each stream not described yet. A stream is
described again when one of its shards finishes (its children appear, ``stream_changed``) and
every ``rediscovery_seconds`` in any case, so new tenants and new shards are picked up without a
restart.
"""

import logging
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
        self._described: set[str] = set()
        self._next_rediscovery = 0.0

    def discover(self) -> dict[str, RegisteredTenant]:
        """Records the shards of streams not yet described; returns the consumed tenants by slug."""
        tenants = {tenant.slug: tenant for tenant in consumed_tenants() if tenant.resources.get("tables")}
        if time.monotonic() >= self._next_rediscovery:
            self._described.clear()
            self._next_rediscovery = time.monotonic() + self.rediscovery_seconds
        rows = []
        for tenant in tenants.values():
            for role, stream_arn in (tenant.resources.get("streams") or {}).items():
                if stream_arn in self._described:
                    continue
                try:
                    shards = stream_shards(tenant_streams_client(tenant), stream_arn)
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
        return tenants

    def stream_changed(self, stream_arn: str) -> None:
        """A shard of the stream finished: the next discovery describes it again to find the children."""
        self._described.discard(stream_arn)
