"""An expensive endpoint takes its cost from the tenant's quota: all of it, or none and a 429."""

import dataclasses

import pytest

from tenants.tiers import TIERS, TierPolicy

pytestmark = [pytest.mark.ddblocal, pytest.mark.django_db]


def _policy(*, requests_per_second: int, burst: int) -> TierPolicy:
    return dataclasses.replace(TIERS["standard"], requests_per_second=requests_per_second, burst=burst)


def test_a_tenant_lists_a_third_as_often_as_it_reads_one_listing(tenant_api, monkeypatch):
    monkeypatch.setitem(TIERS, "standard", _policy(requests_per_second=1, burst=12))
    lists, reads = tenant_api(), tenant_api()
    listed = [lists.client.get("/api/v1/listings", {"seller_id": "s"}).status_code for _ in range(12)]
    read = [reads.client.get("/api/v1/listings/x").status_code for _ in range(12)]
    assert listed[:4] == [200] * 4 and set(listed[4:]) == {429}
    assert read == [404] * 12


def test_racing_expensive_requests_never_take_more_than_the_bucket_holds(unique_slug):
    """Requests costing 3 tokens take all three or none: ten racing threads never overdraw the bucket."""
    import threading
    import time

    import redis
    from django.conf import settings

    from resale.ratelimit.limiter import RateLimited, bucket_key, rate_limit_enforce

    slug = unique_slug("rl-cost")
    redis.Redis.from_url(settings.RATELIMIT_REDIS_URL).delete(bucket_key(slug))
    policy = _policy(requests_per_second=1, burst=20)
    admitted = []
    barrier = threading.Barrier(10)

    def hammer():
        barrier.wait()
        for _ in range(5):
            try:
                rate_limit_enforce(tenant_slug=slug, policy=policy, cost=3)
                admitted.append(3)
            except RateLimited:
                pass

    threads = [threading.Thread(target=hammer) for _ in range(10)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    refill = (time.monotonic() - started) * policy.requests_per_second
    assert 6 * 3 <= sum(admitted) <= policy.burst + refill
