"""A per-run record of the Alma calls made: counts for reports and for the API budget.

`CallLedger` records as calls happen; `summary()` hands out a frozen `LedgerSummary`.

Design decision: calls are keyed by endpoint *template* (`GET /users/{user_id}`), never by the
real path, so the ledger can go into a PR comment or a job summary without a patron id in it.
There is one ledger per client (so per institution: the daily allowance is per institution),
guarded by a lock because the client runs calls on worker threads.
"""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

NETWORK_FAILURE = "network"  # the status recorded when no HTTP answer came back


@dataclass(frozen=True)
class LedgerSummary:
    """A snapshot of one ledger: calls by endpoint template and outcome, retries and waits.

    `limiter_wait_seconds` is summed over threads: eight workers each waiting one second
    count eight, which is the cost the limiter added to the work, not wall-clock time.
    """

    calls: int = 0
    by_endpoint: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    retries: int = 0
    retries_by_endpoint: Mapping[str, int] = field(default_factory=dict)
    throttled: int = 0
    limiter_wait_seconds: float = 0.0
    backoff_seconds: float = 0.0
    daily_calls_left: int | None = None

    def calls_to(self, endpoint: str) -> int:
        """Calls to one endpoint template, whatever their outcome."""
        return sum(self.by_endpoint.get(endpoint, {}).values())

    def to_json(self) -> dict[str, Any]:
        """JSON-ready and sorted, so that reports and their diffs are stable."""
        return {
            "calls": self.calls,
            "by_endpoint": {
                endpoint: dict(sorted(outcomes.items()))
                for endpoint, outcomes in sorted(self.by_endpoint.items())
            },
            "retries": self.retries,
            "retries_by_endpoint": dict(sorted(self.retries_by_endpoint.items())),
            "throttled": self.throttled,
            "limiter_wait_seconds": self.limiter_wait_seconds,
            "backoff_seconds": self.backoff_seconds,
            "daily_calls_left": self.daily_calls_left,
        }


class CallLedger:
    """Counts calls by endpoint and outcome, retries, waits and the daily calls left."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self._retries: Counter[str] = Counter()
        self._limiter_wait = 0.0
        self._backoff = 0.0
        self._throttled = 0
        self._daily_calls_left: int | None = None

    def record_call(self, endpoint: str, outcome: int | str) -> None:
        """One try of `endpoint` ("GET /users/{user_id}") ended with HTTP `outcome`."""
        with self._lock:
            self._calls[endpoint][str(outcome)] += 1

    def record_retry(self, endpoint: str) -> None:
        with self._lock:
            self._retries[endpoint] += 1

    def record_limiter_wait(self, seconds: float) -> None:
        """Time a call spent waiting for the rate limiter."""
        if seconds > 0:
            with self._lock:
                self._limiter_wait += seconds

    def record_backoff(self, seconds: float) -> None:
        """Time spent sleeping before a retry."""
        if seconds > 0:
            with self._lock:
                self._backoff += seconds

    def record_throttled(self) -> None:
        """Alma answered PER_SECOND_THRESHOLD despite the limiter."""
        with self._lock:
            self._throttled += 1

    def record_daily_calls_left(self, remaining: int) -> None:
        """The latest `X-Exl-Api-Remaining` seen."""
        with self._lock:
            self._daily_calls_left = remaining

    @property
    def daily_calls_left(self) -> int | None:
        with self._lock:
            return self._daily_calls_left

    @property
    def total_calls(self) -> int:
        with self._lock:
            return sum(sum(outcomes.values()) for outcomes in self._calls.values())

    def calls_to(self, endpoint: str) -> dict[str, int]:
        """Outcome → count for one endpoint template."""
        with self._lock:
            return dict(self._calls.get(endpoint, {}))

    def summary(self) -> LedgerSummary:
        """A snapshot of the counts so far, sorted by endpoint and outcome."""
        with self._lock:
            return LedgerSummary(
                calls=sum(sum(outcomes.values()) for outcomes in self._calls.values()),
                by_endpoint=MappingProxyType(
                    {
                        endpoint: MappingProxyType(dict(sorted(outcomes.items())))
                        for endpoint, outcomes in sorted(self._calls.items())
                    }
                ),
                retries=sum(self._retries.values()),
                retries_by_endpoint=MappingProxyType(dict(sorted(self._retries.items()))),
                throttled=self._throttled,
                limiter_wait_seconds=round(self._limiter_wait, 3),
                backoff_seconds=round(self._backoff, 3),
                daily_calls_left=self._daily_calls_left,
            )

    def __repr__(self) -> str:
        return f"CallLedger(calls={self.total_calls})"
