"""What each tier buys: request quotas and feature flags. Read by the rate limiter and the API."""

from dataclasses import dataclass


@dataclass(frozen=True)
class TierPolicy:
    name: str
    requests_per_second: int
    burst: int
    custom_attribute_schema: bool
    global_tables: bool
    max_webhooks: int


TIERS: dict[str, TierPolicy] = {
    "standard": TierPolicy(
        "standard",
        requests_per_second=50,
        burst=100,
        custom_attribute_schema=False,
        global_tables=False,
        max_webhooks=5,
    ),
    "premium": TierPolicy(
        "premium",
        requests_per_second=500,
        burst=1000,
        custom_attribute_schema=True,
        global_tables=True,
        max_webhooks=50,
    ),
}


def tier_policy(tier: str) -> TierPolicy:
    return TIERS[tier]
