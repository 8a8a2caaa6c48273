"""A shard whose lease this consumer holds: where its reading stands and when to read it next.

An idle shard is read after a delay that doubles with each empty read, up to a cap, and at once
again after records or a wake (a write to its tenant, ``resale.streams.wake``). While the wake
notes are read the cap is ``idle_backoff_max_wakeable_seconds``: a write wakes the shard, so the
cap bounds only the lag of changes nobody notes (TTL expiries, a writer killed before its flush).
Otherwise it is ``idle_backoff_max_seconds``, the lag bound of any write.
"""

from dataclasses import dataclass

from resale.backoff import backoff_ceiling
from resale.streams.options import ConsumerOptions


@dataclass
class OwnedShard:
    row_id: int
    tenant_slug: str
    table_role: str
    stream_arn: str
    shard_id: str
    checkpoint: str
    iterator: str | None = None
    next_poll_at: float = 0.0
    idle_polls: int = 0
    lag_seconds: float = 0.0
    failures: int = 0

    def polled(self, *, worked: bool, now: float, options: ConsumerOptions, wakeable: bool) -> None:
        """Schedules the next read: at once after records, later after each empty read; ``wakeable``
        when the consumer reads the wake notes."""
        if worked:
            self.idle_polls, self.next_poll_at = 0, 0.0
            return
        self.idle_polls += 1
        cap = options.idle_backoff_max_wakeable_seconds if wakeable else options.idle_backoff_max_seconds
        self.next_poll_at = now + backoff_ceiling(self.idle_polls, base=options.idle_seconds, cap=cap)

    def read_by(self, moment: float) -> None:
        """Brings the next read forward to ``moment`` if it was later."""
        self.next_poll_at = min(self.next_poll_at, moment)

    def wake(self) -> None:
        self.idle_polls, self.next_poll_at = 0, 0.0
