"""When to try an Alma call again, and how long to wait first.

Design decision: a retry is allowed only when repeating the call cannot do something twice:
GET, and PUT of a full record (swap-all, so idempotent), or a call the caller marks idempotent.
POST and DELETE are not retried by default even after a timeout, because Alma may have done the
work before the connection dropped. The exception is PER_SECOND_THRESHOLD: Alma's gateway
refuses the call before anything runs (reference/alma-api.md), so any method is tried again
after it. DAILY_THRESHOLD is never retried: the day's budget is gone.
Delays use "full jitter" (a random share of a capped exponential) so threads do not retry in step.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from reconciler.errors import AlmaApiError, AlmaDailyLimitError, AlmaPerSecondLimitError

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT"})


def is_idempotent(method: str) -> bool:
    """Whether repeating a call with this method leaves Alma as one call would."""
    return method.upper() in IDEMPOTENT_METHODS


@dataclass(frozen=True)
class RetryPolicy:
    """At most `max_attempts` tries; waits random(0, min(cap, base * 2^(n-1))) seconds."""

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)
    # A fraction in [0, 1) for full jitter; jitter is not a secret, so the standard PRNG fits.
    jitter: Callable[[], float] = field(default=random.random, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

    def should_retry(self, error: AlmaApiError, attempt: int, *, idempotent: bool) -> bool:
        """Whether to try again after `error` ended try number `attempt` (1-based)."""
        if attempt >= self.max_attempts or isinstance(error, AlmaDailyLimitError):
            return False
        if isinstance(error, AlmaPerSecondLimitError):
            return True  # refused at the gate, so nothing was done: safe for any method
        return error.retryable and idempotent

    def delay(self, attempt: int) -> float:
        """Seconds to wait after try number `attempt` failed (full jitter)."""
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))
        return self.jitter() * ceiling


NO_RETRY = RetryPolicy(max_attempts=1)
