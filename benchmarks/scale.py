"""Benchmark: the client at consortium scale (issue 11), in three parts.

(a) Client CPU per user, without a server: the census pages of the largest institution are
    recorded once from the scale-0.1 sandbox, then `census_all` is run over them replayed from
    memory (benchmarks/replay.py), three times; process CPU / users. Target <= 30 µs, so that
    1.5 million patrons fit in one core inside the rate-limit bound.
(b) Plan and survey of all 40 institutions at `--scale 0.1` (about 107,000 users), the sandbox
    in its own process (`alma-groups sandbox serve`, 100 ms latency) and each read in a fresh
    process of its own, so that its peak RSS is its own: wall, calls, CPU per user, peak RSS,
    wall / bound, calls / minimum.
(c) Unless `--skip-full`: `alma-groups sandbox reset --scale 1` (about 1.07 million users), its
    time and size on disk, then a survey of the largest institution (mdc, about 100,000 users)
    against it.

    .venv/bin/python benchmarks/scale.py --skip-full    # (a) and (b): a few minutes
    .venv/bin/python benchmarks/scale.py                # all three: seeding 1M users is long

`--state DIR` keeps the scale-0.1 sandbox in DIR and reuses it on the next run (its seeding is
most of (b)'s time); `--full-state DIR` does the same for scale 1. Exit status 1 when a
target is missed. The machine is shared: each part prints the load average beside it.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
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
    survey_minimum,
    wall_figure,
)
from benchmarks.replay import RecordingTransport, ReplayTransport  # noqa: E402
from benchmarks.sandbox_process import sandbox_process  # noqa: E402
from reconciler.alma import AlmaClient, TokenBucket  # noqa: E402
from reconciler.alma.credentials import read_api_key  # noqa: E402
from reconciler.alma.regions import api_root  # noqa: E402
from reconciler.alma.transport import HttpTransport  # noqa: E402
from reconciler.desired import load_desired_state  # noqa: E402
from reconciler.model import DesiredState, Institution  # noqa: E402
from reconciler.reading.census import census_all  # noqa: E402
from reconciler.sandbox.store import DB_NAME  # noqa: E402

INSTITUTIONS = ROOT / "institutions"
LARGEST = "mdc"  # about 100,000 patrons: the institution that sets the consortium's bound


@dataclass(frozen=True)
class ReadFigures:
    """What one read (plan or survey) in its own process measured."""

    kind: str
    wall: float
    cpu: float
    peak_rss_mb: float
    users: int
    calls: dict[str, int]
    minimum: dict[str, int]
    throttled: int
    retried: int
    failures: dict[str, str]


def sandbox_env(url: str, desired: DesiredState) -> dict[str, str]:
    env = {"ALMA_API_URL": url}
    for s in desired.institutions:
        env[s.institution.api_key_env] = f"sandbox-{s.institution.slug}"
    return env


def measure_read(kind: str, url: str, slugs: tuple[str, ...] | None) -> ReadFigures:
    """In a fresh process: plan or survey the institutions (all when `slugs` is None)."""
    from benchmarks.plan import minimum_calls  # noqa: PLC0415 - in the child process
    from benchmarks.survey import survey_all  # noqa: PLC0415
    from reconciler.runs.reads import plan_institutions, read_histories  # noqa: PLC0415

    desired = load_desired_state(INSTITUTIONS)
    if slugs is not None:
        desired = DesiredState(
            tuple(s for s in desired.institutions if s.institution.slug in slugs)
        )
    env = sandbox_env(url, desired)
    today = date.today()
    if kind == "plan":
        started, cpu_started = time.perf_counter(), time.process_time()
        _, result = plan_institutions(INSTITUTIONS, desired, env, today=today, commit=None)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        minimum = {s: minimum_calls(result.live[s], result.ledgers[s]) for s in result.live}
        users = sum(
            c.breakdown.total for live in result.live.values() for c in live.census.values()
        )
    else:
        histories = read_histories(INSTITUTIONS, desired)
        result, wall, cpu = survey_all(desired, histories, env, today)
        minimum = {
            s: survey_minimum(result.live[s].total_users, result.ledgers[s]) for s in result.live
        }
        users = sum(live.total_users for live in result.live.values())
    return ReadFigures(
        kind=kind,
        wall=wall,
        cpu=cpu,
        peak_rss_mb=peak_rss_mb(),
        users=users,
        calls={s: ledger.calls for s, ledger in result.ledgers.items()},
        minimum=minimum,
        throttled=sum(
            outcomes.get("429", 0)
            for ledger in result.ledgers.values()
            for outcomes in ledger.by_endpoint.values()
        ),
        retried=result.retries,
        failures=dict(result.failures),
    )


def in_fresh_process(kind: str, url: str, slugs: tuple[str, ...] | None = None) -> ReadFigures:
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        return pool.apply(measure_read, (kind, url, slugs))


def report_read(
    figures: ReadFigures,
    rates: dict[str, float],
    latency_ms: int,
    label: str,
    server_cpu: float,
) -> list[Figure]:
    if figures.failures:
        raise SystemExit(f"{label}: institutions not read: {figures.failures}")
    bound = rate_bound(figures.calls, rates, latency_ms)
    slowest = max(figures.calls, key=lambda slug: figures.calls[slug] / rates[slug])
    measured = [
        wall_figure(figures.wall, bound),
        cpu_figure(figures.cpu, figures.users),
        rss_figure(figures.peak_rss_mb),
        calls_figure(figures.calls, figures.minimum),
    ]
    if figures.kind == "plan":
        measured.insert(0, Figure("429 answers", figures.throttled, 0, str(figures.throttled)))
    print(f"  {label}  ({load_average()})")
    print(
        f"    wall {figures.wall:.2f} s, bound {bound:.2f} s ({slowest}: "
        f"{figures.calls[slowest]} calls at {rates[slowest]:g}/s + {latency_ms} ms); "
        f"{sum(figures.calls.values()):,} calls, {figures.users:,} users, "
        f"{figures.retried} retried ({figures.throttled} answered 429)"
    )
    print(
        f"    CPU: client {figures.cpu:.2f} s, sandbox {server_cpu:.2f} s, on"
        f" {os.cpu_count()} cores shared with other work (wall / bound above 1 when the two"
        " together, plus the machine's other load, need more CPU than the bound leaves)"
    )
    for figure in measured:
        print("    " + figure.line())
    return measured


def seed(state: Path, scale: float) -> tuple[float, float]:
    """`alma-groups sandbox reset --scale S`, with its progress on our stderr; wall seconds
    and the size of the state folder in MB."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "reconciler", "sandbox", "reset", "--scale", str(scale),
         "--dir", str(state)],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    wall = time.perf_counter() - started
    size = sum(p.stat().st_size for p in state.rglob("*") if p.is_file()) / 2**20
    return wall, size


@contextmanager
def state_dir(kept: Path | None, scale: float) -> Iterator[Path]:
    """A seeded sandbox state: `kept` (seeded there once, then reused) or a temporary one."""
    if kept is not None:
        if not (kept / DB_NAME).exists():
            wall, size = seed(kept, scale)
            print(f"  seeded scale {scale:g} into {kept} in {wall:.0f} s, {size:.0f} MB")
        else:
            print(f"  reusing the scale-{scale:g} sandbox in {kept}")
        yield kept
        return
    with tempfile.TemporaryDirectory(prefix=f"alma-scale-{scale:g}-") as temp:
        wall, size = seed(Path(temp), scale)
        print(f"  seeded scale {scale:g} in {wall:.0f} s ({load_average()}), {size:.0f} MB")
        yield Path(temp)


def client_cpu_on_replay(institution: Institution, url: str, runs: int = 3) -> Figure:
    """(a): record the institution's census pages once, replay them `runs` times."""
    env = sandbox_env(url, DesiredState(()))
    env[institution.api_key_env] = f"sandbox-{institution.slug}"
    http = HttpTransport(
        api_root(institution.region, env), read_api_key(institution.api_key_env, env)
    )
    recorder = RecordingTransport(http)
    with AlmaClient.for_institution(institution, env, transport=recorder) as client:
        census_all(client, date.today())
    http.close()
    replay = ReplayTransport(recorder.answers)
    cpu_seconds: list[float] = []
    users = 0
    for _ in range(runs):
        # no pacing: the limiter would only make the CPU measurement wait
        unlimited = TokenBucket(1e9, burst=1e9)
        with AlmaClient.for_institution(
            institution, env, transport=replay, limiter=unlimited
        ) as client:
            started = time.process_time()
            found = census_all(client, date.today())
            cpu_seconds.append(time.process_time() - started)
        users = found.users
    print(
        f"  (a) {institution.slug}: {replay.calls // runs} recorded pages,"
        f" {replay.body_bytes / 2**20:.1f} MB of JSON, {users:,} users; CPU per run "
        + ", ".join(f"{c:.2f} s" for c in cpu_seconds)
        + f"  ({load_average()})"
    )
    figure = cpu_figure(min(cpu_seconds), users, label="client CPU per user (replay)")
    print("    " + figure.line() + "  (best of the runs)")
    return figure


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-full", action="store_true", help="Skip part (c), scale 1.")
    parser.add_argument("--runs", type=int, default=1, help="Runs of each read in (b) (1).")
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--state", type=Path, help="Keep and reuse the scale-0.1 sandbox here.")
    parser.add_argument("--full-state", type=Path, help="Keep and reuse the scale-1 sandbox here.")
    args = parser.parse_args()
    desired = load_desired_state(INSTITUTIONS)
    rates = {s.institution.slug: s.institution.rate_limit_per_second for s in desired.institutions}
    largest = next(s.institution for s in desired.institutions if s.institution.slug == LARGEST)
    figures: list[Figure] = []

    print(f"(b) plan and survey of all {len(desired.institutions)} at scale 0.1")
    with (
        state_dir(args.state, 0.1) as state,
        sandbox_process(state, latency_ms=args.latency_ms) as url,
    ):
        for run in range(1, args.runs + 1):
            for kind in ("plan", "survey"):
                server_cpu = url.cpu_seconds()
                read = in_fresh_process(kind, url)
                server_cpu = url.cpu_seconds() - server_cpu
                figures += report_read(
                    read, rates, args.latency_ms, f"{kind}, run {run}", server_cpu
                )
        print("(a) client CPU per user on recorded pages, replayed without a server")
        figures.append(client_cpu_on_replay(largest, url))

    if not args.skip_full:
        print(f"(c) sandbox reset --scale 1, then a survey of {LARGEST} alone")
        with (
            state_dir(args.full_state, 1.0) as state,
            sandbox_process(state, latency_ms=args.latency_ms) as url,
        ):
            server_cpu = url.cpu_seconds()
            read = in_fresh_process("survey", url, (LARGEST,))
            server_cpu = url.cpu_seconds() - server_cpu
            figures += report_read(read, rates, args.latency_ms, f"survey of {LARGEST}", server_cpu)
    missed = [figure for figure in figures if not figure.met]
    print(f"targets missed: {len(missed)} of {len(figures)}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
