"""Opaque, signed pagination cursors over DynamoDB's LastEvaluatedKey.

A cursor is signed (HMAC, Django's signing with SECRET_KEY) with a salt made of the tenant and
the query it continues, so a cursor from another tenant or another query fails its signature
and is refused with 400, and no client can forge a start key into someone else's partition.
"""

import hashlib
import json
from typing import Any

from django.core import signing

from resale.errors import InvalidCursor

CURSOR_MAX_AGE_SECONDS = 24 * 3600


def _salt(tenant_slug: str, query: dict[str, Any]) -> str:
    fingerprint = hashlib.sha256(json.dumps(query, sort_keys=True, default=str).encode()).hexdigest()
    return f"resale.cursor:{tenant_slug}:{fingerprint}"


def cursor_encode(*, tenant_slug: str, query: dict[str, Any], last_evaluated_key: dict | None) -> str | None:
    if not last_evaluated_key:
        return None
    return signing.dumps(last_evaluated_key, salt=_salt(tenant_slug, query), compress=True)


def cursor_decode(*, tenant_slug: str, query: dict[str, Any], cursor: str | None) -> dict | None:
    if not cursor:
        return None
    try:
        key = signing.loads(cursor, salt=_salt(tenant_slug, query), max_age=CURSOR_MAX_AGE_SECONDS)
    except signing.BadSignature as exc:
        raise InvalidCursor() from exc
    if not isinstance(key, dict):
        raise InvalidCursor()
    return key
