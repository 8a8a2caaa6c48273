"""Opaque, signed pagination cursors, and the page of results they continue.

Every paged read (the API's and the console's alike: listings, history, checkpoints, dead
letters, search) hands out its cursors through here. A cursor carries the position to resume
from (a DynamoDB LastEvaluatedKey, a history seq, a search offset), signed (HMAC, Django's
signing with SECRET_KEY) with a salt made of the tenant and the query it continues, so a cursor
from another tenant or another query fails its signature and is refused with 400, and no client
can forge a start key into someone else's partition.
"""

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.core import signing

from resale.errors import InvalidCursor

CURSOR_MAX_AGE_SECONDS = 24 * 3600


@dataclass(frozen=True)
class Page:
    """One page of a paged read, and the cursor of the next page (None at the end)."""

    items: list
    next_cursor: str | None


def _salt(tenant_slug: str, query: dict[str, Any]) -> str:
    fingerprint = hashlib.sha256(json.dumps(query, sort_keys=True, default=str).encode()).hexdigest()
    return f"resale.cursor:{tenant_slug}:{fingerprint}"


def cursor_encode(*, tenant_slug: str, query: dict[str, Any], position: dict | None) -> str | None:
    """The cursor resuming ``query`` at ``position``; None when there is no position (the end)."""
    if not position:
        return None
    return signing.dumps(position, salt=_salt(tenant_slug, query), compress=True)


def cursor_decode(*, tenant_slug: str, query: dict[str, Any], cursor: str | None) -> dict | None:
    """The position a cursor of this tenant's ``query`` resumes at; None for no cursor."""
    if not cursor:
        return None
    try:
        position = signing.loads(cursor, salt=_salt(tenant_slug, query), max_age=CURSOR_MAX_AGE_SECONDS)
    except signing.BadSignature as exc:
        raise InvalidCursor() from exc
    if not isinstance(position, dict):
        raise InvalidCursor()
    return position


def seq_cursor_encode(*, tenant_slug: str, query: dict[str, Any], seq: int | None) -> str | None:
    """The cursor resuming ``query`` after (or, newest first, before) the history seq ``seq``."""
    return None if seq is None else cursor_encode(tenant_slug=tenant_slug, query=query, position={"seq": seq})


def seq_cursor_decode(*, tenant_slug: str, query: dict[str, Any], cursor: str | None) -> int | None:
    """The seq a cursor from ``seq_cursor_encode`` resumes at; None for no cursor."""
    position = cursor_decode(tenant_slug=tenant_slug, query=query, cursor=cursor)
    if position is None:
        return None
    seq = position.get("seq")
    if not isinstance(seq, int) or seq < 0:
        raise InvalidCursor()
    return seq
