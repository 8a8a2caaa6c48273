"""Unknown tenants, link codes and API keys are cheap, and cost no tenant any quota.

Junk is answered 404 or 401 before a quota is asked; repeating an unknown name costs no
PostgreSQL query; and a flood of made-up names, each new, is remembered in a bounded LRU that
never evicts a real tenant or key.
"""

import dataclasses
import secrets

import pytest

from resale import tenancy
from tenants import api_keys
from tenants.lookup_cache import LookupCache
from tenants.tiers import TIERS

pytestmark = [pytest.mark.ddblocal, pytest.mark.django_db]


def _link(api) -> str:
    response = api.client.post("/api/v1/links", {"target_url": "https://shop.example/1"}, format="json")
    return response.json()["code"]


def test_junk_codes_take_nothing_from_the_tenants_click_quota(tenant_api, monkeypatch):
    monkeypatch.setitem(
        TIERS, "standard", dataclasses.replace(TIERS["standard"], clicks_per_second=1, click_burst=5)
    )
    api = tenant_api()
    code = _link(api)
    junk = [api.client.get(f"/r/{api.slug}/{secrets.token_urlsafe(6)}").status_code for _ in range(50)]
    assert set(junk) == {404}
    assert [api.client.get(f"/r/{api.slug}/{code}").status_code for _ in range(5)] == [302] * 5


def test_a_repeated_unknown_tenant_costs_no_query(client, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert client.get("/r/no-such-tenant/abc").status_code == 404
    with django_assert_num_queries(0):
        for _ in range(20):
            assert client.get("/r/no-such-tenant/abc").status_code == 404
        assert client.get("/r/Not_A_Slug!/abc").status_code == 404
        assert client.get(f"/r/{'x' * 500}/abc").status_code == 404


def test_a_flood_of_unknown_tenants_stays_bounded_and_keeps_real_ones_cached(
    tenant_api, client, monkeypatch, django_assert_num_queries
):
    small = LookupCache(ttl=lambda: 60.0, max_missing=20)
    monkeypatch.setattr(tenancy, "_routes", small)
    api = tenant_api()
    code = _link(api)
    for n in range(100):
        assert client.get(f"/r/made-up-{n}/abc").status_code == 404
    assert small.missing_count() == 20
    with django_assert_num_queries(0):
        assert client.get(f"/r/{api.slug}/{code}").status_code == 302


def test_bogus_api_keys_cost_at_most_one_query_each_and_stay_bounded(
    tenant_api, monkeypatch, settings, django_assert_num_queries
):
    from tests.resale.conftest import client_for

    settings.TENANT_ROUTE_CACHE_SECONDS = 60
    small = LookupCache(ttl=lambda: 60.0, max_missing=20)
    monkeypatch.setattr(api_keys, "resolution_cache", small)
    api = tenant_api()
    assert api.client.get("/api/v1/listings/x").status_code == 404
    malformed, unknown = client_for("rk_nope_nope"), client_for(f"rk_{'0' * 16}_{'a' * 43}")
    with django_assert_num_queries(1):
        for _ in range(20):
            assert malformed.post("/api/v1/listings", {}, format="json").status_code == 401
            assert unknown.post("/api/v1/listings", {}, format="json").status_code == 401
    for _ in range(100):
        bogus = client_for(f"rk_{secrets.token_hex(8)}_{secrets.token_urlsafe(32)}")
        assert bogus.get("/api/v1/listings/x").status_code == 401
    assert small.missing_count() == 20
    with django_assert_num_queries(0):
        assert api.client.get("/api/v1/listings/x").status_code == 404
