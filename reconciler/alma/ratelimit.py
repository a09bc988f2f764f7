"""A thread-safe token bucket that keeps one institution under Alma's per-second threshold.

Design decision: a caller reserves its token under the lock (the balance may go negative) and
sleeps *outside* it, so threads queue fairly in arrival order without holding the lock while they
wait. When Alma still answers PER_SECOND_THRESHOLD (the limit is shared with other tools using
the same institution), the rate halves at once and climbs back by a quarter per quiet interval.
Several 429s arriving together (calls that were already in flight) count as one slow-down.

Design decision, the default burst is one call: calls go out evenly spaced at 1/rate from the
first, so any one-second window sees at most rate + 1 calls (21 at 20/s) leaving the client.
What Alma counts is arrivals, and arrivals bunch: a thread that got its token late off the GIL,
a reused connection that was slower to open, a retry. With the earlier burst of a fifth of a
second (4 at 20/s, so 24 leaving in a window) that jitter touched Alma's 25 often enough for one
retried 429 in about one plan benchmark in three. A burst of one leaves 4 calls of headroom for
jitter and costs nothing that matters: the rate-limit bound of a run is calls / rate, which a
burst does not change, and a run is hundreds to thousands of calls, so a burst of 4 would
shorten it by 0.15 s at most. A caller that knows its allowance is not shared can pass `burst`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from reconciler.errors import UsageError

Clock = Callable[[], float]
Sleep = Callable[[float], None]


@dataclass(frozen=True)
class LimiterStats:
    """What the limiter did: tokens given, seconds waited (summed over threads), slow-downs
    (bursts of 429 count once) and the current rate."""

    acquired: int
    waited_seconds: float
    slowdowns: int
    current_rate: float


class TokenBucket:
    """At most `rate` calls per second on average, in bursts of at most `burst` calls."""

    def __init__(
        self,
        rate: float = 20.0,
        *,
        burst: float | None = None,
        min_rate: float | None = None,
        recovery_interval: float = 2.0,
        recovery_factor: float = 1.25,
        slowdown_cooldown: float = 1.0,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.nominal_rate = rate
        # One call: evenly spaced from the first (see the module docstring).
        self._burst = burst if burst is not None else 1.0
        # An eighth of the nominal rate: slow enough to let a shared allowance recover, fast
        # enough that one bad minute does not turn a ten-minute run into an hour.
        self._min_rate = min(rate, min_rate if min_rate is not None else max(1.0, rate / 8))
        self._slowdown_cooldown = slowdown_cooldown
        self._recovery_interval = recovery_interval
        self._recovery_factor = recovery_factor
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._rate = rate
        self._tokens = self._burst
        self._updated = clock()
        self._last_change = self._updated
        self._acquired = 0
        self._waited = 0.0
        self._slowdowns = 0
        self._last_slowdown = self._updated

    def acquire(self) -> float:
        """Take one token, sleeping until it is due; returns the seconds waited."""
        with self._lock:
            now = self._clock()
            self._refill(now)
            self._tokens -= 1.0
            wait = -self._tokens / self._rate if self._tokens < 0 else 0.0
            self._acquired += 1
            self._waited += wait
        if wait > 0:
            self._sleep(wait)
        return wait

    def slow_down(self) -> None:
        """Alma said PER_SECOND_THRESHOLD: halve the rate (not below `min_rate`) and drain."""
        with self._lock:
            now = self._clock()
            self._refill(now)
            if self._slowdowns and now - self._last_slowdown < self._slowdown_cooldown:
                return  # the same congestion, reported by calls already in flight
            self._last_slowdown = now
            self._rate = max(self._min_rate, self._rate / 2)
            # Empty the bucket so the next calls are spaced out rather than sent as a burst.
            self._tokens = min(self._tokens, 0.0)
            self._last_change = now
            self._slowdowns += 1

    @property
    def rate(self) -> float:
        with self._lock:
            self._refill(self._clock())
            return self._rate

    def stats(self) -> LimiterStats:
        with self._lock:
            return LimiterStats(self._acquired, self._waited, self._slowdowns, self._rate)

    def _refill(self, now: float) -> None:
        elapsed = max(0.0, now - self._updated)
        self._tokens = min(self._burst, self._tokens + elapsed * self._rate)
        self._updated = now
        # Climb back gradually: one step per quiet interval since the last change.
        while self._rate < self.nominal_rate and now - self._last_change >= self._recovery_interval:
            self._rate = min(self.nominal_rate, self._rate * self._recovery_factor)
            self._last_change += self._recovery_interval

    def __repr__(self) -> str:
        return f"TokenBucket(rate={self._rate:g}/s, nominal={self.nominal_rate:g}/s)"


CONSORTIUM_RATE_ENV = "ALMA_MAX_CALLS_PER_SECOND"


def consortium_limiter(env: Mapping[str, str]) -> TokenBucket | None:
    """One bucket shared by every institution's client, when `ALMA_MAX_CALLS_PER_SECOND` is set.

    For consortia whose Alma limits are shared: every call of every institution then takes a
    token from it as well as from its own institution's bucket. Unset: no shared cap.
    """
    raw = env.get(CONSORTIUM_RATE_ENV, "").strip()
    if not raw:
        return None
    try:
        rate = float(raw)
    except ValueError:
        rate = 0.0
    if not rate > 0 or rate == float("inf"):
        raise UsageError(
            f"{CONSORTIUM_RATE_ENV} must be a number of calls per second above 0, not {raw!r}"
        )
    return TokenBucket(rate)
