"""The one backoff helper: a ceiling that doubles up to its cap, and full jitter under it."""

from resale.backoff import backoff_ceiling, backoff_delay


def test_the_ceiling_doubles_with_each_attempt_up_to_the_cap_and_survives_huge_attempts():
    assert [backoff_ceiling(attempt, base=0.1, cap=1.0) for attempt in range(6)] == [
        0.1,
        0.2,
        0.4,
        0.8,
        1.0,
        1.0,
    ]
    assert backoff_ceiling(10_000, base=0.1, cap=60) == 60


def test_a_delay_is_spread_over_zero_to_the_ceiling_and_never_under_its_floor():
    delays = [backoff_delay(4, base=1, cap=60, floor=0.5) for _ in range(500)]
    assert all(0.5 <= delay <= 16 for delay in delays)
    assert max(delays) > 12 and len(set(delays)) > 400
