"""What the history never keeps: payment secrets and the personal details of a shipping address.

Redaction happens before an image is hashed and stored, so the audited history never held the
value (auditors see that a field existed and changed, not what it was). The country of a
shipping address stays: it is what tax and compliance audits ask about.
"""

from typing import Any

REDACTED = "[redacted]"

SENSITIVE_FIELDS = frozenset(
    {
        "payment_token",
        "payment_token_fingerprint",
        "card_number",
        "card_fingerprint",
        "cvv",
        "cvc",
        "iban",
        "account_number",
        "ip",
        "ip_address",
    }
)
ADDRESS_FIELDS = frozenset({"shipping_address", "billing_address"})
ADDRESS_KEPT_FIELDS = frozenset({"country"})


def _redact_address(address: Any) -> Any:
    if not isinstance(address, dict):
        return REDACTED
    return {key: value if key in ADDRESS_KEPT_FIELDS else REDACTED for key, value in address.items()}


def redact(value: Any) -> Any:
    """A copy of an item image with every sensitive field, at any depth, replaced by a marker."""
    if isinstance(value, dict):
        redacted = {}
        for key, item in value.items():
            if key in SENSITIVE_FIELDS and item is not None:
                redacted[key] = REDACTED
            elif key in ADDRESS_FIELDS and item is not None:
                redacted[key] = _redact_address(item)
            else:
                redacted[key] = redact(item)
        return redacted
    if isinstance(value, list):
        return [redact(item) for item in value]
    return value
