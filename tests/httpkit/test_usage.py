"""Per-tenant daily usage counted in Redis by the middleware, read by the console's usage page."""

from datetime import UTC, datetime, timedelta

import pytest
import redis
from django.core.cache import cache
from django.test import Client, override_settings

from httpkit.usage import usage_buffer, usage_key, usage_per_day, usage_record

pytestmark = [pytest.mark.urls("tests.httpkit.usage_urls")]


@pytest.fixture
def slug(unique_slug):
    slug = unique_slug("usage")
    yield slug
    client = cache.client.get_client(write=True)
    for key in client.scan_iter(f"usage:{slug}:*"):
        client.delete(key)


def test_requests_and_throttled_requests_are_counted_per_tenant_and_day(slug):
    client = Client()
    for status in (200, 201, 429, 404, 429):
        client.get(f"/t/{slug}/{status}")
    client.get("/anonymous")
    today = usage_per_day(tenant_slug=slug, days=2)[-1]
    assert (today.requests, today.throttled) == (5, 2)
    assert usage_per_day(tenant_slug=f"{slug}-other", days=1)[0].requests == 0


def test_days_are_kept_apart_and_missing_days_are_zero(slug):
    now = datetime.now(UTC)
    usage_record(tenant_slug=slug, status_code=200, at=now - timedelta(days=2))
    usage_record(tenant_slug=slug, status_code=429, at=now)
    series = usage_per_day(tenant_slug=slug, days=3)
    assert [(d.requests, d.throttled) for d in series] == [(1, 0), (0, 0), (1, 1)]
    assert series[-1].day == now.date()


def test_counts_expire_after_forty_days(slug):
    usage_record(tenant_slug=slug, status_code=200)
    ttl = cache.client.get_client(write=True).ttl(usage_key(slug, datetime.now(UTC).date()))
    assert 39 * 86400 < ttl <= 40 * 86400


def test_a_redis_failure_never_fails_the_request(slug):
    unreachable = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
        }
    }
    # Only around the request: the suite's fixtures reset their counters in this Redis afterwards.
    with override_settings(CACHES=unreachable):
        assert Client().get(f"/t/{slug}/200").status_code == 200


def _stored_requests(slug: str) -> int:
    stored = cache.client.get_client(write=True).hget(usage_key(slug, datetime.now(UTC).date()), "requests")
    return int(stored or 0)


def test_requests_are_counted_in_the_process_and_written_once_per_interval(slug, monkeypatch):
    monkeypatch.setattr(usage_buffer, "flush_seconds", 3600)
    usage_buffer.flush()
    client = Client()
    for _ in range(3):
        client.get(f"/t/{slug}/200")
    assert _stored_requests(slug) == 0
    monkeypatch.setattr(usage_buffer, "_next_flush", 0)
    client.get(f"/t/{slug}/200")
    assert _stored_requests(slug) == 4


def test_counts_a_failed_flush_could_not_write_are_written_by_the_next(slug, monkeypatch):
    usage_buffer.add(tenant_slug=slug, status_code=429)
    failing = redis.Redis.from_url("redis://127.0.0.1:9/0", socket_connect_timeout=0.5)
    monkeypatch.setattr("httpkit.usage._redis", lambda: failing)
    with pytest.raises(redis.RedisError):
        usage_buffer.flush()
    monkeypatch.undo()
    today = usage_per_day(tenant_slug=slug, days=1)[0]
    assert (today.requests, today.throttled) == (1, 1)
