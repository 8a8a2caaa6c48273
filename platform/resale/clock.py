from datetime import UTC, datetime


def utc_now() -> str:
    """Now as RFC 3339 UTC with microseconds: sorts as text, so it can be a range key."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
