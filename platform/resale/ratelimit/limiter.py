"""Per-tenant request quotas: a token bucket per tenant in Redis, taken atomically by one Lua script.

DRF's throttles read, decide and write in separate steps and so let bursts through under
concurrency (encode/django-rest-framework#5181); here the refill, the decision and the write
happen inside Redis in one script, with Redis's own clock, so every API process shares one
bucket per tenant and no tenant's flood touches another tenant's bucket.

Each tenant has three buckets: ``api`` (its API requests), ``clicks`` (its affiliate redirects,
which need no key and so are counted apart) and ``webhook_sends`` (its webhook test deliveries
and redrives, which each send traffic at once), each with its tier's rate and burst. A request
takes its endpoint's cost in tokens (``resale.ratelimit.costs``): all of them, or none and a 429.

High tiers take tokens in small leases (``requests_per_second // 50`` at a time, kept at most
``LEASE_SECONDS``), so a busy process asks Redis once per lease instead of once per request.
Leased tokens come out of the shared bucket, so no tenant ever gets more than its quota; a
lease that expires unused is lost, which can only make a tenant's limit bite slightly early.

A bucket Redis found short of a request's cost stays short until enough tokens are due
(cost/rate seconds at most: 20 ms a token for a standard tenant), since tokens come only with
time; until then the process answers 429 without asking Redis. A flood of refused requests thus
costs a Redis call per process per token, not one per request, and refusing is what a flood's
requests mostly cost the server.
"""

import math
import time
from dataclasses import dataclass
from functools import cache
from threading import Lock

import redis
from django.conf import settings
from rest_framework import status

from httpkit.problems import ProblemError, ServiceUnavailable
from resale.registry import TierPolicy

TOKEN_BUCKET = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local want = tonumber(ARGV[3])
local need = tonumber(ARGV[4])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local bucket = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(bucket[1]) or burst
local ts = tonumber(bucket[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate / 1000)
local allowed = 0
local retry_ms = 0
if tokens >= need then
  allowed = math.min(want, math.floor(tokens))
  tokens = tokens - allowed
else
  retry_ms = math.ceil((need - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return {allowed, retry_ms}
"""


LEASE_SECONDS = 0.2
_leases: dict[tuple[str, str], tuple[int, float]] = {}
_leases_lock = Lock()
_empty_until: dict[tuple[str, str], float] = {}
"""Per bucket, the monotonic time before which Redis cannot have a token for it."""


class RateLimited(ProblemError):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    title = "Too many requests"


class RateLimiterUnavailable(ServiceUnavailable):
    title = "Rate limiter unavailable"


@dataclass(frozen=True)
class Decision:
    allowed: bool
    granted: int = 0
    next_token_seconds: float = 0.0

    @property
    def retry_after_seconds(self) -> int:
        return max(1, math.ceil(self.next_token_seconds))


@cache
def _script():
    client = redis.Redis.from_url(
        settings.RATELIMIT_REDIS_URL, socket_timeout=0.5, socket_connect_timeout=0.5, max_connections=256
    )
    return client.register_script(TOKEN_BUCKET)


def bucket_key(tenant_slug: str, quota: str = "api") -> str:
    return f"resale:ratelimit:{tenant_slug}" if quota == "api" else f"resale:ratelimit:{tenant_slug}:{quota}"


def quota_rate(policy: TierPolicy, quota: str) -> tuple[float, int]:
    """Tokens per second and burst of one of the tenant's buckets."""
    if quota == "clicks":
        return policy.clicks_per_second, policy.click_burst
    if quota == "webhook_sends":
        return policy.webhook_sends_per_minute / 60, policy.webhook_sends_per_minute
    return policy.requests_per_second, policy.burst


def lease_size(policy: TierPolicy, quota: str = "api") -> int:
    return max(1, int(quota_rate(policy, quota)[0] // 50))


def rate_limit_take(
    *, tenant_slug: str, policy: TierPolicy, tokens: int = 1, quota: str = "api", at_least: int = 1
) -> Decision:
    """Takes up to ``tokens`` from one of the tenant's buckets (its rate per second, up to its burst),
    and none unless it holds ``at_least``."""
    per_second, burst = quota_rate(policy, quota)
    try:
        granted, retry_ms = _script()(
            keys=[bucket_key(tenant_slug, quota)], args=[per_second, burst, tokens, at_least]
        )
    except redis.RedisError as exc:
        raise RateLimiterUnavailable("The rate limiter is unreachable; retry shortly.") from exc
    return Decision(
        allowed=int(granted) > 0,
        granted=int(granted),
        next_token_seconds=int(retry_ms) / 1000,
    )


def _take_leased(lease: tuple[str, str], cost: int) -> bool:
    now = time.monotonic()
    with _leases_lock:
        left, expires = _leases.get(lease, (0, 0.0))
        if left >= cost and expires > now:
            _leases[lease] = (left - cost, expires)
            return True
    return False


def rate_limit_enforce(*, tenant_slug: str, policy: TierPolicy, quota: str = "api", cost: int = 1) -> None:
    """Admits one request costing ``cost`` tokens of the tenant's ``quota`` bucket, or raises
    ``RateLimited`` (429)."""
    if not settings.RATELIMIT_ENABLED:
        return
    lease = (tenant_slug, quota)
    if _take_leased(lease, cost):
        return
    known_empty_for = _empty_until.get(lease, 0.0) - time.monotonic()
    if known_empty_for > 0:
        raise _over_quota(policy, quota, retry_after_seconds=math.ceil(known_empty_for))
    decision = rate_limit_take(
        tenant_slug=tenant_slug,
        policy=policy,
        tokens=max(cost, lease_size(policy, quota)),
        quota=quota,
        at_least=cost,
    )
    if decision.granted > cost:
        with _leases_lock:
            _leases[lease] = (decision.granted - cost, time.monotonic() + LEASE_SECONDS)
    if not decision.allowed:
        _empty_until[lease] = time.monotonic() + decision.next_token_seconds
        raise _over_quota(policy, quota, decision.retry_after_seconds)


def _over_quota(policy: TierPolicy, quota: str, retry_after_seconds: int) -> RateLimited:
    limits = {
        "clicks": f"{policy.clicks_per_second} clicks/s on its links",
        "webhook_sends": f"{policy.webhook_sends_per_minute} webhook test deliveries and redrives a minute",
    }
    limit = limits.get(quota, f"{policy.requests_per_second} requests/s")
    return RateLimited(
        f"This marketplace is over its {policy.name} quota of {limit}.",
        headers={"Retry-After": str(retry_after_seconds)},
    )
