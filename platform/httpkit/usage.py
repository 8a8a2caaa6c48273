"""Per-tenant daily usage in Redis: API requests, and those throttled (429), per UTC day.

The middleware counts each response of a request bound to a tenant (the API key named it);
the console's usage page reads the counts. Counting is best effort by design: a Redis failure
is logged and never fails the request it would have counted.
"""

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import RedisError

from httpkit.request_context import current_request_context

logger = logging.getLogger(__name__)

USAGE_TTL_SECONDS = 40 * 86400
THROTTLED_STATUS = 429


@dataclass(frozen=True)
class DayUsage:
    day: date
    requests: int
    throttled: int


def usage_key(tenant_slug: str, day: date) -> str:
    return f"usage:{tenant_slug}:{day.isoformat()}"


def _redis():
    return cache.client.get_client(write=True)


def usage_record(*, tenant_slug: str, status_code: int, at: datetime | None = None) -> None:
    key = usage_key(tenant_slug, (at or datetime.now(UTC)).date())
    pipeline = _redis().pipeline(transaction=False)
    pipeline.hincrby(key, "requests", 1)
    if status_code == THROTTLED_STATUS:
        pipeline.hincrby(key, "throttled", 1)
    pipeline.expire(key, USAGE_TTL_SECONDS)
    pipeline.execute()


def usage_per_day(*, tenant_slug: str, days: int = 30) -> list[DayUsage]:
    """The last ``days`` UTC days, oldest first, zero where nothing was counted."""
    today = datetime.now(UTC).date()
    span = [today - timedelta(days=offset) for offset in range(days - 1, -1, -1)]
    pipeline = _redis().pipeline(transaction=False)
    for day in span:
        pipeline.hgetall(usage_key(tenant_slug, day))
    counts = pipeline.execute()
    return [
        DayUsage(day, int(count.get(b"requests", 0)), int(count.get(b"throttled", 0)))
        for day, count in zip(span, counts, strict=True)
    ]


class TenantUsageMiddleware:
    """Counts each response to a request that was bound to a tenant."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        tenant = current_request_context.get().tenant
        if tenant != "-":
            try:
                usage_record(tenant_slug=tenant, status_code=response.status_code)
            except (RedisError, ConnectionInterrupted):
                logger.warning("usage not counted for tenant %s: Redis failed", tenant, exc_info=True)
        return response
