"""The consumers' progress as PostgreSQL records it: per shard, its lease, checkpoint and lag.

``lag_seconds`` is what the lease holder measured at its last checkpoint (now minus the time
of the last applied record); the consumer writes it only when it applies records, so a
quiet shard keeps the lag of its last batch. Whether someone is reading is told by the
lease: an unfinished shard whose lease has expired (or was never taken) is read by nobody,
and its lag grows unseen, so the console shows such shards as ``unread``.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.db.models.functions import Now

from resale.models import StreamConsumer, StreamShard


@dataclass(frozen=True)
class ShardProgress:
    tenant_slug: str
    table_role: str
    shard_id: str
    finished: bool
    lease_owner: str
    lease_expires_at: datetime | None
    lease_live: bool
    lag_seconds: float
    records_applied: int

    @property
    def state(self) -> str:
        """finished, reading (a live lease) or unread (nobody holds its lease)."""
        if self.finished:
            return "finished"
        return "reading" if self.lease_live else "unread"


@dataclass(frozen=True)
class TenantStreamLag:
    tenant_slug: str
    shards: list[ShardProgress]

    @property
    def open_shards(self) -> list[ShardProgress]:
        return [shard for shard in self.shards if not shard.finished]

    @property
    def lag_seconds(self) -> float:
        """The largest lag of an unfinished shard at its last checkpoint (finished ones have none)."""
        return max((shard.lag_seconds for shard in self.open_shards), default=0.0)

    @property
    def unread(self) -> int:
        return sum(1 for shard in self.open_shards if not shard.lease_live)

    @property
    def records_applied(self) -> int:
        return sum(shard.records_applied for shard in self.shards)


def stream_shard_progress(*, tenant_slug: str | None = None) -> list[ShardProgress]:
    """Every known shard (of one tenant, or all), by tenant, table and shard; PostgreSQL's clock
    decides whether a lease is live, as it does for the consumers."""
    shards = StreamShard.objects.annotate(
        lease_live=ExpressionWrapper(Q(lease_expires_at__gt=Now()) & ~Q(lease_owner=""), BooleanField())
    ).order_by("tenant_slug", "table_role", "shard_id")
    if tenant_slug is not None:
        shards = shards.filter(tenant_slug=tenant_slug)
    return [
        ShardProgress(
            tenant_slug=shard.tenant_slug,
            table_role=shard.table_role,
            shard_id=shard.shard_id,
            finished=shard.finished,
            lease_owner=shard.lease_owner,
            lease_expires_at=shard.lease_expires_at,
            lease_live=shard.lease_live,
            lag_seconds=shard.lag_seconds,
            records_applied=shard.records_applied,
        )
        for shard in shards
    ]


def tenant_stream_lag(*, tenant_slug: str) -> TenantStreamLag:
    return TenantStreamLag(tenant_slug=tenant_slug, shards=stream_shard_progress(tenant_slug=tenant_slug))


def stream_lag_by_tenant() -> list[TenantStreamLag]:
    """Each tenant with known shards, by slug."""
    by_tenant: dict[str, list[ShardProgress]] = {}
    for shard in stream_shard_progress():
        by_tenant.setdefault(shard.tenant_slug, []).append(shard)
    return [TenantStreamLag(tenant_slug=slug, shards=shards) for slug, shards in by_tenant.items()]


def stream_consumers_live() -> list[StreamConsumer]:
    """The consumer processes whose heartbeat is within one lease time, by name."""
    since = Now() - timedelta(seconds=settings.STREAMS_LEASE_SECONDS)
    return list(StreamConsumer.objects.filter(last_seen_at__gte=since).order_by("name"))
