"""Build plans: diff, estimate the API calls, check the safety rules. Pure: no I/O.

The reader of live Alma and the loader of the desired state hand their results in; this module
turns them into `InstitutionPlan`s and a `Plan` that can be rendered, saved and applied.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import date
from typing import assert_never

from reconciler.apply import lock, strategies
from reconciler.model import DesiredState, InstitutionState
from reconciler.model.changes import (
    Action,
    AddMapping,
    Change,
    CreateGroup,
    DeleteGroup,
    DisableGroup,
    EnableGroup,
    MoveUsers,
    PurgeUsers,
    RemoveMapping,
    UpdateGroup,
    VerifyEmpty,
)
from reconciler.model.history import PatronLoadHistory
from reconciler.model.live import LiveState
from reconciler.model.plan import InstitutionPlan, Plan
from reconciler.planning import safety
from reconciler.planning.diff import diff_institution


def estimate_api_calls(
    changes: Sequence[Change],
    *,
    bulk_threshold: int = strategies.DEFAULT_BULK_THRESHOLD,
    has_job_template: bool = False,
    calls_per_second: float | None = None,
    fresh_plan_calls: int = 0,
) -> int:
    """Every call an apply of `changes` makes, from the cost functions of the code making them.

    apply's own steps (strategies' costs); the institution's lock, taken, renewed for as long as
    those steps take at `calls_per_second` (None: no renewal counted) and released
    (`lock.lock_cost`); and the fresh plan apply makes once done (`fresh_plan_calls`, see
    `reread_calls`). Without a job template an institution's moves all go per user, whatever
    their size. A bulk job's polls are not counted (nor its wait in the lock's time).
    """
    if not changes:
        return 0  # nothing to apply: apply takes no lock and plans nothing afresh
    steps = _step_calls(changes, bulk_threshold=bulk_threshold, has_job_template=has_job_template)
    seconds = steps / calls_per_second if calls_per_second else 0.0
    return steps + lock.lock_cost(seconds) + fresh_plan_calls


def reread_calls(live: LiveState, changes: Sequence[Change]) -> int:
    """The calls of the plan apply makes after itself: reading this institution again.

    It is the same read as this plan's (`read_live`), so it costs what this one cost, except
    that the groups apply empties are then censused in one short page each.
    """
    emptied = {c.code for c in changes if isinstance(c, MoveUsers | PurgeUsers)}
    saved = sum(
        strategies.members_cost(live.census[code].breakdown.total) - strategies.verify_cost()
        for code in emptied
        if code in live.census
    )
    return max(live.read_calls - saved, 0)


def _step_calls(changes: Sequence[Change], *, bulk_threshold: int, has_job_template: bool) -> int:
    """The calls of apply's own steps, from the strategies' cost functions."""
    actions = {change.action for change in changes}
    table_phases = (
        {Action.CREATE_GROUP, Action.ENABLE_GROUP, Action.UPDATE_GROUP},
        {Action.ADD_MAPPING},
        {Action.REMOVE_MAPPING},
        {Action.DISABLE_GROUP, Action.DELETE_GROUP},
    )
    calls = 1  # the first read, which also tells apply how many calls are left today
    calls += sum(strategies.TABLE_WRITE_CALLS for phase in table_phases if actions & phase)
    for change in changes:
        match change:
            case MoveUsers():
                calls += strategies.move_cost(
                    change.users, bulk_threshold=bulk_threshold, has_template=has_job_template
                )
            case PurgeUsers():
                calls += strategies.purge_cost(change.users)
            case (
                CreateGroup()
                | EnableGroup()
                | UpdateGroup()
                | AddMapping()
                | VerifyEmpty()
                | RemoveMapping()
                | DisableGroup()
                | DeleteGroup()
            ):
                pass  # code-table changes: counted by phase above; verification below
            case _:
                assert_never(change)
    # apply censuses every group it retires afresh before touching its row or mappings
    retired = {
        c.code
        for c in changes
        if isinstance(
            c, MoveUsers | PurgeUsers | VerifyEmpty | RemoveMapping | DisableGroup | DeleteGroup
        )
    }
    return calls + strategies.verify_cost() * len(retired)


def live_fingerprint(live: LiveState) -> str:
    """A digest of the group table and mappings, to refuse applying to a changed Alma."""
    rows = sorted((row.code, row.description, row.enabled, row.default) for row in live.groups)
    mappings = sorted((m.record_type, m.user_group, m.enabled) for m in live.mappings)
    return _digest({"groups": rows, "mappings": mappings})


def desired_hash(state: DesiredState) -> str:
    """A digest of the desired state's meaning (not its formatting or comments)."""
    document = [
        {
            "institution": _without_locations(asdict(s.institution)),
            "user_groups": _without_locations(asdict(s.user_groups)),
            # the job template decides how apply moves users, so a saved plan must not outlive it
            "update_users_job": (
                _without_locations(asdict(s.update_users_job)) if s.update_users_job else None
            ),
        }
        for s in sorted(state.institutions, key=lambda s: s.institution.slug)
    ]
    return _digest(document)


def _without_locations(value: object) -> object:
    if isinstance(value, dict):
        return {k: _without_locations(v) for k, v in value.items() if k != "location"}
    if isinstance(value, list | tuple):
        return [_without_locations(v) for v in value]
    return value


def _digest(document: object) -> str:
    text = json.dumps(document, sort_keys=True, default=str, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def plan_institution(
    state: InstitutionState,
    live: LiveState,
    history: PatronLoadHistory | None,
    *,
    today: date,
) -> InstitutionPlan:
    """Diff, cost and check one institution."""
    changes = diff_institution(state, live)
    calls = estimate_api_calls(
        changes,
        bulk_threshold=state.institution.bulk_threshold,
        has_job_template=state.update_users_job is not None,
        calls_per_second=state.institution.rate_limit_per_second,
        fresh_plan_calls=reread_calls(live, changes),
    )
    context = safety.SafetyContext(state, live, history, changes, calls, today)
    return InstitutionPlan(
        slug=state.institution.slug,
        changes=changes,
        violations=safety.check(context),
        api_calls=calls,
        live_fingerprint=live_fingerprint(live),
        users_total=live.total_users,
        daily_calls_left=live.daily_calls_left,
    )


def build_plan(
    desired: DesiredState,
    live: Mapping[str, LiveState],
    histories: Mapping[str, PatronLoadHistory | None],
    *,
    today: date,
    commit: str | None = None,
) -> Plan:
    """The plan for every institution in `desired` (each must have a LiveState)."""
    plans = tuple(
        plan_institution(
            s, live[s.institution.slug], histories.get(s.institution.slug), today=today
        )
        for s in sorted(desired.institutions, key=lambda s: s.institution.slug)
    )
    return Plan(plans, commit, desired_hash(desired))
