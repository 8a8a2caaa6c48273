"""An idle fleet costs little: idle shards are read less and less often, and at once after a write."""

import time

import pytest

from resale.history.selectors import history_iter
from resale.streams import consumer as consumer_module
from resale.streams.consumer import ShardStreamConsumer
from resale.streams.options import ConsumerOptions
from resale.streams.owned_shard import OwnedShard
from resale.streams.wake import WakeNotesUnreadable, wake_notes
from tests.processes import wait_until
from tests.resale.factories import in_process_consumer, listing_create, models_of

pytestmark = [pytest.mark.ddblocal, pytest.mark.django_db]

BACKOFF = ConsumerOptions(
    lease_seconds=10,
    discovery_seconds=0,
    idle_seconds=0.05,
    idle_backoff_max_seconds=0.4,
    idle_backoff_max_wakeable_seconds=1.6,
)


def _shard() -> OwnedShard:
    return OwnedShard(
        row_id=1, tenant_slug="t", table_role="listings", stream_arn="a", shard_id="s", checkpoint=""
    )


@pytest.mark.parametrize(
    ("wakeable", "expected"),
    [(True, [0.1, 0.2, 0.4, 0.8, 1.6, 1.6]), (False, [0.1, 0.2, 0.4, 0.4, 0.4, 0.4])],
    ids=["wake-notes-read-longer-cap", "wake-notes-unreadable-shorter-cap"],
)
def test_an_idle_shard_waits_twice_as_long_after_each_empty_read_up_to_the_cap(wakeable, expected):
    shard = _shard()
    delays = []
    for _ in range(6):
        shard.polled(worked=False, now=100.0, options=BACKOFF, wakeable=wakeable)
        delays.append(round(shard.next_poll_at - 100.0, 3))
    assert delays == expected
    shard.polled(worked=True, now=100.0, options=BACKOFF, wakeable=wakeable)
    assert (shard.idle_polls, shard.next_poll_at) == (0, 0.0)


def _counting_polls(consumer: ShardStreamConsumer) -> dict[str, int]:
    polls: dict[str, int] = {}
    original = consumer.poll_shard

    def poll_shard(shard):
        polls[shard.tenant_slug] = polls.get(shard.tenant_slug, 0) + 1
        return original(shard)

    consumer.poll_shard = poll_shard
    return polls


def _run_for(consumer: ShardStreamConsumer, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        consumer.run_once()
        time.sleep(0.01)


def _read_until_in_history(consumer: ShardStreamConsumer, tenant, listing_id: str, what: str) -> None:
    """Runs the consumer's rounds until the listing's write is in the tenant's history."""

    def in_history() -> bool:
        if any(event.entity_id == listing_id for event in history_iter(tenant_models=models_of(tenant))):
            return True
        consumer.run_once()
        return False

    wait_until(in_history, what, timeout=5, interval=0.02)


def test_an_idle_tenants_shards_are_read_a_few_times_a_second_not_every_round(provisioned_tenant):
    tenant = provisioned_tenant()
    consumer = ShardStreamConsumer(name="idle", options=BACKOFF)
    polls = _counting_polls(consumer)
    _run_for(consumer, 2.0)
    shards = len(tenant.resources["streams"])
    # Without backoff every round (every 10 ms here) reads every shard: about 200 reads per shard.
    assert polls[tenant.slug] <= shards * (2.0 / 1.6 + 4)


def test_a_write_wakes_its_tenants_shards_at_once_and_leaves_the_others_asleep(provisioned_tenant, settings):
    settings.STREAMS_WAKE_FLUSH_SECONDS = 0.05
    written, quiet = provisioned_tenant(), provisioned_tenant()
    options = ConsumerOptions(
        lease_seconds=10, discovery_seconds=0, idle_seconds=0.05, idle_backoff_max_seconds=60
    )
    consumer = ShardStreamConsumer(name="wake", options=options)
    _run_for(consumer, 1.0)  # every shard leased and read to its end
    for shard in consumer.owned.values():  # as after a long idle spell: the next reads a minute away
        shard.idle_polls, shard.next_poll_at = 10, time.monotonic() + 60
    polls = _counting_polls(consumer)

    listing = listing_create(models_of(written))
    wake_notes.flush()
    _read_until_in_history(consumer, written, listing.id, "the write to wake its tenant's shards")
    assert polls.get(written.slug, 0) >= 1
    assert polls.get(quiet.slug, 0) == 0


def test_while_the_wake_notes_cannot_be_read_an_unnoted_write_waits_no_longer_than_the_shorter_cap(
    provisioned_tenant, monkeypatch
):
    tenant = provisioned_tenant()
    consumer = in_process_consumer(
        "unwoken", idle_backoff_max_seconds=0.4, idle_backoff_max_wakeable_seconds=60
    )
    _run_for(consumer, 1.0)
    for shard in consumer.owned.values():  # asleep on the longer cap, as while Redis answered
        shard.idle_polls, shard.next_poll_at = 10, time.monotonic() + 60

    def redis_away(moment):
        raise WakeNotesUnreadable("connection refused")

    monkeypatch.setattr(consumer_module, "tenants_woken_since", redis_away)
    listing = listing_create(models_of(tenant))
    _read_until_in_history(
        consumer, tenant, listing.id, "the write to reach the history within the shorter cap"
    )
    now = time.monotonic()
    assert all(shard.next_poll_at <= now + 0.4 for shard in consumer.owned.values())
