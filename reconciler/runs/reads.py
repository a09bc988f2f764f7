"""Read live Alma for plan and survey, across institutions, and plan what could be read.

The fan-out (`runs.fanout`) gives each institution its own client and ledger and keeps each
failure as its `ReconcilerError`; one institution's failure does not stop the others, and it
is reported with the rest of the results.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from reconciler.alma import AlmaClient, LedgerSummary
from reconciler.alma.ratelimit import consortium_limiter
from reconciler.desired.loading import HISTORY_FILE
from reconciler.errors import ReconcilerError
from reconciler.model import DesiredState, Institution, PatronLoadHistory
from reconciler.model.changes import MoveUsers, PurgeUsers
from reconciler.model.live import LiveState
from reconciler.model.plan import Plan
from reconciler.patron_loads import load_history
from reconciler.planning.plan import build_plan
from reconciler.reading.census import AffectedUser, affected_users
from reconciler.reading.live import ReadOptions, read_live
from reconciler.runs.fanout import Progress, connect_with, for_each_institution, partition


@dataclass(frozen=True)
class ReadResult:
    """What was read of each institution, what failed and why, and what it cost."""

    live: Mapping[str, LiveState]
    histories: Mapping[str, PatronLoadHistory | None]
    failures: Mapping[str, ReconcilerError] = field(default_factory=dict)
    ledgers: Mapping[str, LedgerSummary] = field(default_factory=dict)

    @property
    def api_calls(self) -> int:
        return sum(summary.calls for summary in self.ledgers.values())

    @property
    def retries(self) -> int:
        return sum(summary.retries for summary in self.ledgers.values())


def read_histories(root: Path, desired: DesiredState) -> dict[str, PatronLoadHistory | None]:
    """Each institution's patron-load history from git, or None where none was ingested."""
    return {
        s.institution.slug: load_history(
            root / s.institution.slug / HISTORY_FILE, institution=s.institution.slug
        )
        for s in desired.institutions
    }


def read_institutions(
    desired: DesiredState,
    histories: Mapping[str, PatronLoadHistory | None],
    env: Mapping[str, str],
    *,
    today: date,
    also_census: frozenset[str] = frozenset(),
    census_everything: bool = False,
    progress: Progress | None = None,
    parallel: int = 40,
) -> ReadResult:
    """Read every institution of `desired` from Alma, in parallel.

    `census_everything` (the survey) takes an exact census of every group in one pass over
    each institution's users, instead of per-group counts and a census of the groups under review.
    """
    states = {s.institution.slug: s for s in desired.institutions}

    def read_one(institution: Institution, client: AlmaClient) -> LiveState:
        history = histories.get(institution.slug)
        newest = history.newest_file_date() if history else None
        lookback = timedelta(days=institution.patron_load.lookback_days)
        options = ReadOptions(
            today,
            also_census,
            since=newest or today - lookback,
            census_everything=census_everything,
        )
        return read_live(client, states[institution.slug], options)

    runs = for_each_institution(
        [s.institution for s in desired.institutions],
        read_one,
        connect=connect_with(env),
        parallel=parallel,
        progress=progress,
    )
    live, failures = partition(runs)
    ledgers = {slug: run.ledger for slug, run in runs.items()}
    return ReadResult(live, histories, failures, ledgers)


def plan_institutions(
    root: Path,
    desired: DesiredState,
    env: Mapping[str, str],
    *,
    today: date,
    commit: str | None,
    progress: Progress | None = None,
) -> tuple[Plan, ReadResult]:
    """Read live Alma for every institution and plan the ones that could be read."""
    histories = read_histories(root, desired)
    result = read_institutions(desired, histories, env, today=today, progress=progress)
    readable = DesiredState(
        tuple(s for s in desired.institutions if s.institution.slug in result.live)
    )
    plan = build_plan(readable, result.live, histories, today=today, commit=commit)
    return plan, result


@dataclass(frozen=True)
class AffectedUsers:
    """Every user a plan moves or purges, and the groups whose list is not complete."""

    users: tuple[AffectedUser, ...]
    incomplete: tuple[tuple[str, str, str], ...] = ()  # (slug, code, why): counts only


def collect_affected_users(
    plan: Plan, desired: DesiredState, env: Mapping[str, str], *, today: date
) -> AffectedUsers:
    """Every user the plan moves or purges, read afresh by an exact census (opt-in: the result
    holds IDs); a group whose census is not exact is named in `incomplete`."""
    by_slug = {s.institution.slug: s for s in desired.institutions}
    shared = consortium_limiter(env)
    found: list[AffectedUser] = []
    incomplete: list[tuple[str, str, str]] = []
    for institution_plan in plan.institutions:
        state = by_slug[institution_plan.slug]
        retired = {g.code: g for g in state.user_groups.retired}
        groups = sorted(
            {c.code for c in institution_plan.changes if isinstance(c, MoveUsers | PurgeUsers)}
        )
        if not groups:
            continue
        with AlmaClient.for_institution(state.institution, env, shared_limiter=shared) as client:
            for code in groups:
                users, census = affected_users(
                    client,
                    state.institution.slug,
                    code,
                    target=retired[code].move_users_to,
                    purge_inactive=retired[code].purge_inactive_users,
                    today=today,
                )
                found += users
                if not census.exact:
                    incomplete.append((state.institution.slug, code, census.not_exact_because))
    return AffectedUsers(tuple(found), tuple(incomplete))
