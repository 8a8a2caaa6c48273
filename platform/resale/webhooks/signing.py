"""Signing webhook deliveries by the Standard Webhooks specification, with its own library.

Headers sent: ``webhook-id`` (the delivery id, the same on every retry and redrive, so a
receiver drops duplicates), ``webhook-timestamp`` (Unix seconds of the attempt) and
``webhook-signature: v1,<base64 HMAC-SHA256 over "id.timestamp.body">``. The HMAC key is the
base64 part of the ``whsec_`` secret. The timestamp is inside the signed string, so a receiver
that rejects timestamps more than five minutes off (the library's ``Webhook.verify`` does)
rejects replays of a captured request.
"""

import base64
import secrets
from datetime import UTC, datetime

from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32


def webhook_secret_new() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def webhook_signed_headers(*, secret: str, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers for one attempt to send ``body``."""
    signature = Webhook(secret).sign(message_id, datetime.fromtimestamp(timestamp, tz=UTC), body.decode())
    return {"webhook-id": message_id, "webhook-timestamp": str(timestamp), "webhook-signature": signature}
