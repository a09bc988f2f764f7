"""The figures every read benchmark prints, each with its target (issue 11) and met/MISSED.

- `wall / bound`: wall time over the rate-limit bound, the slowest institution's calls / rate
  plus the one round trip that follows its last token (institutions run in parallel, each
  under its own limit).
- `client CPU per user`: CPU time of the client process (all threads, `time.process_time`, so
  the other agents on a shared machine do not inflate it as they inflate wall time) over the
  users it read.
- `peak RSS`: the client process's peak resident memory (`ru_maxrss`).
- `calls / minimum, worst`: API calls over the calls the read cannot do without, for the
  institution where that ratio is worst.

The machine is shared, so every figure is printed beside the load average when it was taken.
"""

from __future__ import annotations

import math
import os
import resource
from collections.abc import Mapping
from dataclasses import dataclass

from reconciler.alma import LedgerSummary

WALL_TARGET = 1.3
CPU_PER_USER_TARGET_US = 30.0
RSS_TARGET_MB = 300.0
CALLS_TARGET = 1.1
PAGE_SIZE = 100


@dataclass(frozen=True)
class Figure:
    """One measured figure against its target (at most `target`)."""

    label: str
    value: float
    target: float
    shown: str  # the value as printed, with its unit and any detail

    @property
    def met(self) -> bool:
        return self.value <= self.target

    def line(self) -> str:
        return (
            f"{self.label:<30} {self.shown}  target <= {self.target:g}:"
            f" {'met' if self.met else 'MISSED'}"
        )


def wall_figure(wall: float, bound: float) -> Figure:
    return Figure("wall / bound", wall / bound, WALL_TARGET, f"{wall / bound:.2f}")


def cpu_figure(cpu_seconds: float, users: int, label: str = "client CPU per user") -> Figure:
    micros = cpu_seconds / max(users, 1) * 1e6
    return Figure(
        label,
        micros,
        CPU_PER_USER_TARGET_US,
        f"{micros:.1f} µs ({cpu_seconds:.2f} s CPU / {users:,} users)",
    )


def rss_figure(megabytes: float) -> Figure:
    return Figure("peak RSS", megabytes, RSS_TARGET_MB, f"{megabytes:.0f} MB")


def calls_figure(calls: Mapping[str, int], minimum: Mapping[str, int]) -> Figure:
    worst = max(calls, key=lambda slug: calls[slug] / max(minimum[slug], 1))
    ratio = calls[worst] / max(minimum[worst], 1)
    return Figure(
        "calls / minimum, worst",
        ratio,
        CALLS_TARGET,
        f"{ratio:.3f} ({worst}: {calls[worst]} / {minimum[worst]})",
    )


def peak_rss_mb() -> float:
    """This process's peak resident set size so far (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_average() -> str:
    """The 1, 5 and 15 minute load averages: how busy the shared machine was."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} ({os.cpu_count()} cores)"


def census_pages(users: int) -> int:
    """The fewest pages of 100 that hold `users` (one page even when there are none)."""
    return max(1, math.ceil(users / PAGE_SIZE))


def survey_minimum(users: int, ledger: LedgerSummary) -> int:
    """What a survey of one institution cannot do without: its census pages, the two tables,
    the rules report, the list of mapping tables, the SIS jobs list and one instance page per
    SIS job."""
    sis_jobs = ledger.calls_to("GET /conf/jobs/{job_id}/instances")
    return census_pages(users) + 2 + 1 + 1 + 1 + sis_jobs


def rate_bound(calls: Mapping[str, int], rates: Mapping[str, float], latency_ms: int) -> float:
    """The slowest institution's calls / rate, plus the round trip after its last token."""
    return max(calls[slug] / rates[slug] for slug in calls) + latency_ms / 1000
