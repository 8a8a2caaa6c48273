"""Another tenant's ids, keys and cursors, tried on every endpoint: never another tenant's data."""

import pytest

from tests.resale.conftest import listing_body

pytestmark = [pytest.mark.ddblocal, pytest.mark.django_db]


@pytest.fixture
def two_tenants(tenant_api):
    owner, intruder = tenant_api(), tenant_api()
    listing = owner.client.post(
        "/api/v1/listings", listing_body(seller_id="shared-seller"), format="json"
    ).json()
    for _ in range(2):
        owner.client.post("/api/v1/listings", listing_body(seller_id="shared-seller"), format="json")
    other = owner.client.post("/api/v1/listings", listing_body(), format="json").json()
    from resale.orders.services import order_submit
    from resale.tenancy import tenant_route

    order, _ = order_submit(
        route=tenant_route(owner.slug),
        actor="test",
        listing_id=other["id"],
        buyer_id="b",
        shipping_address={"line1": "x"},
        payment_token="tok_ok",
    )
    link = owner.client.post("/api/v1/links", {"target_url": "https://example.com/a"}, format="json").json()
    return owner, intruder, {"listing": listing, "order_id": order.id, "link": link}


def test_another_tenants_listing_id_is_404_on_every_listing_endpoint(two_tenants):
    owner, intruder, ids = two_tenants
    path = f"/api/v1/listings/{ids['listing']['id']}"
    assert intruder.client.get(path).status_code == 404
    assert (
        intruder.client.patch(path, {"title": "pwned"}, format="json", HTTP_IF_MATCH="1").status_code == 404
    )
    assert intruder.client.delete(path).status_code == 404
    upload = intruder.client.post(f"{path}/images", {"content_type": "image/png", "size": 10}, format="json")
    assert upload.status_code == 404
    assert intruder.client.post(f"{path}/images/{'0' * 32}.png").status_code == 404
    after = owner.client.get(path).json()
    assert after["status"] == "active" and after["title"] == ids["listing"]["title"] and after["images"] == []


def test_another_tenants_listing_cannot_be_ordered(two_tenants):
    owner, intruder, ids = two_tenants
    body = {
        "listing_id": ids["listing"]["id"],
        "buyer_id": "b",
        "shipping_address": {"line1": "x"},
        "payment_token": "tok",
    }
    assert intruder.client.post("/api/v1/orders", body, format="json").status_code == 404
    assert owner.client.get(f"/api/v1/listings/{ids['listing']['id']}").json()["status"] == "active"


def test_another_tenants_order_is_404_to_read_and_to_cancel(two_tenants):
    owner, intruder, ids = two_tenants
    assert intruder.client.get(f"/api/v1/orders/{ids['order_id']}").status_code == 404
    assert intruder.client.post(f"/api/v1/orders/{ids['order_id']}/cancel").status_code == 404
    assert owner.client.get(f"/api/v1/orders/{ids['order_id']}").json()["status"] == "submitted"


def test_another_tenants_cursor_is_400(two_tenants):
    owner, intruder, _ = two_tenants
    page = owner.client.get("/api/v1/listings", {"seller_id": "shared-seller", "limit": 1}).json()
    assert page["next_cursor"]
    response = intruder.client.get(
        "/api/v1/listings", {"seller_id": "shared-seller", "limit": 1, "cursor": page["next_cursor"]}
    )
    assert response.status_code == 400 and "cursor" in response.json()["errors"]


def test_a_link_code_under_another_tenants_slug_is_404(two_tenants):
    owner, intruder, ids = two_tenants
    code = ids["link"]["code"]
    assert intruder.client.get(f"/r/{intruder.slug}/{code}").status_code == 404
    assert owner.client.get(f"/r/{owner.slug}/{code}").status_code == 302


def test_the_listings_of_one_tenant_never_appear_in_anothers_lists(two_tenants):
    _, intruder, _ = two_tenants
    for params in ({"seller_id": "shared-seller"}, {"status": "active"}, {"category": "clothing"}):
        assert intruder.client.get("/api/v1/listings", params).json()["items"] == []


def test_a_body_naming_another_tenant_is_ignored(two_tenants):
    owner, intruder, _ = two_tenants
    body = listing_body(tenant=owner.slug, tenant_slug=owner.slug)
    created = intruder.client.post("/api/v1/listings", body, format="json").json()
    assert owner.client.get(f"/api/v1/listings/{created['id']}").status_code == 404
    assert intruder.client.get(f"/api/v1/listings/{created['id']}").status_code == 200
