"""Writes made through the tenant API reach the audited history: each exactly once, in order,
with the key that made it as the actor, and nothing of the payment token in clear."""

import json

import pytest

from tests.resale.conftest import listing_body, order_body
from tests.resale.factories import api_client_for, drain, in_process_consumer

pytestmark = [pytest.mark.ddblocal, pytest.mark.django_db, pytest.mark.usefixtures("purge_order_queue")]


def _events(client, **filters) -> list[dict]:
    events, cursor = [], None
    while True:
        params = {**filters, "limit": 100, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/audit/events", params)
        assert page.status_code == 200, page.content
        events += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if not cursor:
            return events


def test_every_api_write_appears_in_the_history_exactly_once_in_order(provisioned_tenant):
    tenant = provisioned_tenant()
    client = api_client_for(tenant, "read", "write", "audit")
    key_id = client._credentials["HTTP_AUTHORIZATION"].split("_")[1]

    created = client.post("/api/v1/listings", listing_body(), format="json").json()
    listing_id = created["id"]
    patched = client.patch(
        f"/api/v1/listings/{listing_id}", {"title": "Renamed jacket"}, format="json", HTTP_IF_MATCH="1"
    )
    assert patched.status_code == 200, patched.content
    other = client.post("/api/v1/listings", listing_body(title="Second"), format="json").json()
    assert client.delete(f"/api/v1/listings/{other['id']}").status_code == 204
    order = client.post(
        "/api/v1/orders",
        order_body(listing_id, payment_token="tok_visa_secret_4242"),
        format="json",
        HTTP_IDEMPOTENCY_KEY="history-key-1",
    )
    assert order.status_code == 202, order.content
    drain(in_process_consumer())

    listing_events = _events(client, entity_type="listing", entity_id=listing_id)
    assert [e["event"] for e in listing_events] == ["INSERT", "MODIFY", "MODIFY"]
    assert [e["new"]["version"] for e in listing_events] == [1, 2, 3]
    assert {e["actor"] for e in listing_events} == {f"api-key:{key_id}"}

    withdrawn = _events(client, entity_type="listing", entity_id=other["id"])
    assert [e["event"] for e in withdrawn] == ["INSERT", "MODIFY"]

    order_events = _events(client, entity_type="order", entity_id=order.json()["id"])
    assert [e["event"] for e in order_events] == ["INSERT"]

    everything = _events(client)
    assert [e["seq"] for e in everything] == list(range(1, len(everything) + 1))
    assert len(everything) == 6, [(e["entity_type"], e["event"]) for e in everything]
    assert "tok_visa_secret_4242" not in json.dumps(everything)
    verification = client.get("/api/v1/audit/verify").json()
    assert (verification["ok"], verification["events"], verification["first_bad_seq"]) == (True, 6, None)
