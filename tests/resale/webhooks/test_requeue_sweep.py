"""A delivery whose task went missing is queued again by the sweep Celery beat runs."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from control_plane.celery import app
from resale.models import WebhookDelivery
from resale.webhooks.tasks import webhook_deliveries_requeue_sweep

pytestmark = pytest.mark.django_db


def test_celery_beat_runs_the_requeue_sweep_of_webhook_deliveries():
    app.loader.import_default_modules()
    schedule = {entry["task"]: entry for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert webhook_deliveries_requeue_sweep.name in schedule
    assert webhook_deliveries_requeue_sweep.name in app.tasks


def test_an_overdue_delivery_never_enqueued_is_queued_again_and_a_fresh_one_is_left_alone(
    receiver, test_delivery, monkeypatch
):
    queued: list[str] = []
    monkeypatch.setattr("resale.webhooks.tasks.deliver_webhook.delay", queued.append)
    server = receiver()
    _, lost = test_delivery(server.url)
    _, fresh = test_delivery(server.url)
    long_ago = timezone.now() - timedelta(minutes=5)
    WebhookDelivery.objects.filter(id=lost.id).update(enqueued_at=None, next_attempt_at=long_ago)
    queued.clear()

    assert webhook_deliveries_requeue_sweep.apply().get() == 1
    assert queued == [lost.id]
    lost.refresh_from_db()
    assert lost.enqueued_at > long_ago
