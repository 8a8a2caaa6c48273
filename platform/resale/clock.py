from datetime import UTC, datetime


def utc_now() -> str:
    """Now as RFC 3339 UTC with microseconds: sorts as text, so it can be a range key."""
    return utc_text(datetime.now(UTC))


def utc_text(moment: datetime) -> str:
    """A moment in the same text form as ``utc_now``, to compare against stored times."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
