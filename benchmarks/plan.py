"""Benchmark: API calls and wall time of planning all 40 institutions against the sandbox.

Targets (issue 5):
- API calls per institution within 1.1x of the minimum the plan needs: 1 code table + 1 mapping
  table + 1 count per group + the census pages of the groups under review + the job history
  (the SIS jobs list and one instance page per SIS job). No per-user calls.
- Wall time at 100 ms injected latency within 1.3x of the rate-limit bound. Institutions run
  in parallel, each under its own limit, so the bound is the slowest institution's
  calls / rate (plus one latency, the unavoidable last round trip).
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

from benchmarks.sandbox_process import sandbox_process  # noqa: E402 - after the path is set
from reconciler.alma import LedgerSummary  # noqa: E402
from reconciler.desired import load_desired_state  # noqa: E402
from reconciler.runs.reads import plan_institutions  # noqa: E402

CALLS_TARGET = 1.1
WALL_TARGET = 1.3


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
        started = time.perf_counter()
        plan, result = plan_institutions(
            ROOT / "institutions", desired, env, today=date.today(), commit=None
        )
        wall = time.perf_counter() - started
    assert not result.failures, result.failures  # noqa: S101 - a failed read voids the figures
    worst_ratio, worst_slug, bound = 0.0, "", 0.0
    total_calls = total_minimum = 0
    rates = {s.institution.slug: s.institution.rate_limit_per_second for s in desired.institutions}
    for slug, ledger in sorted(result.ledgers.items()):
        calls = ledger.calls
        minimum = minimum_calls(result.live[slug], ledger)
        total_calls += calls
        total_minimum += minimum
        if calls / minimum > worst_ratio:
            worst_ratio, worst_slug = calls / minimum, slug
        bound = max(bound, calls / rates[slug] + args.latency_ms / 1000)
    calls_ok = worst_ratio <= CALLS_TARGET
    wall_ok = wall <= WALL_TARGET * bound
    print(f"institutions planned          {len(plan.institutions)}")
    print(f"API calls (all)               {total_calls} (minimum {total_minimum})")
    print(
        f"calls / minimum, worst         {worst_ratio:.3f} ({worst_slug})"
        f"  target <= {CALLS_TARGET}: {'met' if calls_ok else 'MISSED'}"
    )
    print(f"calls / minimum, overall       {total_calls / total_minimum:.3f}")
    print(f"per-user calls                 {sum_user_calls(result.ledgers)}")
    print(f"calls retried (429, 5xx)       {result.retries}")
    print(f"wall time at {args.latency_ms} ms latency    {wall:.2f} s")
    print(f"rate-limit bound               {bound:.2f} s (slowest institution, 20/s each)")
    print(
        f"wall / bound                   {wall / bound:.2f}"
        f"  target <= {WALL_TARGET}: {'met' if wall_ok else 'MISSED'}"
    )
    return 0 if calls_ok and wall_ok else 1


def sum_user_calls(ledgers: Mapping[str, LedgerSummary]) -> int:
    return sum(
        ledger.calls_to(endpoint)
        for ledger in ledgers.values()
        for endpoint in ledger.by_endpoint
        if "{user_id}" in endpoint
    )


if __name__ == "__main__":
    sys.exit(main())
