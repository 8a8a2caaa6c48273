"""The consumers' progress read back from PostgreSQL: leases, lag at the last checkpoint, unread shards."""

import pytest

from resale.streams.selectors import stream_lag_by_tenant, tenant_stream_lag
from tests.resale.factories import shard_state

pytestmark = pytest.mark.django_db


def test_a_tenants_lag_is_its_slowest_open_shard_and_expired_leases_count_as_unread():
    shard_state("acme", "shard-1", lease_in=30, lag=2.5, records_applied=10)
    shard_state("acme", "shard-2", lease_in=-5, lag=7.0, records_applied=4)
    shard_state("acme", "shard-0", lease_in=None, lag=99.0, finished=True, records_applied=100)
    lag = tenant_stream_lag(tenant_slug="acme")
    assert [(shard.shard_id, shard.state) for shard in lag.shards] == [
        ("shard-0", "finished"),
        ("shard-1", "reading"),
        ("shard-2", "unread"),
    ]
    assert (lag.lag_seconds, lag.unread, lag.records_applied) == (7.0, 1, 114)


def test_a_shard_nobody_ever_leased_is_unread_and_tenants_are_kept_apart():
    shard_state("acme", "shard-1", lease_in=30, lag=1.0)
    shard_state("beta", "shard-1", lease_in=None, lag=0.0)
    by_tenant = {lag.tenant_slug: lag for lag in stream_lag_by_tenant()}
    assert set(by_tenant) == {"acme", "beta"}
    assert (by_tenant["acme"].unread, by_tenant["beta"].unread) == (0, 1)
    assert tenant_stream_lag(tenant_slug="gamma").shards == []
