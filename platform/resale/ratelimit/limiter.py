"""Per-tenant request quotas: a token bucket per tenant in Redis, taken atomically by one Lua script.

DRF's throttles read, decide and write in separate steps and so let bursts through under
concurrency (encode/django-rest-framework#5181); here the refill, the decision and the write
happen inside Redis in one script, with Redis's own clock, so every API process shares one
bucket per tenant and no tenant's flood touches another tenant's bucket.
"""

import math
from dataclasses import dataclass
from functools import cache

import redis
from django.conf import settings
from httpkit.problems import ProblemError, ServiceUnavailable
from rest_framework import status

from tenants.tiers import TierPolicy

TOKEN_BUCKET = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local bucket = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(bucket[1]) or burst
local ts = tonumber(bucket[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate / 1000)
local allowed = 0
local retry_ms = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  retry_ms = math.ceil((1 - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return {allowed, retry_ms}
"""


class RateLimited(ProblemError):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    title = "Too many requests"


class RateLimiterUnavailable(ServiceUnavailable):
    title = "Rate limiter unavailable"


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after_seconds: int


@cache
def _script():
    client = redis.Redis.from_url(
        settings.RATELIMIT_REDIS_URL, socket_timeout=0.5, socket_connect_timeout=0.5, max_connections=256
    )
    return client.register_script(TOKEN_BUCKET)


def bucket_key(tenant_slug: str) -> str:
    return f"resale:ratelimit:{tenant_slug}"


def rate_limit_take(*, tenant_slug: str, policy: TierPolicy) -> Decision:
    """Takes one token from the tenant's bucket (``requests_per_second``, up to ``burst``)."""
    try:
        allowed, retry_ms = _script()(
            keys=[bucket_key(tenant_slug)], args=[policy.requests_per_second, policy.burst]
        )
    except redis.RedisError as exc:
        raise RateLimiterUnavailable("The rate limiter is unreachable; retry shortly.") from exc
    return Decision(allowed=bool(allowed), retry_after_seconds=max(1, math.ceil(int(retry_ms) / 1000)))


def rate_limit_enforce(*, tenant_slug: str, policy: TierPolicy) -> None:
    if not settings.RATELIMIT_ENABLED:
        return
    decision = rate_limit_take(tenant_slug=tenant_slug, policy=policy)
    if not decision.allowed:
        raise RateLimited(
            f"This marketplace is over its {policy.name} quota of {policy.requests_per_second} requests/s.",
            headers={"Retry-After": str(decision.retry_after_seconds)},
        )
