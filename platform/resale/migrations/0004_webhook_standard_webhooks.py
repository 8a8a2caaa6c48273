"""Webhooks move to the Standard Webhooks specification: claims for attempts in flight, secrets
and queued bodies in the new form.

A secret keeps its key. The old scheme keyed the HMAC with the secret string's own bytes; the
new one with the base64 part after ``whsec_``. So each secret becomes ``whsec_`` + base64 of the
old string: signatures keep the same key, and a tenant converts the secret it holds itself
(``"whsec_" + base64.b64encode(old.encode()).decode()``) instead of being sent a new one.
Bodies not yet delivered (queued, or dead and re-drivable) become ``{"type", "timestamp", "data"}``.
"""

import base64

from django.db import migrations, models

PREFIX = "whsec_"


def forward(apps, schema_editor):
    subscriptions = apps.get_model("resale", "WebhookSubscription")
    for subscription in subscriptions.objects.only("id", "secret").iterator():
        subscription.secret = PREFIX + base64.b64encode(subscription.secret.encode()).decode()
        subscription.save(update_fields=["secret"])
    deliveries = apps.get_model("resale", "WebhookDelivery")
    unsent = deliveries.objects.exclude(status="succeeded").filter(payload__has_key="occurred_at")
    for delivery in unsent.only("id", "payload").iterator():
        old = delivery.payload
        delivery.payload = {"type": old["type"], "timestamp": old["occurred_at"], "data": old["data"]}
        delivery.save(update_fields=["payload"])


def backward(apps, schema_editor):
    subscriptions = apps.get_model("resale", "WebhookSubscription")
    for subscription in subscriptions.objects.only("id", "secret").iterator():
        subscription.secret = base64.b64decode(subscription.secret.removeprefix(PREFIX)).decode()
        subscription.save(update_fields=["secret"])


class Migration(migrations.Migration):
    dependencies = [("resale", "0003_search_row_level_security")]

    operations = [
        migrations.AddField(
            model_name="webhookdelivery",
            name="claim_token",
            field=models.CharField(blank=True, max_length=32),
        ),
        migrations.AddField(
            model_name="webhookdelivery",
            name="claimed_until",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(forward, backward),
    ]
