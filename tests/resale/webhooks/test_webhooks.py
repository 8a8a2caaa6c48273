import time

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from resale.models import StreamShard, WebhookDelivery
from resale.webhooks.errors import WebhookDeliveryNotFound
from resale.webhooks.services import retry_delay, webhook_delivery_attempt, webhook_delivery_redrive
from tenants.tiers import tier_policy
from tests.resale.factories import (
    api_client_for,
    drain,
    in_process_consumer,
    listing_change,
    listing_create,
    models_of,
    order_create,
)

pytestmark = [pytest.mark.ddblocal, pytest.mark.django_db]


@pytest.fixture
def fast_retries(settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 0.05
    settings.WEBHOOK_RETRY_MAX_SECONDS = 0.2
    settings.WEBHOOK_MAX_ATTEMPTS = 5
    return settings


def _register(tenant, url, events):
    response = api_client_for(tenant, "write").post(
        "/api/v1/webhooks", {"url": url, "events": events}, format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()


def _deliver_until_done(delivery_id: str, *, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        delay = webhook_delivery_attempt(delivery_id=delivery_id)
        if delay is None:
            return
        time.sleep(delay)
    raise AssertionError("delivery still pending")


def test_the_secret_is_shown_once_and_webhooks_are_listed_and_deleted(provisioned_tenant):
    tenant = provisioned_tenant()
    created = _register(tenant, "https://hooks.example/a", ["listing.created"])
    assert created["secret"].startswith("whsec_") and created["id"]
    client = api_client_for(tenant, "read", "write")
    listed = client.get("/api/v1/webhooks").json()["items"]
    assert [hook["id"] for hook in listed] == [created["id"]] and "secret" not in listed[0]
    other = api_client_for(provisioned_tenant(), "read", "write")
    assert other.get(f"/api/v1/webhooks/{created['id']}").status_code == 404
    assert other.delete(f"/api/v1/webhooks/{created['id']}").status_code == 404
    assert client.delete(f"/api/v1/webhooks/{created['id']}").status_code == 204
    assert client.get("/api/v1/webhooks").json()["items"] == []


def test_registering_needs_the_write_scope_and_known_events(provisioned_tenant):
    tenant = provisioned_tenant()
    reader = api_client_for(tenant, "read")
    body = {"url": "https://hooks.example/a", "events": ["listing.created"]}
    assert reader.post("/api/v1/webhooks", body, format="json").status_code == 403
    writer = api_client_for(tenant, "write")
    bad = writer.post("/api/v1/webhooks", {"url": "ftp://x", "events": ["nope"]}, format="json")
    assert bad.status_code == 400 and {"url", "events"} <= set(bad.json()["errors"])


def test_a_standard_webhooks_receiver_verifies_each_delivery_and_another_secret_or_body_fails(
    provisioned_tenant, receiver
):
    tenant = provisioned_tenant()
    server = receiver()
    hook = _register(tenant, server.url, ["listing.created"])
    other_hook = _register(tenant, "https://hooks.example/other", ["listing.updated"])
    server.secret = hook["secret"]
    listing = listing_create(models_of(tenant))
    drain(in_process_consumer())
    (delivery,) = WebhookDelivery.objects.filter(tenant_slug=tenant.slug)
    _deliver_until_done(delivery.id)

    (request,) = server.accepted
    payload = Webhook(hook["secret"]).verify(request.body, request.headers)
    assert set(payload) == {"type", "timestamp", "data"}
    assert payload["type"] == "listing.created" and payload["data"]["listing"]["id"] == listing.id
    assert request.headers["webhook-id"] == delivery.id
    assert request.headers["webhook-signature"].startswith("v1,")
    with pytest.raises(WebhookVerificationError):
        Webhook(other_hook["secret"]).verify(request.body, request.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(hook["secret"]).verify(request.body + b" ", request.headers)
    replayed_later = {
        **request.headers,
        "webhook-timestamp": str(int(request.headers["webhook-timestamp"]) - 3600),
    }
    with pytest.raises(WebhookVerificationError):
        Webhook(hook["secret"]).verify(request.body, replayed_later)


def test_a_receiver_failing_three_times_gets_the_event_once_it_recovers(
    provisioned_tenant, receiver, fast_retries
):
    tenant = provisioned_tenant()
    server = receiver(fail_first=3)
    _register(tenant, server.url, ["*"])
    listing_create(models_of(tenant))
    drain(in_process_consumer())
    (delivery,) = WebhookDelivery.objects.filter(tenant_slug=tenant.slug)
    _deliver_until_done(delivery.id)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("succeeded", 4, 200)
    assert [request.answered for request in server.requests] == [500, 500, 500, 200]
    assert len({request.headers["webhook-id"] for request in server.requests}) == 1


def test_a_receiver_that_never_recovers_ends_dead_and_can_be_redriven(
    provisioned_tenant, receiver, fast_retries
):
    tenant = provisioned_tenant()
    server = receiver(fail_first=100)
    hook = _register(tenant, server.url, ["listing.created"])
    listing_create(models_of(tenant))
    drain(in_process_consumer())
    (delivery,) = WebhookDelivery.objects.filter(tenant_slug=tenant.slug)
    _deliver_until_done(delivery.id)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("dead", 5)
    client = api_client_for(tenant, "read", "write")
    dead = client.get(f"/api/v1/webhooks/{hook['id']}/deliveries", {"status": "dead"}).json()["items"]
    assert [item["id"] for item in dead] == [delivery.id]

    server.fail_first = 0
    redriven = client.post(f"/api/v1/webhooks/{hook['id']}/deliveries/{delivery.id}/redrive")
    assert redriven.status_code == 200 and redriven.json()["status"] == "pending"
    _deliver_until_done(delivery.id)
    delivery.refresh_from_db()
    assert delivery.status == "succeeded" and len(server.accepted) == 1
    with pytest.raises(WebhookDeliveryNotFound):
        webhook_delivery_redrive(
            tenant_slug="someone-else", policy=tier_policy("premium"), delivery_id=delivery.id
        )


def test_backoff_grows_exponentially_with_jitter_under_a_cap(settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 1
    settings.WEBHOOK_RETRY_MAX_SECONDS = 60
    samples = {attempt: [retry_delay(attempt) for _ in range(200)] for attempt in (1, 3, 10)}
    assert all(0.5 <= delay <= 2 for delay in samples[1])
    assert all(0.5 <= delay <= 8 for delay in samples[3]) and max(samples[3]) > 4
    assert all(delay <= 60 for delay in samples[10]) and len(set(samples[10])) > 100


def test_each_change_makes_the_matching_events_and_order_status_changes_go_out(provisioned_tenant):
    tenant = provisioned_tenant()
    _register(tenant, "https://hooks.example/all", ["*"])
    models = models_of(tenant)
    listing = listing_create(models)
    listing_change(listing, price="10.00")
    listing_change(listing, status="sold")
    order = order_create(models, listing_id=listing.id)
    order.status = "paid"
    order.save()
    order.shipment_reference = "ship-1"
    order.save()
    drain(in_process_consumer())
    StreamShard.objects.filter(tenant_slug=tenant.slug).update(checkpoint="", lease_owner="")
    drain(in_process_consumer("replayer"))
    types = sorted(
        WebhookDelivery.objects.filter(tenant_slug=tenant.slug).values_list("event_type", flat=True)
    )
    assert types == ["listing.created", "listing.sold", "listing.updated", "order.paid", "order.submitted"]
    payload = WebhookDelivery.objects.get(tenant_slug=tenant.slug, event_type="order.paid").payload
    assert "payment_token_fingerprint" not in payload["data"]["order"]
    assert payload["data"]["order"]["buyer_id"] == "buyer-1"


def test_a_test_delivery_goes_out_signed_through_the_same_path(provisioned_tenant, receiver):
    tenant = provisioned_tenant()
    server = receiver()
    hook = _register(tenant, server.url, ["order.paid"])
    server.secret = hook["secret"]
    response = api_client_for(tenant, "write").post(f"/api/v1/webhooks/{hook['id']}/test")
    assert response.status_code == 202
    _deliver_until_done(response.json()["id"])
    (request,) = server.accepted
    payload = Webhook(hook["secret"]).verify(request.body, request.headers)
    assert payload["type"] == "webhook.test" and payload["data"] == {"webhook_id": hook["id"]}
