"""A list request does bounded DynamoDB work, whatever its filters match; a cursor continues it."""

import pytest

from tests.resale.factories import listing_create, models_of

pytestmark = [pytest.mark.ddblocal, pytest.mark.django_db]


def _seller_with_listings(api, count: int, *, oldest_category: str = "common") -> None:
    models = models_of(api.tenant)
    listing_create(models, seller_id="s", category=oldest_category)
    for _ in range(count - 1):
        listing_create(models, seller_id="s", category="common")


def test_a_filter_matching_none_of_a_sellers_listings_costs_one_query_not_one_per_listing(
    tenant_api, dynamodb_calls
):
    api = tenant_api()
    _seller_with_listings(api, 40)
    dynamodb_calls.clear()
    response = api.client.get("/api/v1/listings", {"seller_id": "s", "category": "nomatch", "limit": 1})
    assert response.status_code == 200
    assert response.json() == {"items": [], "next_cursor": None}
    assert dynamodb_calls == ["Query"]


def test_each_request_stops_at_its_read_budget_and_the_cursor_finds_the_rest(
    tenant_api, dynamodb_calls, settings
):
    settings.API_LIST_FILTERED_PAGE_SIZE = 4
    settings.API_LIST_READ_BUDGET_PAGES = 2
    api = tenant_api()
    _seller_with_listings(api, 20, oldest_category="rare")
    found, requests, cursor = [], 0, None
    while True:
        dynamodb_calls.clear()
        params = {"seller_id": "s", "category": "rare", "limit": 1} | ({"cursor": cursor} if cursor else {})
        response = api.client.get("/api/v1/listings", params)
        requests += 1
        assert response.status_code == 200
        assert len(dynamodb_calls) <= 2, dynamodb_calls
        found += response.json()["items"]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break
    assert [item["category"] for item in found] == ["rare"]
    assert requests == 4  # 5 pages of 4, 2 a request; the last one learns that the index ended
