"""Benchmark: wall time and API calls of surveying all 40 institutions against the sandbox.

Target (issue: survey): at 100 ms injected latency, the survey of all 40 takes at most 1.3x the
lower bound that Alma's rate limit sets. Each institution has its own limit (its own token
bucket) and the institutions are read in parallel, so the bound is the slowest institution's
calls / rate, not the sum over institutions; the one round trip that must follow the last
token is shown beside it. The survey runs the CLI's code path: `read_institutions` with the
full census (`census_everything=True`), then `build_survey` and one render, as
`alma-groups survey --all` does (its default format, the table). The other four formats are
rendered after the clock stops, so a broken renderer still fails the benchmark; a user asks
for one format a run, so timing five would charge the read with work no run does.

Beside `wall / bound` it prints the client's CPU per user read, its peak RSS and the worst
calls / minimum (benchmarks/figures.py), each with its target, and the load average.

The sandbox runs as `alma-groups sandbox serve` in its own process, as a remote Alma would,
so that its CPU does not compete with the client's threads for one GIL; `--in-process` runs it
as a `SandboxServer` in this process instead. The slowest institution is then surveyed alone,
which shows how close the read itself comes to its bound when nothing else competes for CPU.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.figures import (  # noqa: E402 - after the path is set
    calls_figure,
    cpu_figure,
    load_average,
    peak_rss_mb,
    rss_figure,
    survey_minimum,
    wall_figure,
)
from benchmarks.sandbox_process import SandboxUrl, sandbox_process  # noqa: E402
from reconciler.desired import load_desired_state  # noqa: E402
from reconciler.model import DesiredState, PatronLoadHistory  # noqa: E402
from reconciler.render import (  # noqa: E402
    survey_csv,
    survey_html,
    survey_json,
    survey_markdown,
    survey_text,
)
from reconciler.runs.reads import ReadResult, read_histories, read_institutions  # noqa: E402
from reconciler.survey.report import build_survey  # noqa: E402

TIMED_RENDER = survey_text.render_survey  # the CLI's default format
UNTIMED_RENDERS = (
    survey_markdown.render_survey,
    survey_csv.render_survey,
    survey_json.render_survey,
    survey_html.render_survey,
)
Histories = Mapping[str, PatronLoadHistory | None]


@contextmanager
def sandbox(
    state: Path, desired: DesiredState, *, latency_ms: int, separate: bool
) -> Iterator[dict[str, str]]:
    """The environment a run needs to reach a freshly seeded sandbox (default scale)."""
    if separate:
        with sandbox_process(state, latency_ms=latency_ms) as url:
            env = {"ALMA_API_URL": url}
            for s in desired.institutions:
                env[s.institution.api_key_env] = f"sandbox-{s.institution.slug}"
            yield env
        return
    from reconciler.sandbox import (  # noqa: PLC0415 - only for the in-process run
        SandboxConfig,
        SandboxServer,
    )

    config = SandboxConfig(latency_ms=latency_ms)
    with SandboxServer(state, ROOT / "institutions", config) as server:
        keys = server.api_keys()
        env = {"ALMA_API_URL": server.base_url}
        for s in desired.institutions:
            env[s.institution.api_key_env] = keys[s.institution.slug]
        yield env


def survey_all(
    desired: DesiredState, histories: Histories, env: dict[str, str], today: date
) -> tuple[ReadResult, float, float]:
    """What `alma-groups survey --all` does; returns the read, the wall seconds and the CPU
    seconds of this process (the other formats are rendered once the clock has stopped)."""
    started, cpu_started = time.perf_counter(), time.process_time()
    result = read_institutions(desired, histories, env, today=today, census_everything=True)
    calls = {slug: ledger.calls for slug, ledger in result.ledgers.items()}
    report = build_survey(
        desired, result.live, histories, today=today, api_calls=calls, unread=result.failures
    )
    TIMED_RENDER(report)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    for render in UNTIMED_RENDERS:
        render(report)
    return result, wall, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--in-process", action="store_true", help="Run the sandbox in-process.")
    args = parser.parse_args()
    desired = load_desired_state(ROOT / "institutions")
    histories = read_histories(ROOT / "institutions", desired)
    rates = {s.institution.slug: s.institution.rate_limit_per_second for s in desired.institutions}
    today = date.today()
    with (
        tempfile.TemporaryDirectory() as state,
        sandbox(
            Path(state), desired, latency_ms=args.latency_ms, separate=not args.in_process
        ) as env,
    ):
        # the first reads of a freshly seeded SQLite file are slow for reasons that are the
        # sandbox's, not the survey's: warm it once, then measure
        survey_all(desired, histories, env, today)
        server = env["ALMA_API_URL"]  # a SandboxUrl when the sandbox has its own process
        separate_sandbox = isinstance(server, SandboxUrl)
        server_cpu = server.cpu_seconds() if separate_sandbox else 0.0
        result, wall, cpu = survey_all(desired, histories, env, today)
        server_cpu = server.cpu_seconds() - server_cpu if separate_sandbox else 0.0
        calls = {slug: ledger.calls for slug, ledger in result.ledgers.items()}
        at_rate = {slug: calls[slug] / rates[slug] for slug in calls}
        slowest = max(at_rate, key=lambda slug: at_rate[slug])
        alone = DesiredState(
            tuple(s for s in desired.institutions if s.institution.slug == slowest)
        )
        _, alone_wall, _ = survey_all(alone, histories, env, today)
    assert not result.failures, result.failures  # noqa: S101 - a failed read voids the figures
    # the last call's answer still takes one round trip after the limit lets it go, so the
    # least wall time is calls / rate + one latency (benchmarks/plan.py counts it the same way)
    bound = at_rate[slowest] + args.latency_ms / 1000
    users = sum(live.total_users for live in result.live.values())
    minimum = {
        slug: survey_minimum(result.live[slug].total_users, result.ledgers[slug]) for slug in calls
    }
    figures = [
        wall_figure(wall, bound),
        cpu_figure(cpu, users),
        rss_figure(peak_rss_mb()),
        calls_figure(calls, minimum),
    ]
    retried = result.retries
    print(f"machine                          {load_average()}")
    print(f"institutions surveyed            {len(result.live)}, {users:,} users")
    print(f"API calls, all institutions      {sum(calls.values()):,}")
    print(f"API calls, slowest institution   {calls[slowest]} ({slowest}, {rates[slowest]:g}/s)")
    print(f"wall time at {args.latency_ms} ms latency       {wall:.2f} s")
    print(f"CPU time of this process         {cpu:.2f} s (all threads)")
    if separate_sandbox:
        print(
            f"CPU time of the sandbox          {server_cpu:.2f} s (one process serving every call,"
            " on the same 2 cores)"
        )
    print(
        f"rate-limit bound                 {bound:.2f} s: institutions run in parallel, each under"
        " its own limit, so the bound is the slowest institution's calls / rate, plus the"
        " last round trip"
    )
    summed = sum(at_rate.values())
    print(
        f"  (calls / rate summed           {summed:.2f} s, {summed / len(calls):.2f} s per"
        f" institution over {len(calls)} in parallel: not a bound, the limits are separate)"
    )
    print(f"calls retried (429, 5xx)         {retried}")
    total_calls = sum(calls.values())
    print(
        f"client CPU per call              {cpu / total_calls * 1000:.2f} ms,"
        f" {users / total_calls:.0f} users a call (no target: at this scale the cost of each"
        " call outweighs the cost of each user; benchmarks/scale.py measures the CPU per user"
        " at 10 and 100 times the users)"
    )
    for figure in figures:
        print(figure.line())
    print(
        f"{slowest} surveyed alone             {alone_wall:.2f} s = {alone_wall / bound:.2f} x its"
        " bound (no other institution competing for CPU)"
    )
    return 0 if all(figure.met for figure in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
