"""The payment provider: charges and refunds, both idempotent by a key the caller chooses.

The order workflow uses the order id as the charge key, so a charge retried after a timeout
or a killed worker returns the first charge instead of making a second one.
"""

from dataclasses import dataclass

from django.conf import settings

from resale.providers.client import ProviderRejected, provider_post


@dataclass(frozen=True)
class ChargeResult:
    approved: bool
    reference: str
    reason: str = ""


def payment_charge(*, charge_key: str, amount: str, currency: str, token: str) -> ChargeResult:
    try:
        body = provider_post(
            f"{settings.PAYMENT_PROVIDER_URL}/charges",
            {"idempotency_key": charge_key, "amount": amount, "currency": currency, "token": token},
        )
    except ProviderRejected as exc:
        return ChargeResult(approved=False, reference="", reason=str(exc.body.get("reason", "declined")))
    return ChargeResult(approved=True, reference=body["reference"])


def payment_refund(*, charge_key: str) -> str:
    """Refunds the charge made under ``charge_key``; 'none' when no charge was made."""
    body = provider_post(f"{settings.PAYMENT_PROVIDER_URL}/refunds", {"charge_key": charge_key})
    return body.get("reference") or "none"
