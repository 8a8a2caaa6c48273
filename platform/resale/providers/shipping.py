"""The shipping provider: one shipment per key (the order id), however often it is asked."""

from typing import Any

from django.conf import settings

from resale.providers.client import provider_post


def shipment_create(*, shipment_key: str, address: dict[str, Any]) -> str:
    body = provider_post(
        f"{settings.SHIPPING_PROVIDER_URL}/shipments", {"idempotency_key": shipment_key, "address": address}
    )
    return body["reference"]
