"""Per-tenant daily usage in Redis: API requests, and those throttled (429), per UTC day.

The middleware counts each response of a request bound to a tenant (the API key named it);
the console's usage page reads the counts. Counts gather in the process and go to Redis at
most once per ``USAGE_FLUSH_SECONDS`` (one pipeline for every tenant), not once per request:
a round trip per request was a large part of the API's CPU. Counting is best effort by
design: a Redis failure is logged, keeps the counts for the next flush and never fails a
request; a process that dies loses at most its last second of counts.
"""

import atexit
import logging
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from threading import Lock

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import RedisError

from httpkit.request_context import current_request_context

logger = logging.getLogger(__name__)

USAGE_TTL_SECONDS = 40 * 86400
USAGE_FLUSH_SECONDS = 1.0
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


class UsageBuffer:
    """Counts per (Redis key, field) held in the process until the next flush."""

    def __init__(self, flush_seconds: float) -> None:
        self.flush_seconds = flush_seconds
        self._counts: Counter[tuple[str, str]] = Counter()
        self._lock = Lock()
        self._flushing = Lock()
        self._next_flush = time.monotonic() + flush_seconds

    def add(self, *, tenant_slug: str, status_code: int, at: datetime | None = None) -> None:
        key = usage_key(tenant_slug, (at or datetime.now(UTC)).date())
        with self._lock:
            self._counts[key, "requests"] += 1
            if status_code == THROTTLED_STATUS:
                self._counts[key, "throttled"] += 1

    def flush_if_due(self) -> None:
        """Flushes when the interval has passed, unless another thread is flushing already."""
        if time.monotonic() >= self._next_flush and self._flushing.acquire(blocking=False):
            try:
                self._flush()
            finally:
                self._flushing.release()

    def flush(self) -> None:
        """Writes every pending count now; on a Redis failure they stay pending and it raises."""
        with self._flushing:
            self._flush()

    def _flush(self) -> None:
        self._next_flush = time.monotonic() + self.flush_seconds
        with self._lock:
            counts, self._counts = self._counts, Counter()
        if not counts:
            return
        try:
            pipeline = _redis().pipeline(transaction=False)
            for (key, field), count in counts.items():
                pipeline.hincrby(key, field, count)
            for key in {key for key, _ in counts}:
                pipeline.expire(key, USAGE_TTL_SECONDS)
            pipeline.execute()
        except BaseException:
            with self._lock:
                self._counts.update(counts)
            raise


usage_buffer = UsageBuffer(USAGE_FLUSH_SECONDS)


@atexit.register
def _flush_at_exit() -> None:
    try:
        usage_buffer.flush()
    except (RedisError, ConnectionInterrupted):
        logger.warning("usage counts of this process lost at exit: Redis failed", exc_info=True)


def usage_record(*, tenant_slug: str, status_code: int, at: datetime | None = None) -> None:
    """Counts one response and writes it to Redis at once (the middleware batches instead)."""
    usage_buffer.add(tenant_slug=tenant_slug, status_code=status_code, at=at)
    usage_buffer.flush()


def usage_per_day(*, tenant_slug: str, days: int = 30) -> list[DayUsage]:
    """The last ``days`` UTC days, oldest first, zero where nothing was counted.

    This process's pending counts are flushed first (best effort), so it reads its own requests.
    """
    try:
        usage_buffer.flush()
    except (RedisError, ConnectionInterrupted):
        logger.warning("pending usage counts not flushed: Redis failed", exc_info=True)
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
            usage_buffer.add(tenant_slug=tenant, status_code=response.status_code)
            try:
                usage_buffer.flush_if_due()
            except (RedisError, ConnectionInterrupted):
                logger.warning("usage not flushed: Redis failed; kept for the next flush", exc_info=True)
        return response
