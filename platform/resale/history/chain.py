"""The hash chain's format, shared with the standalone verifier auditors run (``verify_history``).

Chain version 2 (the version every append writes): an event's ``hash`` is the lowercase hex SHA-256 of
the RFC 8785 (JCS) serialisation of the event exactly as the audit API returns it, without its
``hash`` member; ``old`` and ``new`` are stored as their RFC 8785 text, so what the API parses
back is what was hashed. Version 1 events (no ``chain_version`` stored) keep their original
hash, which ``verify_history.event_hash`` still recomputes, so existing histories verify.

RFC 8785 serialises numbers as IEEE 754 doubles: an integer past 2**53 would change on the way,
so ``hashable`` turns such integers into decimal strings before anything is stored or hashed.
"""

from typing import Any

from resale.history.verify_history import CHAIN_VERSION, GENESIS_HASH, canonical_bytes, event_hash

__all__ = ["CHAIN_VERSION", "GENESIS_HASH", "canonical_json", "event_hash", "hashable"]

_SAFE_INTEGER = 2**53 - 1


def hashable(value: Any) -> Any:
    """A JSON value that RFC 8785 serialises exactly: unsafe integers become decimal strings."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if -_SAFE_INTEGER <= value <= _SAFE_INTEGER else str(value)
    if isinstance(value, dict):
        return {str(key): hashable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [hashable(item) for item in value]
    return value


def canonical_json(value: Any) -> str:
    return canonical_bytes(value).decode("utf-8")
