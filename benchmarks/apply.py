"""Benchmark: the apply write path against the sandbox in its own process (100 ms latency).

Prints each figure beside its target (issue 10):
- per-user requests/s / limit (>= 0.9, zero 429s): PerUserMove over `--per-user` users of ucf,
  calls per second over the institution's configured limit.
- per-user vs naive (>= 2x): seconds per user of a sequential GET/PUT loop over the same
  sandbox, divided by PerUserMove's seconds per user.
- bulk calls (<= 80 plus polling for 50,000 users): the calls of one measured bulk move of
  `--bulk` users (polls counted apart), and `bulk_move_cost(50,000)` plus the residue census.
- bulk vs naive (>= 50x): the naive loop's seconds per user times the bulk size, over the bulk
  move's measured wall time (the naive figure is extrapolated from its sample, as allowed).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.sandbox_process import sandbox_process  # noqa: E402 - after the path is set
from reconciler.alma import AlmaClient  # noqa: E402
from reconciler.alma.normalise import code_of  # noqa: E402
from reconciler.apply.bulk_move import PollPolicy  # noqa: E402
from reconciler.apply.journal import Journal, JournalHeader, new_run_id  # noqa: E402
from reconciler.apply.moves import moved_body  # noqa: E402
from reconciler.apply.strategies import BulkMove, PerUserMove, bulk_cost  # noqa: E402
from reconciler.desired import load_desired_state  # noqa: E402
from reconciler.model import DesiredState, InstitutionState, UpdateUsersJobTemplate  # noqa: E402
from reconciler.reading.census import word_query  # noqa: E402
from reconciler.sandbox import seed_state  # noqa: E402

SLUG, SOURCE, TARGET = "ucf", "01", "02"
TEMPLATES = ROOT / "tests" / "fixtures" / "valid" / "institutions"


def ids_of(client: AlmaClient, code: str, count: int) -> list[str]:
    found = []
    for user in client.iter_users(word_query(code), max_records=count * 2):
        if code_of(user.get("user_group")) == code:
            found.append(str(user["primary_id"]))
        if len(found) == count:
            break
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--per-user", type=int, default=300)
    parser.add_argument("--naive", type=int, default=100)
    parser.add_argument("--bulk", type=int, default=2000)
    parser.add_argument("--scale", type=float, default=0.15)
    args = parser.parse_args()
    state = load_desired_state(ROOT / "institutions").get(SLUG)
    demo = load_desired_state(TEMPLATES).get("demo")
    if state is None or demo is None or demo.update_users_job is None:
        raise SystemExit("benchmark needs institutions/ucf and the demo job template")
    with tempfile.TemporaryDirectory() as folder:
        # ucf alone, at a scale that gives group 01 a few thousand users; the sandbox process
        # sees a tree of ucf only, so it seeds nothing else
        tree = Path(folder) / "institutions"
        shutil.copytree(ROOT / "institutions" / SLUG, tree / SLUG)
        os.environ["ALMA_GROUPS_INSTITUTIONS"] = str(tree)
        seed_state(Path(folder) / "state", DesiredState((state,)), scale=args.scale, seed=3)
        with sandbox_process(Path(folder) / "state", latency_ms=args.latency_ms) as url:
            run(args, state, demo.update_users_job, url, Path(folder))
    return 0


def run(
    args: argparse.Namespace,
    state: InstitutionState,
    template: UpdateUsersJobTemplate,
    url: str,
    folder: Path,
) -> None:
    """Measure and print; the sandbox at `url` is seeded and running."""
    limit = state.institution.rate_limit_per_second
    env = {"ALMA_API_URL": url, state.institution.api_key_env: f"sandbox-{SLUG}"}
    header = JournalHeader(new_run_id(), SLUG, "sha256:benchmark", None, "benchmark")
    journal = Journal.create(Path(folder) / "journal", header)
    with AlmaClient.for_institution(state.institution, env) as client:
        wanted = args.per_user + args.naive + args.bulk
        ids = ids_of(client, SOURCE, wanted)
        if len(ids) < wanted:
            raise SystemExit(f"group {SOURCE} has {len(ids)} users; need {wanted}")
        per_user, naive, bulk = (
            ids[: args.per_user],
            ids[args.per_user : args.per_user + args.naive],
            ids[args.per_user + args.naive :],
        )

        before = client.ledger.summary()
        started = time.perf_counter()
        tally = PerUserMove().run(client, journal, per_user, source=SOURCE, target=TARGET)
        per_user_s = time.perf_counter() - started
        after = client.ledger.summary()
        calls = after.calls - before.calls
        throttled = after.throttled - before.throttled
        rate = calls / per_user_s

        started = time.perf_counter()
        for user_id in naive:  # what a script without this tool does: one user at a time
            record = client.get_user(user_id)
            client.update_user(user_id, moved_body(record, TARGET))
        naive_s = time.perf_counter() - started

        strategy = BulkMove(
            template,
            slug=SLUG,
            today=date.today(),
            poll=PollPolicy(first_delay_s=0.5, factor=1.5, max_delay_s=5.0),
        )
        before = client.ledger.summary()
        started = time.perf_counter()
        moved = strategy.run(client, journal, bulk, source=SOURCE, target=TARGET)
        bulk_s = time.perf_counter() - started
        by_endpoint = client.ledger.summary().by_endpoint
        polls = sum(by_endpoint.get("GET /conf/jobs/{job_id}/instances/{instance_id}", {}).values())
        bulk_calls = client.ledger.summary().calls - before.calls

    naive_per_user = naive_s / len(naive)
    per_user_each = per_user_s / len(per_user)
    rows = [
        (
            "per-user requests/s / limit",
            f"{rate / limit:.2f}",
            f">= 0.90, zero 429s ({rate:.1f}/s of {limit:g}/s; {throttled} x 429)",
        ),
        (
            "per-user vs naive",
            f"{naive_per_user / per_user_each:.1f}x",
            f">= 2x (naive {naive_per_user:.2f} s/user, per-user {per_user_each:.3f} s/user)",
        ),
        (
            f"bulk calls for {len(bulk):,} users",
            f"{bulk_calls - polls} + {polls} polls",
            f"measured: {moved.done:,} moved in {bulk_s:.1f} s",
        ),
        (
            "bulk calls for 50,000 users",
            f"{bulk_cost(50_000)} + polling",
            "<= 80 plus polling (bulk_move_cost + residue census)",
        ),
        (
            "bulk vs naive",
            f"{naive_per_user * len(bulk) / bulk_s:.0f}x",
            f">= 50x (naive extrapolated from {len(naive)} users to {len(bulk):,})",
        ),
    ]
    print(f"per-user: {tally.done} moved with {calls} calls in {per_user_s:.1f} s")
    for name, value, target in rows:
        print(f"{name:<30} {value:>16}   target {target}")


if __name__ == "__main__":
    raise SystemExit(main())
