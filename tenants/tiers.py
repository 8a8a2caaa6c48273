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
    # The affiliate redirect has a bucket of its own: a click flood cannot eat the API's quota.
    clicks_per_second: int = 200
    click_burst: int = 400
    # Test deliveries and redrives send traffic on the tenant's behalf at once: a bucket of their own.
    webhook_sends_per_minute: int = 10


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
        clicks_per_second=2000,
        click_burst=4000,
        webhook_sends_per_minute=60,
    ),
}


def tier_policy(tier: str) -> TierPolicy:
    return TIERS[tier]
