"""Deliveries are signed as the Standard Webhooks specification says, by its own library, and the
secrets that existed before keep their key through the migration."""

import base64
import hashlib
import hmac
import importlib
import secrets
import time

import pytest
from django.apps import apps
from standardwebhooks import Webhook, WebhookVerificationError

from resale.models import WebhookDelivery, WebhookSubscription
from resale.webhooks.signing import webhook_secret_new, webhook_signed_headers

migration = importlib.import_module("resale.migrations.0004_webhook_standard_webhooks")


def test_a_new_secret_is_whsec_and_the_base64_of_32_random_bytes():
    secret = webhook_secret_new()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 32
    assert secret != webhook_secret_new()


def test_the_signature_is_hmac_sha256_over_id_timestamp_body_and_the_library_verifies_it():
    secret, body = webhook_secret_new(), b'{"type":"order.paid","timestamp":"2026-01-01T00:00:00Z","data":{}}'
    timestamp = int(time.time())
    headers = webhook_signed_headers(secret=secret, message_id="whd_1", timestamp=timestamp, body=body)

    key = base64.b64decode(secret.removeprefix("whsec_"))
    expected = hmac.new(key, f"whd_1.{timestamp}.".encode() + body, hashlib.sha256).digest()
    assert headers == {
        "webhook-id": "whd_1",
        "webhook-timestamp": str(timestamp),
        "webhook-signature": "v1," + base64.b64encode(expected).decode(),
    }
    assert Webhook(secret).verify(body, headers)["type"] == "order.paid"
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body, {**headers, "webhook-id": "whd_2"})


@pytest.mark.django_db
def test_the_migration_keeps_each_old_secrets_key_and_reshapes_bodies_still_to_be_sent():
    old_secret = f"whsec_{secrets.token_urlsafe(32)}"
    hook = WebhookSubscription.objects.create(
        id="wh_old", tenant_slug="old", url="https://h.example/", events=["*"]
    )
    WebhookSubscription.objects.filter(id=hook.id).update(secret=old_secret)
    old_body = {
        "id": "e",
        "type": "order.paid",
        "tenant": "old",
        "occurred_at": "2026-01-01T00:00:00Z",
        "data": {},
    }
    dead = WebhookDelivery.objects.create(
        id="whd_dead", subscription=hook, tenant_slug="old", event_id="e", event_type="order.paid",
        payload=old_body, status="dead",
    )  # fmt: skip

    migration.forward(apps, None)

    hook.refresh_from_db()
    assert hook.secret == "whsec_" + base64.b64encode(old_secret.encode()).decode()
    body, timestamp = b"{}", 1_700_000_000
    old_signature = hmac.new(
        old_secret.encode(), f"whd_1.{timestamp}.".encode() + body, hashlib.sha256
    ).digest()
    headers = webhook_signed_headers(secret=hook.secret, message_id="whd_1", timestamp=timestamp, body=body)
    assert headers["webhook-signature"] == "v1," + base64.b64encode(old_signature).decode()
    dead.refresh_from_db()
    assert dead.payload == {"type": "order.paid", "timestamp": "2026-01-01T00:00:00Z", "data": {}}
