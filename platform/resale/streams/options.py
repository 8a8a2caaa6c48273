"""The stream consumer's tunables, each from its setting unless given."""

from dataclasses import dataclass, field

from django.conf import settings


@dataclass
class ConsumerOptions:
    lease_seconds: float = field(default_factory=lambda: settings.STREAMS_LEASE_SECONDS)
    discovery_seconds: float = field(default_factory=lambda: settings.STREAMS_DISCOVERY_SECONDS)
    idle_seconds: float = field(default_factory=lambda: settings.STREAMS_POLL_IDLE_SECONDS)
    idle_backoff_max_seconds: float = field(default_factory=lambda: settings.STREAMS_IDLE_BACKOFF_MAX_SECONDS)
    idle_backoff_max_wakeable_seconds: float = field(
        default_factory=lambda: settings.STREAMS_IDLE_BACKOFF_MAX_WAKEABLE_SECONDS
    )
    rediscovery_seconds: float = field(default_factory=lambda: settings.STREAMS_REDISCOVERY_SECONDS)
    batch_limit: int = field(default_factory=lambda: settings.STREAMS_BATCH_LIMIT)
    max_batch_attempts: int = field(default_factory=lambda: settings.STREAMS_MAX_BATCH_ATTEMPTS)
