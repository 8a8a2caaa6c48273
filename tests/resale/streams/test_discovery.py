"""Discovery describes a stream when it is new or changed, and otherwise rarely: an idle fleet's
unchanged streams are not listed again every round."""

import time

import pytest

from resale.models import StreamShard
from resale.streams import discovery as discovery_module
from resale.streams.discovery import ShardDiscovery

pytestmark = [pytest.mark.ddblocal, pytest.mark.django_db]


@pytest.fixture
def described(monkeypatch) -> list[str]:
    """The stream ARNs described, in order."""
    calls: list[str] = []
    real = discovery_module.stream_shards

    def stream_shards(streams, stream_arn):
        calls.append(stream_arn)
        return real(streams, stream_arn)

    monkeypatch.setattr(discovery_module, "stream_shards", stream_shards)
    return calls


def streams_of(tenant) -> set[str]:
    return set(tenant.resources["streams"].values())


def test_an_unchanged_stream_is_described_once_and_a_new_tenants_streams_at_the_next_round(
    provisioned_tenant, described
):
    first = provisioned_tenant()
    discovery = ShardDiscovery(rediscovery_seconds=3600)

    assert first.slug in discovery.discover()
    assert set(described) >= streams_of(first)
    assert StreamShard.objects.filter(tenant_slug=first.slug).exists()

    described.clear()
    discovery.discover()
    discovery.discover()
    assert described == []

    second = provisioned_tenant()
    assert second.slug in discovery.discover()
    assert sorted(described) == sorted(streams_of(second))


def test_a_changed_stream_is_described_again_at_the_next_round_and_the_others_only_when_due(
    provisioned_tenant, described
):
    tenant = provisioned_tenant()
    changed, *_ = sorted(streams_of(tenant))
    discovery = ShardDiscovery(rediscovery_seconds=0.4)
    discovery.discover()

    described.clear()
    discovery.stream_changed(changed)
    discovery.discover()
    assert described == [changed]

    time.sleep(0.45)  # past every stream's due time, drawn between 0.2 and 0.4 s
    described.clear()
    discovery.discover()
    assert set(described) == streams_of(tenant)
