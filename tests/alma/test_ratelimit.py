"""The token bucket keeps the pace, shares it across threads, and backs off when Alma says so."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import pytest

from reconciler.alma.ratelimit import TokenBucket


@dataclass
class FakeClock:
    """A clock that only moves when someone sleeps on it."""

    now: float = 1000.0
    slept: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_by_default_calls_are_evenly_spaced_from_the_first() -> None:
    """At 20/s with the default burst of one, the first call passes, then one every 50 ms: no
    one-second window holds more than 21 calls, well under Alma's 25."""
    clock = FakeClock()
    bucket = TokenBucket(20, clock=clock, sleep=clock.sleep)
    waits = [bucket.acquire() for _ in range(8)]
    assert waits[0] == 0
    assert waits[1:] == pytest.approx([0.05] * 7)
    assert clock.now - 1000.0 == pytest.approx(0.35)


def test_a_given_burst_is_free_then_calls_are_spaced_at_the_rate() -> None:
    """At 20/s with a burst of 4, four calls pass at once, then one every 50 ms."""
    clock = FakeClock()
    bucket = TokenBucket(20, burst=4, clock=clock, sleep=clock.sleep)
    waits = [bucket.acquire() for _ in range(8)]
    assert waits[:4] == [0, 0, 0, 0]
    assert waits[4:] == pytest.approx([0.05] * 4)
    assert clock.now - 1000.0 == pytest.approx(0.2)


def test_sustained_rate_matches_the_setting() -> None:
    """200 calls at 20/s take about ten seconds of (fake) time, the first call aside."""
    clock = FakeClock()
    bucket = TokenBucket(20, clock=clock, sleep=clock.sleep)
    for _ in range(200):
        bucket.acquire()
    assert clock.now - 1000.0 == pytest.approx((200 - 1) / 20)
    stats = bucket.stats()
    assert stats.acquired == 200
    assert stats.waited_seconds == pytest.approx((200 - 1) / 20)


def test_idle_time_refills_only_up_to_the_burst() -> None:
    """A long pause does not bank more than one burst of calls."""
    clock = FakeClock()
    bucket = TokenBucket(20, burst=4, clock=clock, sleep=clock.sleep)
    clock.now += 60
    waits = [bucket.acquire() for _ in range(5)]
    assert waits[:4] == [0, 0, 0, 0]
    assert waits[4] == pytest.approx(0.05)


def test_slow_down_halves_the_rate_and_recovers_gradually() -> None:
    """PER_SECOND_THRESHOLD halves the rate; quiet intervals bring it back by steps."""
    clock = FakeClock()
    bucket = TokenBucket(
        20, clock=clock, sleep=clock.sleep, recovery_interval=5.0, slowdown_cooldown=1.0
    )
    bucket.slow_down()
    assert bucket.rate == 10
    clock.now += 1
    bucket.slow_down()
    assert bucket.rate == 5
    clock.now += 5
    assert bucket.rate == pytest.approx(6.25)
    clock.now += 10
    assert bucket.rate == pytest.approx(6.25 * 1.25 * 1.25)
    clock.now += 60
    assert bucket.rate == 20
    assert bucket.stats().slowdowns == 2


def test_slow_down_never_goes_below_the_minimum() -> None:
    """Repeated 429s floor the rate at min_rate instead of stopping."""
    clock = FakeClock()
    bucket = TokenBucket(20, min_rate=2, clock=clock, sleep=clock.sleep, recovery_interval=100)
    for _ in range(10):
        bucket.slow_down()
        clock.now += 1
    assert bucket.rate == 2


def test_default_floor_is_an_eighth_of_the_rate() -> None:
    """Without an explicit minimum, the rate never drops below nominal / 8."""
    clock = FakeClock()
    bucket = TokenBucket(20, clock=clock, sleep=clock.sleep, recovery_interval=100)
    for _ in range(10):
        bucket.slow_down()
        clock.now += 1
    assert bucket.rate == 2.5


def test_a_burst_of_429s_counts_as_one_slow_down() -> None:
    """429s from calls already in flight (within the cooldown) halve the rate only once."""
    clock = FakeClock()
    bucket = TokenBucket(20, clock=clock, sleep=clock.sleep, slowdown_cooldown=1.0)
    for _ in range(5):
        bucket.slow_down()
        clock.now += 0.1
    assert bucket.rate == 10
    assert bucket.stats().slowdowns == 1


def test_slowed_bucket_spaces_calls_at_the_lower_rate() -> None:
    """After a slow-down, calls come at the halved rate."""
    clock = FakeClock()
    bucket = TokenBucket(20, clock=clock, sleep=clock.sleep, recovery_interval=1000)
    bucket.slow_down()
    waits = [bucket.acquire() for _ in range(3)]
    assert waits == pytest.approx([0.1, 0.1, 0.1])


def test_invalid_rate_is_refused() -> None:
    """A zero or negative rate makes no sense."""
    with pytest.raises(ValueError, match="positive"):
        TokenBucket(0)


def test_real_threads_share_one_rate() -> None:
    """Eight threads over 0.5 s at 40/s get about 20 calls + the burst, not 8 times that."""
    bucket = TokenBucket(40, burst=2)
    counts = [0] * 8
    stop = time.monotonic() + 0.5

    def worker(index: int) -> None:
        while True:
            bucket.acquire()
            if time.monotonic() >= stop:
                return
            counts[index] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=5)
    total = sum(counts)
    # Expected about 0.5 * 40 + 2 = 22; wide bounds keep a busy CI machine from flaking.
    assert 8 <= total <= 30
