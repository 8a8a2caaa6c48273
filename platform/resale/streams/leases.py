"""Shard leases: each shard has one reader, and live consumers split the shards between them.

A consumer takes a free or expired lease with a conditional UPDATE (PostgreSQL's clock decides
expiry), renews its own every third of the lease time, and takes no more than its fair share
(eligible shards / live consumers), releasing extras. A consumer that stops renewing loses its
shards when its leases expire. A shard is eligible only after its parent is finished (read to
its end after closing), so an item's changes, which follow the shard lineage, are applied in
order.
"""

import logging
import math
import random
import time
from datetime import UTC, datetime, timedelta

from django.db.models import DateTimeField, ExpressionWrapper, Q, Value
from django.db.models.functions import Now

from resale.models import StreamConsumer, StreamShard
from resale.streams.metrics import SHARDS_OWNED
from resale.streams.owned_shard import OwnedShard

logger = logging.getLogger(__name__)


def lease_until(seconds: float) -> ExpressionWrapper:
    """The database's own clock plus ``seconds``: every consumer judges expiry by one clock."""
    return ExpressionWrapper(Now() + Value(timedelta(seconds=seconds)), output_field=DateTimeField())


def eligible_shard_rows(tenant_slugs: list[str]) -> list[dict]:
    """The unfinished shards of these tenants whose parent is finished (or was never seen)."""
    rows = list(
        StreamShard.objects.filter(tenant_slug__in=tenant_slugs).values(
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


class ShardLeases:
    """The leases one consumer holds, by ``StreamShard`` row id."""

    def __init__(self, *, owner: str, lease_seconds: float) -> None:
        self.owner = owner
        self.lease_seconds = lease_seconds
        self.owned: dict[int, OwnedShard] = {}
        self._next_renewal = 0.0

    def balance(self, tenant_slugs: list[str]) -> None:
        """Marks this consumer live, drops lost leases, releases extras and takes its fair share."""
        lease = self.lease_seconds
        StreamConsumer.objects.update_or_create(name=self.owner, defaults={"last_seen_at": Now()})
        StreamConsumer.objects.filter(last_seen_at__lt=Now() - timedelta(seconds=10 * lease)).delete()
        live = max(
            1, StreamConsumer.objects.filter(last_seen_at__gte=Now() - timedelta(seconds=lease)).count()
        )
        if self.owned:
            self.renew()
            still_mine = set(
                StreamShard.objects.filter(id__in=list(self.owned), lease_owner=self.owner).values_list(
                    "id", flat=True
                )
            )
            for row_id in set(self.owned) - still_mine:
                logger.warning("lease lost", extra={"shard": self.owned[row_id].shard_id})
                self.owned.pop(row_id)
        eligible = eligible_shard_rows(tenant_slugs)
        fair_share = math.ceil(len(eligible) / live)
        mine = [row for row in eligible if row["id"] in self.owned]
        for row in mine[fair_share:]:
            self.release(self.owned[row["id"]])
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

    def renew(self) -> None:
        """Extends this consumer's leases."""
        StreamShard.objects.filter(id__in=list(self.owned), lease_owner=self.owner).update(
            lease_expires_at=lease_until(self.lease_seconds)
        )
        self._next_renewal = time.monotonic() + self.lease_seconds / 3

    def renew_if_due(self) -> None:
        """Renews when a third of the lease time has passed: called between shards, so a slow
        round keeps its leases."""
        if time.monotonic() >= self._next_renewal:
            self.renew()

    def _acquire(self, row_id: int) -> None:
        taken = (
            StreamShard.objects.filter(id=row_id, finished=False)
            .filter(Q(lease_owner="") | Q(lease_expires_at__lt=Now()) | Q(lease_owner=self.owner))
            .update(lease_owner=self.owner, lease_expires_at=lease_until(self.lease_seconds))
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
            "lease taken", extra={"shard": row.shard_id, "tenant": row.tenant_slug, "owner": self.owner}
        )

    def release(self, shard: OwnedShard) -> None:
        StreamShard.objects.filter(id=shard.row_id, lease_owner=self.owner).update(
            lease_owner="", lease_expires_at=None
        )
        self.forget(shard)

    def release_tenants_not_in(self, tenant_slugs: set[str]) -> None:
        """Releases the shards of tenants no longer consumed (offboarded)."""
        for shard in list(self.owned.values()):
            if shard.tenant_slug not in tenant_slugs:
                logger.info("tenant no longer consumed; releasing", extra={"tenant": shard.tenant_slug})
                self.release(shard)

    def forget(self, shard: OwnedShard) -> None:
        """Stops reading a shard whose lease is gone or whose row already says so."""
        self.owned.pop(shard.row_id, None)

    def release_all(self) -> None:
        for shard in list(self.owned.values()):
            self.release(shard)
        StreamConsumer.objects.filter(name=self.owner).delete()
