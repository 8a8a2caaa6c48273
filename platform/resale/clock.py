"""The one way times are written as text: RFC 3339 in UTC, and the compact stamp of file names."""

from datetime import UTC, datetime


def rfc3339(moment: datetime, *, fraction: bool = True) -> str:
    """RFC 3339 UTC (``Z``), with microseconds unless ``fraction`` is off: every stored time has
    the microseconds, so stored times sort and compare as text (and can be range keys)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ" if fraction else "%Y-%m-%dT%H:%M:%SZ")


def utc_now() -> str:
    """Now, as ``rfc3339`` writes it."""
    return rfc3339(datetime.now(UTC))


def file_stamp(moment: datetime | None = None) -> str:
    """A moment (default now) as ISO 8601 basic UTC to the second, for file names: ``20260301T120000Z``."""
    return (moment or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
