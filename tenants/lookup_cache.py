"""Cached registry lookups by name (an API key, a tenant slug), with a bounded memory of misses.

A name that exists is cached for ``ttl`` seconds; there are only as many of those as the
registry holds. A name that does not exist is remembered for as long, so repeating it costs no
query, but in an LRU of ``max_missing`` entries: a flood of made-up names, each new, costs one
query each and evicts only other made-up names, never a real tenant's entry, and memory stays
bounded.
"""

import time
from collections.abc import Callable
from threading import Lock
from typing import Generic, TypeVar

from cachetools import LRUCache

V = TypeVar("V")


class LookupCache(Generic[V]):
    def __init__(self, *, ttl: Callable[[], float], max_missing: int) -> None:
        self._ttl = ttl
        self._found: dict[str, tuple[float, V]] = {}
        self._missing: LRUCache[str, float] = LRUCache(maxsize=max_missing)
        self._lock = Lock()

    def get(self, name: str) -> tuple[bool, V | None]:
        """``(True, value)`` for a fresh entry (``value`` None: known missing), else ``(False, None)``."""
        now = time.monotonic()
        found = self._found.get(name)
        if found is not None and found[0] > now:
            return True, found[1]
        with self._lock:
            missing_until = self._missing.get(name)
        if missing_until is not None and missing_until > now:
            return True, None
        return False, None

    def put(self, name: str, value: V | None) -> None:
        expires = time.monotonic() + self._ttl()
        with self._lock:
            if value is None:
                self._found.pop(name, None)
                self._missing[name] = expires
            else:
                self._missing.pop(name, None)
                self._found[name] = (expires, value)

    def missing_count(self) -> int:
        return len(self._missing)

    def clear(self) -> None:
        with self._lock:
            self._found.clear()
            self._missing.clear()
