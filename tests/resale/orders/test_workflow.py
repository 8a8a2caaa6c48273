"""The order workflow against the sandbox providers: approve, decline, timeout, cancel, crash."""

import pytest
from celery.exceptions import Retry
from django.core import mail

from resale.orders.tasks import order_workflow
from resale.orders.workflow import charge_order, notify_buyer, order_advance, status_message_id
from resale.providers.payment import payment_charge
from resale.tenancy import tenant_route
from tests.resale.conftest import listing_body, order_body

pytestmark = [
    pytest.mark.ddblocal,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("purge_order_queue"),
]


def submit(api, **overrides) -> tuple[str, str]:
    listing = api.client.post("/api/v1/listings", listing_body(), format="json").json()
    response = api.client.post("/api/v1/orders", order_body(listing["id"], **overrides), format="json")
    assert response.status_code == 202
    return listing["id"], response.json()["id"]


def statuses(api, order_id: str) -> list[str]:
    return [change["status"] for change in api.client.get(f"/api/v1/orders/{order_id}").json()["history"]]


def test_approved_payment_runs_to_completed_with_the_listing_sold(tenant_api, sandbox):
    api = tenant_api()
    listing_id, order_id = submit(api)
    assert order_advance(route=tenant_route(api.slug), order_id=order_id) == "completed"
    assert statuses(api, order_id) == ["submitted", "paid", "shipped", "completed"]
    order = api.client.get(f"/api/v1/orders/{order_id}").json()
    assert order["payment_reference"].startswith("ch_") and order["shipment_reference"].startswith("sh_")
    assert api.client.get(f"/api/v1/listings/{listing_id}").json()["status"] == "sold"
    assert [m.to for m in mail.outbox] == [["buyer@example.com"]] * 4
    assert "completed" in mail.outbox[-1].subject
    assert sandbox.record("charge", order_id)["made"] == 1
    assert tenant_route(api.slug).models.orders.get(order_id).payment_token_sealed is None


def test_declined_payment_ends_payment_failed_and_relists(tenant_api, sandbox):
    api = tenant_api()
    listing_id, order_id = submit(api, payment_token="tok_decline_card")
    assert order_advance(route=tenant_route(api.slug), order_id=order_id) == "payment_failed"
    assert statuses(api, order_id) == ["submitted", "payment_failed"]
    listing = api.client.get(f"/api/v1/listings/{listing_id}").json()
    assert listing["status"] == "active"
    second = api.client.post("/api/v1/orders", order_body(listing_id, buyer_id="b2"), format="json")
    assert second.status_code == 202


def test_a_timed_out_charge_is_retried_without_charging_twice(tenant_api, sandbox):
    api = tenant_api()
    _, order_id = submit(api)
    sandbox.set_mode("payments", "timeout", times=1)
    with pytest.raises(Retry):
        order_workflow.apply(args=[api.slug, order_id])
    assert api.client.get(f"/api/v1/orders/{order_id}").json()["status"] == "submitted"
    assert order_advance(route=tenant_route(api.slug), order_id=order_id) == "completed"
    assert sandbox.record("charge", order_id)["made"] == 1


def test_a_provider_that_never_answers_ends_payment_failed_after_the_retries(tenant_api, sandbox, settings):
    settings.ORDER_WORKFLOW_MAX_RETRIES = 0
    api = tenant_api()
    listing_id, order_id = submit(api, payment_token="tok_timeout")
    assert order_workflow.apply(args=[api.slug, order_id]).get() == "gave_up"
    assert api.client.get(f"/api/v1/orders/{order_id}").json()["status"] == "payment_failed"
    assert api.client.get(f"/api/v1/listings/{listing_id}").json()["status"] == "active"


def test_a_slow_shipping_provider_still_completes(tenant_api, sandbox):
    api = tenant_api()
    _, order_id = submit(api)
    sandbox.set_mode("shipping", "slow", delay_seconds=0.2)
    assert order_advance(route=tenant_route(api.slug), order_id=order_id) == "completed"


def test_cancel_after_payment_refunds_and_relists(tenant_api, sandbox):
    api = tenant_api()
    route = tenant_route(api.slug)
    listing_id, order_id = submit(api)
    charge_order(route, route.models.orders.get(order_id, consistent_read=True))
    assert api.client.get(f"/api/v1/orders/{order_id}").json()["status"] == "paid"
    assert api.client.post(f"/api/v1/orders/{order_id}/cancel").status_code == 200
    assert order_advance(route=route, order_id=order_id) == "cancelled"
    assert sandbox.record("refund", order_id)["made"] == 1
    assert route.models.orders.get(order_id).refund_reference.startswith("re_")
    assert api.client.get(f"/api/v1/listings/{listing_id}").json()["status"] == "active"
    assert statuses(api, order_id) == ["submitted", "paid", "cancelled"]


def test_a_worker_that_died_after_charging_resumes_without_charging_twice(tenant_api, sandbox):
    """The charge reached the provider but the worker died before recording it: re-running the step
    gets the same charge back (keyed by the order id) and moves on."""
    api = tenant_api()
    route = tenant_route(api.slug)
    _, order_id = submit(api)
    order = route.models.orders.get(order_id, consistent_read=True)
    first = payment_charge(
        charge_key=order_id, amount=order.amount, currency=order.currency, token="tok_visa"
    )
    assert order_advance(route=route, order_id=order_id) == "completed"
    assert route.models.orders.get(order_id).payment_reference == first.reference
    charge = sandbox.record("charge", order_id)
    assert (charge["received"], charge["attempts"], charge["made"]) == (2, 2, 1)


def test_a_finished_workflow_run_again_does_nothing(tenant_api, sandbox):
    api = tenant_api()
    _, order_id = submit(api)
    route = tenant_route(api.slug)
    order_advance(route=route, order_id=order_id)
    sent = len(mail.outbox)
    assert order_advance(route=route, order_id=order_id) == "completed"
    assert len(mail.outbox) == sent
    assert sandbox.record("charge", order_id)["attempts"] == 1


def test_a_worker_killed_between_emailing_and_recording_sends_the_same_message_again(
    tenant_api, sandbox, monkeypatch
):
    """At least once: the buyer may get a status email twice, but as one message (one Message-ID)."""
    api = tenant_api()
    route = tenant_route(api.slug)
    _, order_id = submit(api)
    order = route.models.orders.get(order_id, consistent_read=True)

    def killed_before_recording(**kwargs):
        raise ConnectionError("worker killed")

    monkeypatch.setattr(order, "update", killed_before_recording)
    with pytest.raises(ConnectionError):
        notify_buyer(order)
    assert order_advance(route=route, order_id=order_id) == "completed"
    submitted = [m for m in mail.outbox if "submitted" in m.subject]
    assert len(submitted) == 2
    assert len({m.extra_headers["Message-ID"] for m in submitted}) == 1
    message_ids = [m.message()["Message-ID"] for m in mail.outbox]
    assert message_ids[0] == f"<order.{order_id}.submitted@resale.local>"
    assert len(set(message_ids)) == 4  # submitted (twice), paid, shipped, completed


def test_the_message_id_takes_the_domain_of_the_sender_address_in_any_form(settings):
    settings.DEFAULT_FROM_EMAIL = "Resale Shop <orders@shop.example>"
    assert status_message_id("o1", "paid") == "<order.o1.paid@shop.example>"
    settings.DEFAULT_FROM_EMAIL = "orders@shop.example"
    assert status_message_id("o1", "paid") == "<order.o1.paid@shop.example>"
