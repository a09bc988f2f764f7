"""Benchmark: the Alma client's throughput against the sandbox, under Alma's per-second limit.

Done-when of the client issue: with 100 ms of injected latency and the default limit (20/s),
one institution's workload of GETs reaches at least 0.9 of the limit with zero 429s; and the
same workload with the client's limit set *above* Alma's (40/s against the sandbox's 25/s)
shows the client backing off (429s counted as throttled and retried) without one failed call.

    .venv/bin/python benchmarks/client_throughput.py [--calls 600] [--workers 8]

The sandbox is seeded from `institutions/` into a temporary directory at the default scale.
Exit status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reconciler.alma import AlmaClient  # noqa: E402 - after the path set-up above
from reconciler.desired import load_desired_state  # noqa: E402
from reconciler.errors import AlmaApiError  # noqa: E402
from reconciler.model import Institution  # noqa: E402
from reconciler.sandbox import SandboxConfig, SandboxServer  # noqa: E402

SLUG = "ucf"
LATENCY_MS = 100
ALMA_LIMIT = 25  # the sandbox's per-second threshold, as documented for Alma
OVER_LIMIT = 40.0  # the client's limit in the second run: above Alma's
RATIO_TARGET = 0.9


@dataclass(frozen=True)
class RunResult:
    """One workload run: its rate, and what the sandbox and the ledger saw."""

    label: str
    client_limit: float
    calls: int
    failed: int
    seconds: float
    sandbox_429: int
    ledger_429: int
    throttled: int
    retries: int
    slowdowns: int
    final_rate: float

    @property
    def rate(self) -> float:
        return self.calls / self.seconds if self.seconds else 0.0


def workload(
    client: AlmaClient, user_ids: list[str], groups: list[str], calls: int
) -> list[Callable[[], object]]:
    """`calls` GETs in a fixed mix: 3 user reads, then a count, then the code table."""
    jobs: list[Callable[[], object]] = []
    for n in range(calls):
        kind = n % 5
        if kind < 3:
            jobs.append(partial(client.get_user, user_ids[n % len(user_ids)]))
        elif kind == 3:
            jobs.append(partial(client.count_users, f"user_group~{groups[n % len(groups)]}"))
        else:
            jobs.append(partial(client.get_code_table, "UserGroups"))
    return jobs


def run(
    label: str,
    server: SandboxServer,
    institution: Institution,
    *,
    calls: int,
    workers: int,
) -> RunResult:
    env = {"ALMA_API_URL": server.base_url, institution.api_key_env: server.api_keys()[SLUG]}
    # Ids and groups are read first, by a separate client, so the measured run is GETs only.
    with AlmaClient.for_institution(institution, env) as setup:
        user_ids = [u["primary_id"] for u in setup.search_users(limit=100).users]
        groups = [str(r["code"]) for r in setup.get_code_table("UserGroups")["row"]][:10]
    time.sleep(1.1)  # let the sandbox's one-second window forget the set-up calls
    server.request_log.clear()

    def attempt(job: Callable[[], object]) -> bool:
        try:
            job()
        except AlmaApiError:
            return False
        return True

    with AlmaClient.for_institution(institution, env, max_workers=workers) as client:
        jobs = workload(client, user_ids, groups, calls)
        started = time.perf_counter()
        outcomes = client.map_concurrently(attempt, jobs)
        seconds = time.perf_counter() - started
        summary = client.ledger.summary()
        final_rate = client.limiter.rate
        slowdowns = client.limiter.stats().slowdowns
    ledger_429 = sum(o.get("429", 0) for o in summary.by_endpoint.values())
    sandbox_429 = sum(1 for e in server.request_log.entries if e.status == 429)
    return RunResult(
        label=label,
        client_limit=institution.rate_limit_per_second,
        calls=calls,
        failed=outcomes.count(False),
        seconds=seconds,
        sandbox_429=sandbox_429,
        ledger_429=ledger_429,
        throttled=summary.throttled,
        retries=summary.retries,
        slowdowns=slowdowns,
        final_rate=final_rate,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--calls", type=int, default=600, help="GET calls per run (600)")
    parser.add_argument("--workers", type=int, default=8, help="client worker threads (8)")
    args = parser.parse_args(argv)
    if args.calls < 1 or args.workers < 1:
        parser.error("--calls and --workers must be at least 1")

    root = ROOT / "institutions"
    desired = load_desired_state(root)
    institution = next(s.institution for s in desired.institutions if s.institution.slug == SLUG)
    with tempfile.TemporaryDirectory(prefix="alma-throughput-") as state:
        seeding = time.perf_counter()
        config = SandboxConfig(latency_ms=LATENCY_MS, per_second_limit=ALMA_LIMIT)
        server = SandboxServer(Path(state), root, config)
        with server:
            print(
                f"sandbox seeded from {root.relative_to(ROOT)} in "
                f"{time.perf_counter() - seeding:.1f} s; latency {LATENCY_MS} ms, "
                f"Alma's limit {ALMA_LIMIT}/s; {args.calls} GETs for {SLUG}, "
                f"{args.workers} workers"
            )
            default = run(
                "default limit", server, institution, calls=args.calls, workers=args.workers
            )
            over = dataclasses.replace(institution, rate_limit_per_second=OVER_LIMIT)
            above = run("limit above Alma's", server, over, calls=args.calls, workers=args.workers)
    return report(default, above)


def report(default: RunResult, above: RunResult) -> int:
    header = (
        f"{'run':<20} {'client':>7} {'calls':>6} {'failed':>6} {'secs':>6} {'req/s':>6} "
        f"{'÷limit':>6} {'÷Alma':>6} {'429 sb':>6} {'429 led':>7} {'retries':>7} "
        f"{'slowed':>6} {'rate end':>8}"
    )
    print(header)
    print("-" * len(header))
    for r in (default, above):
        print(
            f"{r.label:<20} {r.client_limit:>5.0f}/s {r.calls:>6} {r.failed:>6} "
            f"{r.seconds:>6.1f} {r.rate:>6.1f} {r.rate / r.client_limit:>6.2f} "
            f"{r.rate / ALMA_LIMIT:>6.2f} {r.sandbox_429:>6} {r.ledger_429:>7} {r.retries:>7} "
            f"{r.slowdowns:>6} {r.final_rate:>6.1f}/s"
        )
    ratio = default.rate / default.client_limit
    checks = [
        (
            f"default limit: req/s ÷ limit = {ratio:.2f} (target >= {RATIO_TARGET})",
            ratio >= RATIO_TARGET,
        ),
        (
            f"default limit: 429s = {default.sandbox_429} sandbox / {default.ledger_429} ledger "
            "(target 0)",
            default.sandbox_429 == 0 and default.ledger_429 == 0,
        ),
        (f"default limit: failed calls = {default.failed} (target 0)", default.failed == 0),
        (
            f"limit above Alma's: backed off (429s throttled {above.throttled}, retried "
            f"{above.retries}, limiter slowed {above.slowdowns}x; target > 0)",
            above.throttled > 0 and above.retries > 0 and above.slowdowns > 0,
        ),
        (f"limit above Alma's: failed calls = {above.failed} (target 0)", above.failed == 0),
    ]
    print()
    for text, ok in checks:
        print(f"{'met   ' if ok else 'MISSED'} {text}")
    return 0 if all(ok for _, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
