"""The hash chain: canonical JSON of an event's content, and its SHA-256 over the previous hash.

Canonical JSON here is ``json.dumps`` with sorted keys, no insignificant whitespace and UTF-8
kept as is (RFC 8785 in spirit: our values are strings, integers and nulls only, so number
formatting never varies). Each event's hash covers every stored field but the hash itself,
including ``prev_hash`` and ``seq``: altering, removing, reordering or inserting an event breaks
the chain from that event on.
"""

import hashlib
import json
from typing import Any

GENESIS_HASH = "0" * 64

HASHED_FIELDS = (
    "seq",
    "event",
    "entity_type",
    "entity_id",
    "old",
    "new",
    "actor",
    "at",
    "source",
    "stream_sequence",
    "recorded_at",
    "prev_hash",
)


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def event_hash(content: dict[str, Any]) -> str:
    """The hash of one event from its fields (``HASHED_FIELDS``; missing ones count as null)."""
    hashed = {name: content.get(name) for name in HASHED_FIELDS}
    return hashlib.sha256(canonical_json(hashed).encode("utf-8")).hexdigest()
