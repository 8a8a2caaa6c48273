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
from tests.resale.factories import listing_create, models_of, order_create
from tests.resale.webhooks.receiver import Receiver

pytestmark = [pytest.mark.ddblocal, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def processes(dynamodb_local, tmp_path):
    env = {
        **os.environ,
        "POSTGRES_DB": connection.settings_dict["NAME"],
        "DYNAMODB_ENDPOINT": dynamodb_local.endpoint,
        "WEBHOOK_RETRY_BASE_SECONDS": "0.2",
        "WEBHOOK_RETRY_MAX_SECONDS": "1",
        "STREAMS_POLL_IDLE_SECONDS": "0.05",
        "WEBHOOK_ALLOW_PRIVATE_TARGETS": "1",
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "platform")]),
    }
    commands = [
        [sys.executable, "manage.py", "consume_streams", "--metrics-port", "0", "--discovery-seconds", "1"],
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "control_plane",
            "worker",
            "-Q",
            "webhooks",
            "--pool",
            "threads",
            "--concurrency",
            "4",
            "--loglevel",
            "INFO",
        ],
    ]
    started = [
        subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=(tmp_path / f"{i}.log").open("w")
        )
        for i, command in enumerate(commands)
    ]
    yield started
    for process in started:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


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
        deadline = time.monotonic() + 60
        while not receiver.accepted:
            assert time.monotonic() < deadline, f"not delivered: {[r.answered for r in receiver.requests]}"
            time.sleep(0.2)
        time.sleep(1)
    finally:
        receiver.stop()
    assert [request.answered for request in receiver.requests] == [500, 500, 500, 200]
    (accepted,) = receiver.accepted
    payload = Webhook(hook.secret).verify(accepted.body, accepted.headers)
    assert payload["type"] == "order.paid" and payload["data"]["order"]["id"] == order.id
    delivery = WebhookDelivery.objects.get(subscription=hook)
    assert (delivery.status, delivery.attempts) == ("succeeded", 4)
