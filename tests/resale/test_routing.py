import threading
import time

import pytest
from resale.ratelimit.limiter import bucket_key, rate_limit_take
from resale.routing import shared_connection, tenant_models
from resale.tenancy import tenant_route

from tenants.tiers import TierPolicy

pytestmark = [pytest.mark.ddblocal, pytest.mark.django_db]


def test_bound_classes_of_every_tenant_share_one_botocore_client(provisioned_tenant):
    first, second = (tenant_route(provisioned_tenant().slug).models for _ in range(2))
    clients = {
        id(model._get_connection().connection.client)
        for models in (first, second)
        for model in (models.listings, models.orders, models.links, models.clicks, models.idempotency)
    }
    assert clients == {id(shared_connection().client)}
    assert first.listings.Meta.table_name != second.listings.Meta.table_name


def test_bound_classes_are_built_once_per_tenant(provisioned_tenant):
    tenant = provisioned_tenant()
    tables = tenant.resources["tables"]
    assert tenant_models(tenant.slug, tables) is tenant_models(tenant.slug, dict(tables))


def test_the_shared_pool_is_sized_from_settings(provisioned_tenant, settings):
    models = tenant_route(provisioned_tenant().slug).models
    client = models.listings._get_connection().connection.client
    assert client.meta.config.max_pool_connections == settings.DYNAMODB_MAX_POOL_CONNECTIONS


def test_each_bound_class_reaches_only_its_own_table_under_concurrency(provisioned_tenant):
    routes = [tenant_route(provisioned_tenant().slug) for _ in range(3)]
    errors = []

    def write(route, n):
        try:
            for i in range(n):
                route.models.links(
                    code=f"{route.slug}-{i}", target_url="https://x", created_at="t", actor="a"
                ).save()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(route, 15)) for route in routes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    for route in routes:
        assert {link.code.rsplit("-", 1)[0] for link in route.models.links.scan()} == {route.slug}


def test_the_token_bucket_lets_exactly_the_burst_through_under_concurrency(unique_slug):
    import redis
    from django.conf import settings

    slug = unique_slug("rl")
    redis.Redis.from_url(settings.RATELIMIT_REDIS_URL).delete(bucket_key(slug))
    policy = _quota_policy(requests_per_second=1, burst=40)
    allowed = []
    barrier = threading.Barrier(20)

    def take():
        barrier.wait()
        for _ in range(5):
            allowed.append(rate_limit_take(tenant_slug=slug, policy=policy).allowed)

    threads = [threading.Thread(target=take) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert 40 <= sum(allowed) <= 42


def test_with_tenant_roles_each_tenant_signs_with_its_own_assumed_role(settings):
    """No AWS here: this checks the wiring (a connection per role, credentials from AssumeRole),
    not a call to STS, which happens only when a request is signed."""
    from resale.tables import TENANT_TABLE_MODELS

    settings.DYNAMODB_ASSUME_TENANT_ROLES = True
    tables = {role: f"role-test-{role}" for role in TENANT_TABLE_MODELS}
    first = tenant_models("role-a", tables, "arn:aws:iam::123456789012:role/resale-role-a")
    second = tenant_models(
        "role-b", {r: f"{t}-b" for r, t in tables.items()}, "arn:aws:iam::123456789012:role/b"
    )
    assert first.connection is not second.connection
    assert first.connection is not shared_connection()
    credentials = first.connection.session.get_credentials()
    assert credentials.method == "assume-role"
    assert first.listings._get_connection().connection is first.connection


def test_without_tenant_roles_a_recorded_role_is_ignored_and_the_connection_shared(settings):
    from resale.tables import TENANT_TABLE_MODELS

    settings.DYNAMODB_ASSUME_TENANT_ROLES = False
    models = tenant_models(
        "role-c", {role: f"role-c-{role}" for role in TENANT_TABLE_MODELS}, "arn:aws:iam::1:role/c"
    )
    assert models.connection is shared_connection()


def test_leased_tokens_never_exceed_the_bucket_under_concurrency(unique_slug, settings):
    """Premium-sized leases: many threads enforcing at once admit no more than the burst."""
    import redis
    from resale.ratelimit.limiter import RateLimited, lease_size, rate_limit_enforce

    slug = unique_slug("rl-lease")
    redis.Redis.from_url(settings.RATELIMIT_REDIS_URL).delete(bucket_key(slug))
    policy = _quota_policy(requests_per_second=500, burst=60)
    assert lease_size(policy) == 10
    admitted = []
    barrier = threading.Barrier(10)

    def hammer():
        barrier.wait()
        for _ in range(20):
            try:
                rate_limit_enforce(tenant_slug=slug, policy=policy)
                admitted.append(1)
            except RateLimited:
                pass

    threads = [threading.Thread(target=hammer) for _ in range(10)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    refill = (time.monotonic() - started) * policy.requests_per_second
    assert 0 < len(admitted) <= policy.burst + refill + lease_size(policy)


def test_an_empty_bucket_is_not_asked_again_until_its_next_token_is_due(unique_slug, settings, monkeypatch):
    """A flood of refused requests costs a Redis call per token interval, not one per request."""
    import redis
    from resale.ratelimit import limiter

    slug = unique_slug("rl-empty")
    redis.Redis.from_url(settings.RATELIMIT_REDIS_URL).delete(bucket_key(slug))
    policy = _quota_policy(requests_per_second=1, burst=2)
    asked = []
    take = limiter.rate_limit_take
    monkeypatch.setattr(limiter, "rate_limit_take", lambda **kwargs: asked.append(1) or take(**kwargs))

    def enforce() -> str:
        try:
            limiter.rate_limit_enforce(tenant_slug=slug, policy=policy)
        except limiter.RateLimited as refused:
            return f"429 after {refused.headers['Retry-After']}"
        return "admitted"

    answers = [enforce() for _ in range(30)]
    assert answers == ["admitted"] * 2 + ["429 after 1"] * 28
    assert len(asked) == 3  # the burst, then the call that found the bucket empty

    time.sleep(1.05)  # the next token is due: Redis is asked again and grants it
    assert enforce() == "admitted"
    assert len(asked) == 4


def _quota_policy(*, requests_per_second: int, burst: int) -> TierPolicy:
    return TierPolicy(
        "test",
        requests_per_second=requests_per_second,
        burst=burst,
        custom_attribute_schema=False,
        global_tables=False,
        max_webhooks=0,
    )
