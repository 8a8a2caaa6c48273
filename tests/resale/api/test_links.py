import dataclasses
from datetime import UTC, datetime

import pytest

from resale.tenancy import tenant_route
from tenants.actions import do_suspend_tenant
from tenants.tiers import TIERS

pytestmark = [pytest.mark.ddblocal, pytest.mark.django_db]


def test_create_answers_201_with_code_and_url(tenant_api):
    api = tenant_api()
    response = api.client.post(
        "/api/v1/links",
        {"target_url": "https://shop.example/item/1", "listing_id": "l-1", "affiliate_id": "aff-9"},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["code"] and body["url"].endswith(f"/r/{api.slug}/{body['code']}")


@pytest.mark.parametrize(
    "target",
    ["ftp://example.com/x", "javascript:alert(1)", "//example.com", "not a url", "file:///etc/passwd"],
)
def test_only_http_and_https_targets_are_accepted(tenant_api, target):
    response = tenant_api().client.post("/api/v1/links", {"target_url": target}, format="json")
    assert response.status_code == 400 and "target_url" in response.json()["errors"]


def test_a_read_key_cannot_create_links(tenant_api):
    response = tenant_api(scopes=("read",)).client.post(
        "/api/v1/links", {"target_url": "https://a.example"}, format="json"
    )
    assert response.status_code == 403


def test_redirect_is_302_and_records_the_click_for_60_days(tenant_api):
    api = tenant_api()
    link = api.client.post(
        "/api/v1/links",
        {"target_url": "https://shop.example/item/1", "listing_id": "l-1", "affiliate_id": "aff-9"},
        format="json",
    ).json()
    response = api.client.get(
        f"/r/{api.slug}/{link['code']}", HTTP_REFERER="https://blog.example/post", HTTP_USER_AGENT="pytest-ua"
    )
    assert response.status_code == 302 and response["Location"] == "https://shop.example/item/1"
    clicks = list(tenant_route(api.slug).models.clicks.query(link["code"]))
    assert len(clicks) == 1
    click = clicks[0]
    assert (click.affiliate_id, click.listing_id) == ("aff-9", "l-1")
    assert (click.referrer, click.user_agent) == ("https://blog.example/post", "pytest-ua")
    days = (click.expires_at - datetime.now(UTC)).total_seconds() / 86400
    assert 59.9 < days <= 60
    api.client.get(f"/r/{api.slug}/{link['code']}")
    assert len(list(tenant_route(api.slug).models.clicks.query(link["code"]))) == 2


def test_redirect_of_an_unknown_code_or_tenant_is_404(tenant_api):
    api = tenant_api()
    assert api.client.get(f"/r/{api.slug}/nope").status_code == 404
    assert api.client.get("/r/no-such-tenant/nope").status_code == 404


def test_a_suspended_tenants_links_stop_redirecting(tenant_api):
    from resale.tenancy import forget_tenant_routes

    api = tenant_api()
    link = api.client.post("/api/v1/links", {"target_url": "https://a.example"}, format="json").json()
    do_suspend_tenant(tenant=api.tenant)
    forget_tenant_routes()
    assert api.client.get(f"/r/{api.slug}/{link['code']}").status_code == 404


def test_a_flood_of_clicks_is_429_on_its_own_tenant_and_leaves_anothers_links_alone(tenant_api, monkeypatch):
    monkeypatch.setitem(
        TIERS, "standard", dataclasses.replace(TIERS["standard"], clicks_per_second=5, click_burst=10)
    )
    flooded, neighbour = tenant_api(), tenant_api()
    codes = [
        api.client.post("/api/v1/links", {"target_url": "https://a.example"}, format="json").json()["code"]
        for api in (flooded, neighbour)
    ]
    responses = [flooded.client.get(f"/r/{flooded.slug}/{codes[0]}") for _ in range(40)]
    limited = [response for response in responses if response.status_code == 429]
    redirected = [response for response in responses if response.status_code == 302]
    assert limited and redirected and len(redirected) + len(limited) == 40
    assert int(limited[0]["Retry-After"]) >= 1
    assert limited[0]["Content-Type"] == "application/problem+json"
    assert "clicks/s" in limited[0].json()["detail"]
    clicks = list(tenant_route(flooded.slug).models.clicks.query(codes[0]))
    assert len(clicks) == len(redirected)
    assert [neighbour.client.get(f"/r/{neighbour.slug}/{codes[1]}").status_code for _ in range(8)] == [
        302
    ] * 8
    api_calls = [flooded.client.get("/api/v1/listings/x").status_code for _ in range(5)]
    assert api_calls == [404] * 5


def test_a_redirect_still_happens_and_is_recorded_when_the_rate_limiter_is_down(tenant_api, settings):
    from resale.ratelimit import limiter

    api = tenant_api()
    code = api.client.post("/api/v1/links", {"target_url": "https://a.example"}, format="json").json()["code"]
    settings.RATELIMIT_REDIS_URL = "redis://127.0.0.1:9/0"
    limiter._script.cache_clear()
    try:
        response = api.client.get(f"/r/{api.slug}/{code}")
    finally:
        limiter._script.cache_clear()
    assert response.status_code == 302
    assert len(list(tenant_route(api.slug).models.clicks.query(code))) == 1
