"""Order submission, idempotency and cancellation through the API (the workflow is not run here)."""

import json
import logging

import pytest

from resale.tenancy import tenant_route
from tests.resale.conftest import listing_body, order_body

pytestmark = [pytest.mark.ddblocal, pytest.mark.django_db, pytest.mark.usefixtures("purge_order_queue")]


def new_listing(api) -> dict:
    response = api.client.post("/api/v1/listings", listing_body(), format="json")
    assert response.status_code == 201
    return response.json()


def test_submit_answers_202_submitted_and_reserves_the_listing(tenant_api):
    api = tenant_api()
    listing = new_listing(api)
    response = api.client.post("/api/v1/orders", order_body(listing["id"]), format="json")
    assert response.status_code == 202
    assert response.json()["status"] == "submitted" and response.json()["id"]
    assert api.client.get(f"/api/v1/listings/{listing['id']}").json()["status"] == "reserved"
    order = api.client.get(f"/api/v1/orders/{response.json()['id']}").json()
    assert order["status"] == "submitted" and order["listing_id"] == listing["id"]
    assert [change["status"] for change in order["history"]] == ["submitted"]
    assert order["amount"] == "45.00" and order["currency"] == "EUR"


def test_a_second_buyer_of_a_reserved_listing_gets_409(tenant_api):
    api = tenant_api()
    listing = new_listing(api)
    assert api.client.post("/api/v1/orders", order_body(listing["id"]), format="json").status_code == 202
    second = api.client.post("/api/v1/orders", order_body(listing["id"], buyer_id="b2"), format="json")
    assert second.status_code == 409


def test_ordering_a_withdrawn_listing_is_409_and_an_unknown_one_404(tenant_api):
    api = tenant_api()
    listing = new_listing(api)
    api.client.delete(f"/api/v1/listings/{listing['id']}")
    assert api.client.post("/api/v1/orders", order_body(listing["id"]), format="json").status_code == 409
    assert api.client.post("/api/v1/orders", order_body("missing"), format="json").status_code == 404


def test_the_same_idempotency_key_gives_the_same_order(tenant_api):
    api = tenant_api()
    listing = new_listing(api)
    first = api.client.post(
        "/api/v1/orders", order_body(listing["id"]), format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    again = api.client.post(
        "/api/v1/orders", order_body(listing["id"]), format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert first.status_code == again.status_code == 202
    assert first.json()["id"] == again.json()["id"]
    record = tenant_route(api.slug).models.idempotency.get("k-1")
    assert record.order_id == first.json()["id"]
    hours = (
        record.expires_at - __import__("datetime").datetime.now(record.expires_at.tzinfo)
    ).total_seconds() / 3600
    assert 23.9 < hours <= 24


def test_the_same_key_with_another_body_is_422(tenant_api):
    api = tenant_api()
    listing = new_listing(api)
    api.client.post("/api/v1/orders", order_body(listing["id"]), format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    other = api.client.post(
        "/api/v1/orders",
        order_body(listing["id"], buyer_id="someone-else"),
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-2",
    )
    assert other.status_code == 422
    assert other["Content-Type"] == "application/problem+json"


def test_an_order_with_missing_fields_is_400_naming_them(tenant_api):
    response = tenant_api().client.post("/api/v1/orders", {"listing_id": "x"}, format="json")
    assert response.status_code == 400
    assert {"buyer_id", "shipping_address", "payment_token"} <= set(response.json()["errors"])


def test_the_payment_token_is_never_stored_or_logged_in_clear(tenant_api, ddb, caplog):
    caplog.set_level(logging.DEBUG)
    api = tenant_api()
    listing = new_listing(api)
    token = "tok_secret_5555444433332222"
    created = api.client.post("/api/v1/orders", order_body(listing["id"], payment_token=token), format="json")
    models = tenant_route(api.slug).models
    key = {"id": {"S": created.json()["id"]}}
    raw = ddb(models.tenant).get_item(TableName=models.orders.Meta.table_name, Key=key)["Item"]
    assert token not in json.dumps(raw)
    assert raw["payment_token_fingerprint"]["S"]
    assert token not in caplog.text
    assert token not in json.dumps(api.client.get(f"/api/v1/orders/{created.json()['id']}").json())


def test_cancel_before_shipping_is_200_and_relists(tenant_api):
    api = tenant_api()
    listing = new_listing(api)
    order_id = api.client.post("/api/v1/orders", order_body(listing["id"]), format="json").json()["id"]
    response = api.client.post(f"/api/v1/orders/{order_id}/cancel")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert api.client.get(f"/api/v1/listings/{listing['id']}").json()["status"] == "active"
    assert api.client.post(f"/api/v1/orders/{order_id}/cancel").status_code == 200
    assert api.client.post("/api/v1/orders/nope/cancel").status_code == 404


def test_cancel_after_shipping_is_409(tenant_api):
    api = tenant_api()
    listing = new_listing(api)
    order_id = api.client.post("/api/v1/orders", order_body(listing["id"]), format="json").json()["id"]
    order = tenant_route(api.slug).models.orders.get(order_id)
    order.update(actions=[type(order).status.set("shipped")])
    assert api.client.post(f"/api/v1/orders/{order_id}/cancel").status_code == 409


def test_read_keys_cannot_submit_or_cancel(tenant_api):
    api = tenant_api()
    reader = tenant_api(scopes=("read",), tenant=api.tenant)
    listing = new_listing(api)
    assert reader.client.post("/api/v1/orders", order_body(listing["id"]), format="json").status_code == 403
    assert reader.client.post("/api/v1/orders/x/cancel").status_code == 403
    assert reader.client.get("/api/v1/orders/x").status_code == 404


def test_cancel_once_shipping_has_started_is_409(tenant_api):
    api = tenant_api()
    listing = new_listing(api)
    order_id = api.client.post("/api/v1/orders", order_body(listing["id"]), format="json").json()["id"]
    order = tenant_route(api.slug).models.orders.get(order_id)
    order.update(
        actions=[type(order).status.set("paid"), type(order).shipping_started_at.set("2026-01-01T00:00:00Z")]
    )
    assert api.client.post(f"/api/v1/orders/{order_id}/cancel").status_code == 409
    assert api.client.get(f"/api/v1/listings/{listing['id']}").json()["status"] == "reserved"


def lose_first_transaction_response(monkeypatch) -> list:
    """DynamoDB applies the next transaction, then its response is lost (a read timeout)."""
    from botocore.exceptions import ReadTimeoutError

    from resale.dynamodb_wire import DynamoDBWire

    send = DynamoDBWire._send
    lost = []

    def send_then_lose(self, operation_name, body, *timeout):
        result = send(self, operation_name, body, *timeout)
        if operation_name == "TransactWriteItems" and not lost:
            lost.append(body)
            raise ReadTimeoutError(endpoint_url="http://dynamodb")
        return result

    monkeypatch.setattr(DynamoDBWire, "_send", send_then_lose)
    return lost


def test_a_submit_whose_transaction_response_is_lost_is_retried_and_answers_202_once(tenant_api, monkeypatch):
    api = tenant_api()
    listing = new_listing(api)
    lost = lose_first_transaction_response(monkeypatch)
    response = api.client.post("/api/v1/orders", order_body(listing["id"]), format="json")
    assert lost, "the transaction was not intercepted"
    assert response.status_code == 202
    orders = list(tenant_route(api.slug).models.orders.scan())
    assert [order.id for order in orders] == [response.json()["id"]]
    stored = tenant_route(api.slug).models.listings.get(listing["id"], consistent_read=True)
    assert stored.reserved_order_id == response.json()["id"]


def test_a_cancel_whose_transaction_response_is_lost_is_retried_and_answers_200(tenant_api, monkeypatch):
    api = tenant_api()
    listing = new_listing(api)
    order_id = api.client.post("/api/v1/orders", order_body(listing["id"]), format="json").json()["id"]
    lost = lose_first_transaction_response(monkeypatch)
    response = api.client.post(f"/api/v1/orders/{order_id}/cancel")
    assert lost and response.status_code == 200 and response.json()["status"] == "cancelled"
    assert api.client.get(f"/api/v1/listings/{listing['id']}").json()["status"] == "active"
