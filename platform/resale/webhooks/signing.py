"""Signing webhook deliveries, and the check a receiver runs (HMAC-SHA256 over ``timestamp.body``).

Headers sent: ``Webhook-Id`` (the delivery id, stable across retries, for de-duplication),
``Webhook-Timestamp`` (Unix seconds) and ``Webhook-Signature: v1=<hex>``. The timestamp is
inside the signed string, so a receiver that rejects timestamps older than a few minutes
rejects replays of a captured request.
"""

import hashlib
import hmac
import time

SIGNATURE_SCHEME = "v1"


class SignatureInvalid(Exception):
    pass


def webhook_signature(*, secret: str, timestamp: int, body: bytes) -> str:
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_SCHEME}={digest}"


def webhook_signature_verify(
    *, secret: str, timestamp: str, body: bytes, signature: str, tolerance_seconds: int = 300, now=None
) -> None:
    """Raises ``SignatureInvalid`` unless the signature matches and the timestamp is recent."""
    try:
        sent_at = int(timestamp)
    except (TypeError, ValueError) as exc:
        raise SignatureInvalid("bad timestamp") from exc
    current = int(now if now is not None else time.time())
    if abs(current - sent_at) > tolerance_seconds:
        raise SignatureInvalid("timestamp outside the tolerance: a replay or a skewed clock")
    expected = webhook_signature(secret=secret, timestamp=sent_at, body=body)
    if not hmac.compare_digest(expected, signature or ""):
        raise SignatureInvalid("signature does not match")
