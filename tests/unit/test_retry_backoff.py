"""The one backoff every retry loop uses (services/core/retry.py)."""

from services.core.retry import backoff


def test_the_delay_doubles_up_to_its_cap_and_jitters_within_its_floor() -> None:
    assert [backoff(n, 0.1, 30.0, rand=lambda: 1.0) for n in (1, 2, 3)] == [0.1, 0.2, 0.4]
    assert backoff(12, 0.1, 30.0, rand=lambda: 1.0) == 30.0
    assert backoff(10_000, 0.1, 30.0, rand=lambda: 1.0) == 30.0, "no overflow, the cap"
    assert backoff(3, 0.1, 30.0, rand=lambda: 0.0) == 0.0, "full jitter by default"
    assert backoff(3, 0.1, 30.0, floor=0.5, rand=lambda: 0.0) == 0.2
