"""Test data written straight into a tenant's tables (the listings API is built elsewhere)."""

import itertools
import time
import uuid
from datetime import UTC, datetime, timedelta

from django.utils import timezone

from resale.binding import TenantModels, tenant_models
from resale.models import StreamShard
from resale.streams.consumer import ShardStreamConsumer
from resale.streams.options import ConsumerOptions

_titles = itertools.count(1)


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def models_of(tenant) -> TenantModels:
    return tenant_models(tenant)


def listing_create(models: TenantModels, *, actor: str = "api-key:test", **fields):
    n = next(_titles)
    values = {
        "id": uuid.uuid4().hex,
        "seller_id": "seller-1",
        "title": f"Vintage camera {n}",
        "description": "A film camera in good condition",
        "category": "cameras",
        "condition": "good",
        "price": "120.00",
        "currency": "EUR",
        "created_at": now_iso(),
        "updated_at": now_iso(),
        "actor": actor,
    }
    values.update(fields)
    listing = models.listings(**values)
    listing.save()
    return listing


def listing_change(listing, *, actor: str = "api-key:test", **fields):
    for name, value in fields.items():
        setattr(listing, name, value)
    listing.updated_at = now_iso()
    listing.actor = actor
    listing.save()
    return listing


def order_create(models: TenantModels, *, listing_id: str, actor: str = "api-key:test", **fields):
    values = {
        "id": uuid.uuid4().hex,
        "listing_id": listing_id,
        "buyer_id": "buyer-1",
        "status": "submitted",
        "amount": "120.00",
        "currency": "EUR",
        "shipping_address": {"name": "Ada Lovelace", "line1": "1 Main St", "city": "Paris", "country": "FR"},
        "payment_token_fingerprint": "fp_secret_123",
        "created_at": now_iso(),
        "updated_at": now_iso(),
        "actor": actor,
    }
    values.update(fields)
    order = models.orders(**values)
    order.save()
    return order


def link_and_click_create(models: TenantModels, *, actor: str = "api-key:test") -> int:
    """One tracking link and one click on it: a write to each of the two link tables."""
    code = uuid.uuid4().hex[:10]
    models.links(code=code, target_url="https://shop.example/item", created_at=now_iso(), actor=actor).save()
    models.clicks(
        code=code,
        clicked_at=f"{now_iso()}#{uuid.uuid4().hex[:6]}",
        expires_at=timedelta(hours=1),
    ).save()
    return 2


def in_process_consumer(name: str = "test-consumer", **options) -> ShardStreamConsumer:
    """A consumer in this process; without ``options`` it has no backoff: every round reads every
    shard, so a drain sees what was written before it."""
    no_backoff = {"idle_backoff_max_seconds": 0, "idle_backoff_max_wakeable_seconds": 0}
    return ShardStreamConsumer(
        name=name,
        options=ConsumerOptions(
            lease_seconds=10, discovery_seconds=0, idle_seconds=0.05, **{**no_backoff, **options}
        ),
    )


def drain(consumer: ShardStreamConsumer, *, quiet_rounds: int = 2, timeout: float = 30) -> None:
    """Runs the consumer until it found nothing new in ``quiet_rounds`` rounds in a row."""
    deadline = time.monotonic() + timeout
    quiet = 0
    while quiet < quiet_rounds:
        assert time.monotonic() < deadline, "the consumer did not catch up"
        quiet = 0 if consumer.run_once() else quiet + 1


def api_client_for(tenant, *scopes: str):
    from rest_framework.test import APIClient

    from tenants.actions import do_issue_api_key

    issued = do_issue_api_key(tenant=tenant, name="test", scopes=list(scopes))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {issued.key}")
    return client


def shard_state(
    tenant_slug: str, shard_id: str, *, lease_in: float | None, lag: float, **fields
) -> StreamShard:
    """A shard row as a consumer leaves it: leased until ``lease_in`` seconds from now (None: never)."""
    return StreamShard.objects.create(
        tenant_slug=tenant_slug,
        table_role=fields.pop("table_role", "listings"),
        stream_arn=f"arn:aws:dynamodb:local:000000000000:table/{tenant_slug}-listings/stream/1",
        shard_id=shard_id,
        lease_owner="" if lease_in is None else "consumer-a",
        lease_expires_at=None if lease_in is None else timezone.now() + timedelta(seconds=lease_in),
        lag_seconds=lag,
        **fields,
    )
