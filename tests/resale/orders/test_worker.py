"""A real Celery worker (a subprocess on the test database and broker) runs the order workflow."""

import os
import signal
import subprocess

import pytest
from django.conf import settings

from control_plane.celery import app
from resale.tenancy import tenant_route
from tests.processes import wait_until
from tests.resale.conftest import listing_body, order_body

pytestmark = [
    pytest.mark.ddblocal,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("purge_order_queue"),
]


@pytest.fixture
def worker(sandbox, start_celery_worker):
    app.control.purge()
    orders = start_celery_worker(
        "orders",
        queues=["orders"],
        env={
            "REDIS_URL": settings.REDIS_URL,
            "PAYMENT_PROVIDER_URL": settings.PAYMENT_PROVIDER_URL,
            "SHIPPING_PROVIDER_URL": settings.SHIPPING_PROVIDER_URL,
            "PROVIDER_TIMEOUT_SECONDS": "10",
            "ORDER_WORKFLOW_BACKOFF_SECONDS": "0.2",
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            "TENANT_ROUTE_CACHE_SECONDS": "0.5",
        },
    )
    return orders.process


def wait_for_status(api, order_id: str, wanted: set[str], within: float = 45) -> str:
    seen = []

    def wanted_status() -> str | None:
        seen.append(api.client.get(f"/api/v1/orders/{order_id}").json()["status"])
        return seen[-1] if seen[-1] in wanted else None

    return wait_until(
        wanted_status, lambda: f"order {order_id} ({seen[-1]}) to be {wanted}", timeout=within, interval=0.2
    )


def submit(api, **overrides) -> tuple[str, str]:
    listing = api.client.post("/api/v1/listings", listing_body(), format="json").json()
    response = api.client.post("/api/v1/orders", order_body(listing["id"], **overrides), format="json")
    assert response.status_code == 202, response.content
    return listing["id"], response.json()["id"]


def test_one_worker_runs_two_tenants_tasks_back_to_back_each_in_its_own_tables(tenant_api, worker):
    first, second = tenant_api(), tenant_api()
    submitted = [
        (first, *submit(first)),
        (second, *submit(second, payment_token="tok_decline")),
        (first, *submit(first, payment_token="tok_decline")),
        (second, *submit(second)),
    ]
    outcomes = [
        wait_for_status(api, order_id, {"completed", "payment_failed"}) for api, _, order_id in submitted
    ]
    assert outcomes == ["completed", "payment_failed", "payment_failed", "completed"]
    for api, listing_id, order_id in submitted:
        other = second if api is first else first
        assert other.client.get(f"/api/v1/orders/{order_id}").status_code == 404
        listing = api.client.get(f"/api/v1/listings/{listing_id}").json()
        assert listing["status"] == (
            "sold"
            if api.client.get(f"/api/v1/orders/{order_id}").json()["status"] == "completed"
            else "active"
        )
        order = tenant_route(api.slug).models.orders.get(order_id)
        assert all(
            change.actor in {f"api-key:{api.key_id}", "system:order-workflow"} for change in order.history
        )


def test_a_worker_killed_mid_workflow_resumes_without_charging_twice(tenant_api, worker, sandbox):
    api = tenant_api()
    sandbox.set_mode("shipping", "slow", delay_seconds=4)
    listing_id, order_id = submit(api)
    wait_for_status(api, order_id, {"paid"})
    wait_until(lambda: sandbox.record("shipment", order_id)["received"] >= 1, "the shipping call to start")
    children = subprocess.run(["pgrep", "-P", str(worker.pid)], capture_output=True, text=True).stdout.split()
    assert children, "the worker has no pool process"
    for child in children:
        os.kill(int(child), signal.SIGKILL)
    sandbox.set_mode("shipping", "approve")
    assert wait_for_status(api, order_id, {"completed", "payment_failed", "cancelled"}) == "completed"
    assert sandbox.record("charge", order_id)["made"] == 1
    assert sandbox.record("shipment", order_id)["made"] == 1
    # The killed call may still be asleep in the sandbox; the re-run shows as a second request.
    assert sandbox.record("shipment", order_id)["received"] >= 2, "the killed step was not re-run"
    assert api.client.get(f"/api/v1/listings/{listing_id}").json()["status"] == "sold"
    history = [change["status"] for change in api.client.get(f"/api/v1/orders/{order_id}").json()["history"]]
    assert history == ["submitted", "paid", "shipped", "completed"]
