"""Payment tokens: never stored or logged in clear.

The order keeps a keyed fingerprint (HMAC-SHA256) to compare requests by, and, only until the
charge is made, the token sealed with Fernet (AES + HMAC) under a key derived from
``PAYMENT_TOKEN_SECRET``; the charge step removes the sealed token in the same write that
records the payment.
"""

import base64
import hashlib
import hmac
from functools import cache

from cryptography.fernet import Fernet
from django.conf import settings


def _key(purpose: str) -> bytes:
    return hashlib.sha256(f"{purpose}:{settings.PAYMENT_TOKEN_SECRET}".encode()).digest()


def payment_token_fingerprint(token: str) -> str:
    return hmac.new(_key("resale.payment-token.fingerprint"), token.encode(), hashlib.sha256).hexdigest()


@cache
def _fernet(secret: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_key("resale.payment-token.seal")))


def payment_token_seal(token: str) -> str:
    return _fernet(settings.PAYMENT_TOKEN_SECRET).encrypt(token.encode()).decode()


def payment_token_unseal(sealed: str) -> str:
    return _fernet(settings.PAYMENT_TOKEN_SECRET).decrypt(sealed.encode()).decode()
