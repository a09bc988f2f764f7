"""Governance thresholds, injected faults and the request log.

Alma's thresholds are per institution: a sliding one-second window (429 PER_SECOND_THRESHOLD)
and a daily allowance (429 DAILY_THRESHOLD, with `X-Exl-Api-Remaining` on every 200). Faults
are drawn from one seeded `random.Random`, so a failing test can be replayed.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import Enum
from typing import Any


@dataclass(frozen=True)
class FaultConfig:
    """Fault knobs, each a probability per request (0.0 = never, 1.0 = always).

    `burst_429_rate` starts a burst: that request and the next `burst_length - 1` requests of
    the same institution answer 429 PER_SECOND_THRESHOLD, as a real throttle does.

    `drop_rate` closes the connection before the request is carried out; `lost_answer_rate`
    carries it out and then closes the connection, so the client cannot tell whether a POST
    happened (the harsher case a real network gives).

    The list quirks apply to `GET /users` pages, as reported of real Alma: `short_page_rate`
    drops 1-3 records from a page while the total still promises them; `wrong_total_rate`
    reports a `total_record_count` off by 1-3 either way; `unknown_total_rate` reports -1.
    """

    error_5xx_rate: float = 0.0
    burst_429_rate: float = 0.0
    burst_length: int = 3
    drop_rate: float = 0.0
    lost_answer_rate: float = 0.0
    slow_rate: float = 0.0
    slow_ms: int = 1500
    short_page_rate: float = 0.0
    wrong_total_rate: float = 0.0
    unknown_total_rate: float = 0.0
    seed: int = 0

    @classmethod
    def from_spec(cls, spec: str) -> FaultConfig:
        """Parse `5xx=0.1,429=0.05,drop=0.02,lost=0.01,slow=0.1,slow_ms=800,burst=3,seed=7`."""
        names = {
            "5xx": "error_5xx_rate",
            "429": "burst_429_rate",
            "drop": "drop_rate",
            "lost": "lost_answer_rate",
            "slow": "slow_rate",
            "slow_ms": "slow_ms",
            "burst": "burst_length",
            "short": "short_page_rate",
            "wrong_total": "wrong_total_rate",
            "unknown_total": "unknown_total_rate",
            "seed": "seed",
        }
        values: dict[str, Any] = {}  # float rates, int counts: checked by the names above
        for part in filter(None, (p.strip() for p in spec.split(","))):
            key, sep, raw = part.partition("=")
            if not sep or key.strip() not in names:
                raise ValueError(f"unknown fault setting {part!r}; use {', '.join(names)}")
            field_name = names[key.strip()]
            number = float(raw)
            values[field_name] = number if field_name.endswith("rate") else int(number)
        return replace(cls(), **values)


class Fault(Enum):
    NONE = "none"
    ERROR_5XX = "5xx"
    THROTTLED = "429"
    DROP = "drop"
    LOST_ANSWER = "lost"


class FaultInjector:
    """Decides, per request, which fault (if any) to inject; thread-safe."""

    def __init__(self, config: FaultConfig) -> None:
        self.config = config
        self._rng = random.Random(config.seed)  # noqa: S311 - simulation, not security
        self._lock = threading.Lock()
        self._bursts: dict[str, int] = {}

    def draw(self, institution: str) -> tuple[Fault, float]:
        """The fault for this request and any extra delay in seconds (slow responses)."""
        cfg = self.config
        with self._lock:
            delay = cfg.slow_ms / 1000 if self._hit(cfg.slow_rate) else 0.0
            left = self._bursts.get(institution, 0)
            if left > 0:
                self._bursts[institution] = left - 1
                return Fault.THROTTLED, delay
            if self._hit(cfg.drop_rate):
                return Fault.DROP, delay
            if self._hit(cfg.lost_answer_rate):
                return Fault.LOST_ANSWER, delay
            if self._hit(cfg.error_5xx_rate):
                return Fault.ERROR_5XX, delay
            if self._hit(cfg.burst_429_rate):
                self._bursts[institution] = max(cfg.burst_length - 1, 0)
                return Fault.THROTTLED, delay
        return Fault.NONE, delay

    def dropped_from_page(self, size: int) -> frozenset[int]:
        """Positions of a list page to leave out (a short page), usually none."""
        with self._lock:
            if size == 0 or not self._hit(self.config.short_page_rate):
                return frozenset()
            return frozenset(self._rng.sample(range(size), min(size, self._rng.randint(1, 3))))

    def reported_total(self, count: int) -> int:
        """The total_record_count to report for `count` matches: usually `count` itself."""
        with self._lock:
            if self._hit(self.config.unknown_total_rate):
                return -1
            if self._hit(self.config.wrong_total_rate):
                return max(0, count + self._rng.choice((-3, -2, -1, 1, 2, 3)))
            return count

    def _hit(self, rate: float) -> bool:
        return rate > 0 and self._rng.random() < rate


class PerSecondLimiter:
    """A sliding one-second window of accepted requests per institution."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._windows: dict[str, deque[float]] = {}

    def allow(self, institution: str) -> bool:
        now = time.monotonic()
        with self._lock:
            window = self._windows.setdefault(institution, deque())
            while window and now - window[0] >= 1.0:
                window.popleft()
            if len(window) >= self.limit:
                return False
            window.append(now)
            return True


def utc_day() -> str:
    return datetime.now(UTC).date().isoformat()


class DailyQuota:
    """Calls left today (UTC) per institution; every answered call counts, as in Alma."""

    def __init__(self, limit: int, day: str, used: dict[str, int] | None = None) -> None:
        self.limit = limit
        self.day = day
        self._lock = threading.Lock()
        self._used: dict[str, int] = dict(used or {})

    def take(self, institution: str) -> int | None:
        """Count one call; the calls left afterwards, or None when the allowance is spent."""
        with self._lock:
            if (today := utc_day()) != self.day:  # a server left running: a new day, a new quota
                self.day, self._used = today, {}
            used = self._used.get(institution, 0)
            if used >= self.limit:
                return None
            self._used[institution] = used + 1
            return self.limit - used - 1

    def used(self) -> tuple[str, dict[str, int]]:
        with self._lock:
            return self.day, dict(self._used)


@dataclass(frozen=True)
class LoggedRequest:
    """One request as the log keeps it: no query string, so no key and no patron id."""

    institution: str
    method: str
    template: str
    status: int


class RequestLog:
    """Every request the sandbox answered (or dropped: status 0), with counts."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[LoggedRequest] = []

    def add(self, entry: LoggedRequest) -> None:
        with self._lock:
            self._entries.append(entry)

    @property
    def entries(self) -> tuple[LoggedRequest, ...]:
        with self._lock:
            return tuple(self._entries)

    def counts(self) -> Counter[tuple[str, str, int]]:
        """(method, path template, status) → number of requests."""
        with self._lock:
            return Counter((e.method, e.template, e.status) for e in self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
