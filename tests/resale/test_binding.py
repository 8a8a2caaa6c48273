import threading

import pytest
from pynamodb.exceptions import PynamoDBException

from resale.binding import (
    TenantModels,
    TenantNotRoutable,
    TenantRef,
    _bind,
    local_access_key_id,
    tenant_credentials,
    tenant_dynamodb_client,
    tenant_models,
    tenant_streams_client,
)
from resale.ratelimit.limiter import bucket_key, rate_limit_take
from resale.tables import TENANT_TABLE_MODELS
from resale.tenancy import tenant_route
from tenants.tiers import TierPolicy

pytestmark = [pytest.mark.ddblocal, pytest.mark.django_db]


def _recorded(tenant) -> dict:
    resources = tenant.resources
    return {"role_arn": resources.get("role_arn"), "table_names": tuple(sorted(resources["tables"].items()))}


def test_every_tenant_signs_with_its_own_key_over_one_shared_pool_of_connections(provisioned_tenant):
    first, second = (tenant_route(provisioned_tenant().slug).models for _ in range(2))
    wires = [models.listings._get_connection().connection.wire for models in (first, second)]
    assert wires[0]._handles is wires[1]._handles
    keys = {wire._credentials().access_key for wire in wires}
    assert keys == {local_access_key_id(first.slug), local_access_key_id(second.slug)}
    for models in (first, second):
        connections = {
            model._get_connection().connection
            for model in (models.listings, models.orders, models.links, models.clicks, models.idempotency)
        }
        assert connections == {models.connection}


def test_bound_classes_are_built_once_per_tenant(provisioned_tenant):
    tenant = provisioned_tenant()
    assert tenant_models(tenant) is tenant_models(TenantRef(slug=tenant.slug, **_recorded(tenant)))


def test_a_tenants_bound_tables_under_another_tenants_credentials_reach_nothing(provisioned_tenant):
    """What a routing bug could do: the right table names, the wrong tenant's credentials."""
    victim, intruder = provisioned_tenant(), provisioned_tenant()
    tenant_models(victim).links(code="secret", target_url="https://x", created_at="t", actor="a").save()
    stolen = TenantModels(
        tenant=tenant_models(intruder).tenant,
        connection=tenant_models(intruder).connection,
        **{
            role: _bind(
                model,
                slug="stolen",
                table_name=victim.resources["tables"][role],
                connection=tenant_models(intruder).connection,
            )
            for role, model in TENANT_TABLE_MODELS.items()
        },
    )
    with pytest.raises(PynamoDBException) as raised:
        stolen.links.get("secret")
    assert "ResourceNotFoundException" in str(raised.value.cause_response_code or raised.value)
    client = tenant_dynamodb_client(intruder)
    assert not set(client.list_tables()["TableNames"]) & set(victim.resources["tables"].values())
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_item(TableName=victim.resources["tables"]["links"], Key={"code": {"S": "secret"}})
    streams = tenant_streams_client(intruder)
    with pytest.raises(streams.exceptions.ResourceNotFoundException):
        streams.describe_stream(StreamArn=victim.resources["streams"]["links"])


def test_local_access_key_ids_are_distinct_for_every_slug_and_accepted_by_dynamodb_local():
    slugs = ["a-b-c", "abc", "ab-c", "a-bc", "x" * 40, "0-0"]
    keys = [local_access_key_id(slug) for slug in slugs]
    assert len(set(keys)) == len(keys)
    assert all(key.isalnum() for key in keys)


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


def test_on_aws_each_tenant_signs_with_its_own_assumed_role_tagged_with_the_tenant(settings):
    """No AWS here: this checks the wiring (credentials from AssumeRole of the recorded role, with
    the tenant as session tag), not a call to STS, which happens only when a request is signed."""
    settings.DYNAMODB_ENDPOINT = None
    first = TenantRef(slug="role-a", role_arn="arn:aws:iam::123456789012:role/resale-role-a-data")
    second = TenantRef(slug="role-b", role_arn="arn:aws:iam::123456789012:role/resale-role-b-data")
    credentials = tenant_credentials(first)
    assert credentials.method == "assume-role"
    assert credentials is not tenant_credentials(second)
    fetcher = credentials._refresh_using.__self__
    assert fetcher._role_arn == first.role_arn
    assert fetcher._assume_kwargs["Tags"] == [{"Key": "tenant", "Value": "role-a"}]


def test_on_aws_a_tenant_without_a_recorded_role_is_not_routable(settings):
    settings.DYNAMODB_ENDPOINT = None
    with pytest.raises(TenantNotRoutable):
        tenant_credentials(TenantRef(slug="no-role"))


def _quota_policy(*, requests_per_second: int, burst: int) -> TierPolicy:
    return TierPolicy(
        "test",
        requests_per_second=requests_per_second,
        burst=burst,
        custom_attribute_schema=False,
        global_tables=False,
        max_webhooks=0,
    )
