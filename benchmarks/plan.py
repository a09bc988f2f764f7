"""Benchmark: API calls and wall time of planning all 40 institutions against the sandbox.

Targets (issue 5):
- API calls per institution within 1.1x of the minimum the plan needs: 1 code table + 1 mapping
  table + 1 count per group + the census pages of the groups under review + the job history
  (the SIS jobs list and one instance page per SIS job). No per-user calls.
- No 429 (retried calls are printed): the token bucket's default burst of one keeps the calls
  leaving any one-second window at 21, under Alma's 25 (reconciler/alma/ratelimit.py).
- Wall time at 100 ms injected latency within 1.3x of the rate-limit bound. Institutions run
  in parallel, each under its own limit, so the bound is the slowest institution's
  calls / rate (plus one latency, the unavoidable last round trip).
- Client CPU per user read and peak RSS (benchmarks/figures.py). A plan reads counts and the
  censuses of groups under review only, so its few users carry the cost of every other call:
  the per-user figure that matters is the survey's and scale.py's.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from collections.abc import Mapping
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.figures import (  # noqa: E402 - after the path is set
    Figure,
    calls_figure,
    cpu_figure,
    load_average,
    peak_rss_mb,
    rate_bound,
    rss_figure,
    wall_figure,
)
from benchmarks.sandbox_process import sandbox_process  # noqa: E402
from reconciler.alma import LedgerSummary  # noqa: E402
from reconciler.desired import load_desired_state  # noqa: E402
from reconciler.runs.reads import plan_institutions  # noqa: E402


def minimum_calls(plan_live: object, ledger: LedgerSummary) -> int:
    """What a plan of this institution cannot do without."""
    from reconciler.model.live import LiveState  # noqa: PLC0415

    assert isinstance(plan_live, LiveState)  # noqa: S101
    census_pages = sum(
        max(1, math.ceil(c.breakdown.total / 100)) for c in plan_live.census.values()
    )
    sis_jobs = ledger.calls_to("GET /conf/jobs/{job_id}/instances")
    return 2 + len(plan_live.groups) + census_pages + 1 + sis_jobs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=int, default=100)
    args = parser.parse_args()
    desired = load_desired_state(ROOT / "institutions")
    with (
        tempfile.TemporaryDirectory() as state,
        sandbox_process(Path(state), latency_ms=args.latency_ms) as url,
    ):
        env = {"ALMA_API_URL": url}
        for s in desired.institutions:
            env[s.institution.api_key_env] = f"sandbox-{s.institution.slug}"
        started, cpu_started = time.perf_counter(), time.process_time()
        sandbox_cpu_started = url.cpu_seconds()
        plan, result = plan_institutions(
            ROOT / "institutions", desired, env, today=date.today(), commit=None
        )
        wall = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        sandbox_cpu = url.cpu_seconds() - sandbox_cpu_started
    assert not result.failures, result.failures  # noqa: S101 - a failed read voids the figures
    rates = {s.institution.slug: s.institution.rate_limit_per_second for s in desired.institutions}
    calls = {slug: ledger.calls for slug, ledger in result.ledgers.items()}
    minimum = {slug: minimum_calls(result.live[slug], result.ledgers[slug]) for slug in calls}
    bound = rate_bound(calls, rates, args.latency_ms)
    # users read: the members of every census taken (word matches of other groups aside)
    users = sum(c.breakdown.total for live in result.live.values() for c in live.census.values())
    throttled = sum(
        outcomes.get("429", 0)
        for ledger in result.ledgers.values()
        for outcomes in ledger.by_endpoint.values()
    )
    figures = [
        Figure("429 answers", throttled, 0, str(throttled)),
        wall_figure(wall, bound),
        cpu_figure(cpu, users),
        rss_figure(peak_rss_mb()),
        calls_figure(calls, minimum),
    ]
    total_calls, total_minimum = sum(calls.values()), sum(minimum.values())
    print(f"machine                        {load_average()}")
    print(f"institutions planned          {len(plan.institutions)}")
    print(f"API calls (all)               {total_calls} (minimum {total_minimum})")
    print(f"calls / minimum, overall       {total_calls / total_minimum:.3f}")
    print(f"per-user calls                 {sum_user_calls(result.ledgers)}")
    print(f"calls retried (429, 5xx)       {result.retries}")
    print(f"wall time at {args.latency_ms} ms latency    {wall:.2f} s")
    print(f"rate-limit bound               {bound:.2f} s (slowest institution, 20/s each)")
    print(
        f"CPU while planning             client {cpu:.2f} s, sandbox {sandbox_cpu:.2f} s, on 2 "
        "cores (the sandbox serves every call in one process: near the wall, it is the limit)"
    )
    print(f"users read in censuses         {users:,}")
    print(
        f"client CPU per call            {cpu / total_calls * 1000:.2f} ms (no target: a plan"
        " reads counts and tables, so its CPU per user read is carried by its other calls)"
    )
    for figure in figures:
        print(figure.line())
    return 0 if all(figure.met for figure in figures) else 1


def sum_user_calls(ledgers: Mapping[str, LedgerSummary]) -> int:
    return sum(
        ledger.calls_to(endpoint)
        for ledger in ledgers.values()
        for endpoint in ledger.by_endpoint
        if "{user_id}" in endpoint
    )


if __name__ == "__main__":
    sys.exit(main())
