"""Two deliverers racing on one delivery: exactly one claims it and the receiver gets one POST."""

import threading

import pytest
from django.db import connection

from resale.models import WebhookDelivery
from resale.webhooks.services import webhook_delivery_attempt

pytestmark = pytest.mark.django_db(transaction=True)

DELIVERERS = 4
ROUNDS = 5


def _race(delivery_id: str) -> list[float | None]:
    """Starts ``DELIVERERS`` attempts of one delivery at the same instant; returns their answers."""
    start = threading.Barrier(DELIVERERS)
    answers: list[float | None] = []

    def attempt() -> None:
        try:
            start.wait(5)
            answers.append(webhook_delivery_attempt(delivery_id=delivery_id))
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(DELIVERERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(15)
    return answers


def test_deliverers_racing_on_one_delivery_send_one_post_and_count_one_attempt(receiver, test_delivery):
    slow = receiver(delay_seconds=0.3)
    for _ in range(ROUNDS):
        sent_before = len(slow.requests)
        _, delivery = test_delivery(slow.url)
        answers = _race(delivery.id)

        assert len(answers) == DELIVERERS
        assert len(slow.requests) == sent_before + 1, "one POST, whichever deliverer claimed it"
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts, delivery.claim_token) == (
            WebhookDelivery.Status.SUCCEEDED,
            1,
            "",
        )
        assert answers.count(None) >= 1 and all(wait is None or wait > 0 for wait in answers)
