"""Orders whose workflow was never queued (the broker was down) or stopped are queued again by
the periodic sweep, and then complete; orders that finished or changed recently are left alone."""

from datetime import timedelta

import pytest
from kombu.exceptions import OperationalError

from resale.orders.recovery import stalled_orders_requeue
from resale.orders.workflow import order_advance
from resale.tenancy import tenant_route
from tests.resale.conftest import listing_body, order_body

pytestmark = [
    pytest.mark.ddblocal,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("purge_order_queue"),
]


def submit(api) -> str:
    listing = api.client.post("/api/v1/listings", listing_body(), format="json").json()
    response = api.client.post("/api/v1/orders", order_body(listing["id"]), format="json")
    assert response.status_code == 202, response.content
    return response.json()["id"]


def sweep(stalled_for: timedelta) -> list[tuple[str, str]]:
    queued: list[tuple[str, str]] = []
    stalled_orders_requeue(
        stalled_for=stalled_for, enqueue=lambda slug, order_id: queued.append((slug, order_id))
    )
    return queued


def test_an_order_whose_workflow_could_not_be_queued_is_queued_by_the_sweep_and_completes(
    tenant_api, sandbox, monkeypatch
):
    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr("resale.api.orders.order_workflow.delay", broker_down)
    api = tenant_api()
    order_id = submit(api)
    assert api.client.get(f"/api/v1/orders/{order_id}").json()["status"] == "submitted"

    queued = sweep(timedelta(0))
    assert queued == [(api.slug, order_id)]
    for slug, queued_id in queued:
        assert order_advance(route=tenant_route(slug), order_id=queued_id) == "completed"
    assert sweep(timedelta(0)) == []


def test_orders_changed_recently_or_finished_are_left_alone(tenant_api, sandbox):
    api = tenant_api()
    in_flight = submit(api)
    finished = submit(api)
    assert api.client.post(f"/api/v1/orders/{finished}/cancel").status_code == 200
    assert sweep(timedelta(hours=1)) == []
    assert sweep(timedelta(0)) == [(api.slug, in_flight)]


def test_the_sweep_reaches_every_active_tenant_and_no_suspended_one(tenant_api, sandbox):
    from tenants.actions import do_suspend_tenant

    first, second, suspended = tenant_api(), tenant_api(), tenant_api()
    orders = {first.slug: submit(first), second.slug: submit(second), suspended.slug: submit(suspended)}
    do_suspend_tenant(tenant=suspended.tenant)
    assert sorted(sweep(timedelta(0))) == sorted(
        [(first.slug, orders[first.slug]), (second.slug, orders[second.slug])]
    )
