"""Wake on write: the stream consumer polls an idle tenant's shards rarely, and at once after a write.

Every write to a tenant's tables leaves through the tenant's connection (``resale.binding``),
which notes the tenant here. Noted tenants gather in the process and go to Redis at most once
per ``STREAMS_WAKE_FLUSH_SECONDS`` (one ``ZADD`` of every tenant written since), so a write costs
a set insertion, not a round trip. The consumer reads the tenants woken since its last look with
one ``ZRANGEBYSCORE`` per round and polls their shards in that round.

Best effort by design: with Redis away the notes are kept for the next flush, and a consumer that
cannot read them goes back to its shorter backoff cap (``STREAMS_IDLE_BACKOFF_MAX_SECONDS``),
which bounds the lag of a write nobody noted.
"""

import logging
import time
from functools import cache
from threading import Lock, Timer

import redis
from django.conf import settings

logger = logging.getLogger(__name__)

WAKE_KEY = "resale:streams:wake"
WOKEN_KEEP_SECONDS = 600.0
"""Entries older than this are trimmed at each flush: the sorted set holds at most the tenants
written in the last ten minutes."""


@cache
def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=0.5, socket_connect_timeout=0.5)


class WakeNotes:
    """Tenants written in this process since the last flush."""

    def __init__(self) -> None:
        self._noted: set[str] = set()
        self._notes_lock = Lock()
        self._lock = Lock()
        self._next_flush = 0.0
        self._timer: Timer | None = None

    def note(self, tenant_slug: str) -> None:
        with self._notes_lock:
            self._noted.add(tenant_slug)
            wait = self._next_flush - time.monotonic()
            if wait > 0:
                # The last write of a burst must not wait for a next write to be flushed.
                if self._timer is None:
                    self._timer = Timer(wait, self.flush)
                    self._timer.daemon = True
                    self._timer.start()
                return
        self.flush()

    def flush(self) -> None:
        if not self._lock.acquire(blocking=False):
            return  # another thread is flushing; this note goes with the next one
        try:
            self._next_flush = time.monotonic() + settings.STREAMS_WAKE_FLUSH_SECONDS
            with self._notes_lock:
                with_notes, self._noted = self._noted, set()
                self._timer = None
            if not with_notes:
                return
            now = time.time()
            try:
                pipeline = _redis().pipeline(transaction=False)
                pipeline.zadd(WAKE_KEY, dict.fromkeys(with_notes, now))
                pipeline.zremrangebyscore(WAKE_KEY, "-inf", now - WOKEN_KEEP_SECONDS)
                pipeline.execute()
            except redis.RedisError as exc:
                with self._notes_lock:
                    self._noted |= with_notes
                logger.warning("stream wake notes kept for the next flush", extra={"error": str(exc)})
        finally:
            self._lock.release()


wake_notes = WakeNotes()


class WakeNotesUnreadable(Exception):
    """Redis did not answer: writes cannot be told from the notes until it does."""


def tenants_woken_since(moment: float) -> tuple[list[str], float]:
    """The tenants written after ``moment`` (a ``time.time()``), and the newest note's moment."""
    try:
        woken = _redis().zrangebyscore(WAKE_KEY, f"({moment}", "+inf", withscores=True)
    except redis.RedisError as exc:
        logger.warning("stream wake notes not readable", extra={"error": str(exc)})
        raise WakeNotesUnreadable(str(exc)) from exc
    if not woken:
        return [], moment
    return [slug.decode() for slug, _ in woken], max(score for _, score in woken)
