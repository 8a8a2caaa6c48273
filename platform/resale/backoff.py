"""Exponential backoff, the one way this codebase spaces retries and idle reads.

``backoff_delay`` is full jitter (AWS Architecture Blog, "Exponential Backoff and Jitter"):
uniform between 0 and ``min(cap, base * 2**attempt)``, so contending writers spread out instead
of colliding again in step. ``backoff_ceiling`` is that bound alone, for a schedule that must be
predictable (the stream consumer's idle polling). No Django here: the Lambda's archive runs it.
"""

import random

_MAX_EXPONENT = 32
"""Past this the ceiling is the cap for any sensible base, and ``2**attempt`` stays small."""


def backoff_ceiling(attempt: int, *, base: float, cap: float) -> float:
    """``min(cap, base * 2**attempt)``."""
    return min(cap, base * 2 ** min(max(attempt, 0), _MAX_EXPONENT))


def backoff_delay(attempt: int, *, base: float, cap: float, floor: float = 0.0) -> float:
    """A full-jitter delay before retry ``attempt``: uniform in [0, ceiling], at least ``floor``."""
    return max(floor, random.uniform(0, backoff_ceiling(attempt, base=base, cap=cap)))
