"""Each kind of work lands on its own Celery queue, in the real broker (Redis), so a backlog of
webhook deliveries cannot stand in front of an order's payment or a tenant's onboarding."""

import json

import pytest
import redis
from django.conf import settings

from control_plane.celery import app
from provisioning.tasks import run_provisioning_step
from resale.orders.tasks import order_workflow, stalled_orders_sweep
from resale.webhooks.tasks import deliver_webhook

QUEUES = ("provisioning", "orders", "webhooks")


@pytest.fixture
def broker():
    """The run's Redis broker database, its three queues emptied before and after."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.delete(*QUEUES)
    yield client
    client.delete(*QUEUES)


def queued_tasks(broker: redis.Redis, queue: str) -> list[str]:
    return [json.loads(message)["headers"]["task"] for message in broker.lrange(queue, 0, -1)]


def test_each_task_lands_on_its_own_queue_and_a_webhook_backlog_stands_in_front_of_no_payment(broker):
    for delivery in range(2000):
        deliver_webhook.delay(f"whd_{delivery}")
    order_workflow.delay("acme", "order-1")
    stalled_orders_sweep.delay()
    run_provisioning_step.delay(1, "tables")

    assert sorted(queued_tasks(broker, "orders")) == sorted([order_workflow.name, stalled_orders_sweep.name])
    assert queued_tasks(broker, "provisioning") == [run_provisioning_step.name]
    assert broker.llen("webhooks") == 2000
    assert set(queued_tasks(broker, "webhooks")) == {deliver_webhook.name}


def test_every_task_of_the_project_has_a_route_and_none_falls_to_the_default_queue():
    app.loader.import_default_modules()
    ours = [name for name in app.tasks if not name.startswith("celery.")]
    assert {run_provisioning_step.name, order_workflow.name, deliver_webhook.name} <= set(ours)
    queues = {name: app.amqp.router.route({}, name)["queue"].name for name in ours}
    assert set(queues.values()) == set(QUEUES), queues
