"""Webhooks through the real pieces: consumer process, Redis broker, a Celery worker on the webhooks
queue with the thread pool `make run` gives it, HTTP receiver."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from standardwebhooks import Webhook

from resale.models import WebhookDelivery
from resale.webhooks.services import webhook_subscription_create
from tenants.tiers import tier_policy
from tests.processes import stop_process_group, wait_until
from tests.resale.factories import listing_create, models_of, order_create
from tests.resale.webhooks.receiver import Receiver

pytestmark = [pytest.mark.ddblocal, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[3]

FAST_RETRIES = {
    "WEBHOOK_RETRY_BASE_SECONDS": "0.2",
    "WEBHOOK_RETRY_MAX_SECONDS": "1",
    "STREAMS_POLL_IDLE_SECONDS": "0.05",
    "WEBHOOK_ALLOW_PRIVATE_TARGETS": "1",
}


@pytest.fixture
def processes(dynamodb_local, start_celery_worker, tmp_path):
    """The stream consumer, and a Celery worker on the webhooks queue."""
    env = {
        **os.environ,
        "POSTGRES_DB": connection.settings_dict["NAME"],
        "DYNAMODB_ENDPOINT": dynamodb_local.endpoint,
        **FAST_RETRIES,
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "platform")]),
    }
    command = [
        sys.executable,
        "manage.py",
        "consume_streams",
        "--metrics-port",
        "0",
        "--discovery-seconds",
        "1",
    ]
    with (tmp_path / "consumer.log").open("w") as log:
        consumer = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True
        )
    try:
        start_celery_worker("webhooks", queues=["webhooks"], pool="threads", concurrency=4, env=FAST_RETRIES)
        yield
    finally:
        stop_process_group(consumer)


def test_an_order_status_change_reaches_a_receiver_that_fails_three_times_then_recovers(
    provisioned_tenant, processes
):
    tenant = provisioned_tenant()
    receiver = Receiver(fail_first=3).start()
    try:
        hook = webhook_subscription_create(
            tenant_slug=tenant.slug, policy=tier_policy(tenant.tier), url=receiver.url, events=["order.paid"]
        )
        models = models_of(tenant)
        order = order_create(models, listing_id=listing_create(models).id)
        order.status = "paid"
        order.save()
        wait_until(
            lambda: receiver.accepted,
            lambda: f"the delivery (answered so far: {[r.answered for r in receiver.requests]})",
            timeout=60,
            interval=0.2,
        )
        time.sleep(1)
    finally:
        receiver.stop()
    assert [request.answered for request in receiver.requests] == [500, 500, 500, 200]
    (accepted,) = receiver.accepted
    payload = Webhook(hook.secret).verify(accepted.body, accepted.headers)
    assert payload["type"] == "order.paid" and payload["data"]["order"]["id"] == order.id
    delivery = WebhookDelivery.objects.get(subscription=hook)
    assert (delivery.status, delivery.attempts) == ("succeeded", 4)
