"""An attempt holds no transaction or row lock while it waits on the receiver, a second attempt
of the same delivery does not send it again meanwhile, a killed sender's claim lapses and the
delivery goes out again, and no receiver holds an attempt past the timeout."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.utils import timezone

from resale.models import WebhookDelivery
from resale.webhooks.services import webhook_delivery_attempt, webhook_subscription_delete
from tests.processes import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[3]


def test_no_row_lock_is_held_while_a_slow_receiver_answers_and_a_second_attempt_sends_nothing(
    receiver, test_delivery
):
    slow = receiver(delay_seconds=2)
    hook, delivery = test_delivery(slow.url)

    def attempt() -> None:
        try:
            webhook_delivery_attempt(delivery_id=delivery.id)
        finally:
            connection.close()

    sender = threading.Thread(target=attempt)
    sender.start()
    wait_until(lambda: slow.requests, "the POST to arrive", timeout=10, interval=0.02)
    with transaction.atomic():
        in_flight = WebhookDelivery.objects.select_for_update(nowait=True).get(id=delivery.id)
    assert in_flight.claim_token and in_flight.attempts == 1
    wait = webhook_delivery_attempt(delivery_id=delivery.id)
    sender.join(10)

    assert wait is not None and wait > 1, "the second attempt waits for the claim instead of sending"
    assert len(slow.requests) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.claim_token) == ("succeeded", 1, "")


def test_a_sender_killed_mid_post_leaves_a_claim_that_lapses_and_the_delivery_goes_out_again(
    receiver, test_delivery
):
    hanging = receiver(delay_seconds=30)
    hook, delivery = test_delivery(hanging.url)
    env = {
        **os.environ,
        "POSTGRES_DB": connection.settings_dict["NAME"],
        "WEBHOOK_ALLOW_PRIVATE_TARGETS": "1",
        "WEBHOOK_TIMEOUT_SECONDS": "30",
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "platform")]),
        "DJANGO_SETTINGS_MODULE": "control_plane.settings",
    }
    script = (
        "import django; django.setup(); from resale.webhooks.services import webhook_delivery_attempt; "
        f"webhook_delivery_attempt(delivery_id={delivery.id!r})"
    )
    sender = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, env=env, start_new_session=True)
    try:
        wait_until(lambda: hanging.requests, "the killed sender's POST to arrive", timeout=60, interval=0.02)
    finally:
        os.killpg(sender.pid, signal.SIGKILL)
        sender.wait(10)

    delivery.refresh_from_db()
    assert delivery.claim_token and delivery.attempts == 1 and delivery.status == "pending"
    assert webhook_delivery_attempt(delivery_id=delivery.id) > 30, "the claim still holds"
    WebhookDelivery.objects.filter(id=delivery.id).update(claimed_until=timezone.now())
    hanging.delay_seconds = 0

    assert webhook_delivery_attempt(delivery_id=delivery.id) is None
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("succeeded", 2)
    assert len(hanging.requests) == 2, "at least once: sent again, with the id a receiver de-duplicates on"
    assert {request.headers["webhook-id"] for request in hanging.requests} == {delivery.id}


@pytest.fixture
def trickling_receiver():
    """Answers a status line, then one byte of headers every 0.2 s, for ever (a slowloris)."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            client.recv(65536)
            client.sendall(b"HTTP/1.1 200 OK\r\n")
            while not stop.is_set():
                try:
                    client.sendall(b"X")
                except OSError:
                    break
                time.sleep(0.2)
            client.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/hooks"
    stop.set()
    thread.join(5)
    listener.close()


def test_a_receiver_that_trickles_its_answer_holds_an_attempt_no_longer_than_the_timeout(
    settings, trickling_receiver, test_delivery
):
    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    hook, delivery = test_delivery(trickling_receiver)

    started = time.monotonic()
    webhook_delivery_attempt(delivery_id=delivery.id)
    elapsed = time.monotonic() - started

    assert elapsed < 2, f"the attempt took {elapsed:.1f} s"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_error) == ("pending", "timed out (curl 28)")


def test_a_delivery_of_a_deleted_webhook_ends_dead_without_a_post(receiver, test_delivery):
    server = receiver()
    hook, delivery = test_delivery(server.url)
    webhook_subscription_delete(tenant_slug=hook.tenant_slug, webhook_id=hook.id)

    assert webhook_delivery_attempt(delivery_id=delivery.id) is None
    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_error, delivery.attempts) == ("dead", "webhook deleted", 0)
    assert server.requests == []
