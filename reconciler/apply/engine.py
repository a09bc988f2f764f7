"""Apply one institution's plan to Alma, in the plan's order, journaling every write.

Order (DESIGN.md, "Plan"): create/enable/update rows → add mapping rows → per retired group:
move users, purge → verify empty with a fresh exact census → remove mapping rows → disable the
row (only after the census read zero) → delete it (only with delete_row, when already disabled
and empty at plan time).

Design decisions:
- The run re-reads everything it acts on. Each retired group's members are read afresh; if more
  joined since the plan than the tolerance allows (the larger of 10 users and 5 % of the planned
  count) the group is left alone and reported stale ("plan again"); within it, they are moved.
  Each user is re-read again right before its write (reconciler.apply.moves).
- One user's failure does not stop the run; it is reported, and because the census then does
  not read zero, the group's row stays enabled and the exit code says so.
- Alma's daily limit stops the run cleanly where it is: the journal holds every intent and
  outcome so far and `apply --resume JOURNAL` finishes the job. So does losing the apply lock
  (reconciler.apply.lock: the journal's write guard raises before the next write). A table
  Alma refuses stops the institution too (later steps depend on the rows).
- Resuming first settles the operations the last run started but never recorded, against Alma;
  every other step is idempotent (re-read, then change only what is not yet as planned). A bulk
  move is settled by waiting for the job run the killed apply started (it keeps running in
  Alma) and deleting its set (`reconciler.apply.bulk_resume`) before anything else is read.
- A new run first finishes the institution's interrupted runs it is handed (`superseded`):
  their in-flight operations are settled exactly as a resume settles them, and each old journal
  ends with a note naming the run that superseded it, so a rollback of the old journal misses
  nothing. Their plan may differ from this one (an `apply -i` plans afresh): only their
  in-flight operations are settled, never the rest of their plan, because this run's plan was
  made from Alma as it is now and already covers whatever they left undone.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from reconciler.alma import AlmaClient
from reconciler.apply.bulk_move import PollPolicy
from reconciler.apply.bulk_resume import settle_bulk_move
from reconciler.apply.journal import Entry, Journal, operations
from reconciler.apply.members import read_members
from reconciler.apply.moves import DONE, recheck_move
from reconciler.apply.purge import purge_users
from reconciler.apply.report import ApplyReport, Failure, GroupReport
from reconciler.apply.strategies import MoveTally, choose_strategy
from reconciler.apply.tables import USER_GROUPS, apply_group_changes, change_mapping_rows
from reconciler.errors import (
    AlmaDailyLimitError,
    AlmaNotFoundError,
    ApplyRefusedError,
    LockLostError,
    TableWriteError,
)
from reconciler.model import InstitutionState
from reconciler.model.changes import (
    AddMapping,
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
from reconciler.model.plan import InstitutionPlan

Progress = Callable[[int], None]


@dataclass(frozen=True)
class ApplySettings:
    """How to apply: the day (for expiry), a progress callback, the bulk job's polling."""

    today: date
    progress: Progress | None = None
    poll: PollPolicy = field(default_factory=PollPolicy)  # how a bulk job is polled
    resume_from: Sequence[Entry] = field(default=())  # entries of the journal being resumed
    # interrupted runs of the institution (not this one's journal) to settle and close first
    superseded: Sequence[tuple[Journal, Sequence[Entry]]] = field(default=())


def join_tolerance(planned: int) -> int:
    """Members who joined since the plan that are still moved: max(10, 5 % of planned)."""
    return max(10, math.ceil(planned * 0.05))


def apply_institution(
    client: AlmaClient,
    state: InstitutionState,
    plan: InstitutionPlan,
    journal: Journal,
    settings: ApplySettings,
) -> ApplyReport:
    """Apply `plan` (already checked by the caller); never raises for one user's failure."""
    report = ApplyReport(plan.slug, journal.header.run_id, str(journal.path))
    calls_before = client.ledger.total_calls
    try:
        _check_budget(client, plan)
        finished = _finish_superseded(client, journal, settings)
        report = replace(report, superseded=finished)
        report = _run(client, state, plan=plan, journal=journal, settings=settings, report=report)
    except AlmaDailyLimitError as error:
        journal.note("stop", reason="daily_limit", tracking_id=error.tracking_id)
        report = replace(
            report,
            stopped="Alma's daily API limit was reached; the journal records where the run "
            f"stopped: run `alma-groups apply --resume {journal.path}` once it resets",
        )
    except TableWriteError as error:
        journal.note("stop", reason="table_refused")
        report = replace(report, stopped=str(error))
    except LockLostError as error:
        journal.note("stop", reason="lock_lost")
        report = replace(
            report,
            stopped=f"{error}; this run stopped before its next write: run `alma-groups apply "
            f"--resume {journal.path}` once that run is done",
        )
    journal.note("end", stopped=bool(report.stopped))
    return replace(report, api_calls=client.ledger.total_calls - calls_before)


def _run(
    client: AlmaClient,
    state: InstitutionState,
    *,
    plan: InstitutionPlan,
    journal: Journal,
    settings: ApplySettings,
    report: ApplyReport,
) -> ApplyReport:
    if settings.resume_from:
        _settle_in_flight(client, journal, settings.resume_from, settings.poll)
    changes = plan.changes
    first = [c for c in changes if isinstance(c, CreateGroup | EnableGroup | UpdateGroup)]
    rows = dict(apply_group_changes(client, journal, first).codes)
    added = {c.code: c.record_types for c in changes if isinstance(c, AddMapping)}
    mappings = dict(change_mapping_rows(client, journal, add=added).codes)
    # every group whose row or mappings change is censused afresh, even one the plan found
    # empty: its row is touched only after Alma reads zero now
    retiring = sorted(
        {
            c.code
            for c in changes
            if isinstance(
                c, MoveUsers | PurgeUsers | VerifyEmpty | RemoveMapping | DisableGroup | DeleteGroup
            )
        }
    )
    groups = [
        _retire_users(client, state, plan=plan, journal=journal, settings=settings, code=code)
        for code in retiring
    ]
    verified = {g.code for g in groups if g.verified_empty}
    removed = [c.code for c in changes if isinstance(c, RemoveMapping) and c.code in verified]
    mappings.update(change_mapping_rows(client, journal, remove=removed).codes)
    last = [c for c in changes if isinstance(c, DisableGroup | DeleteGroup) and c.code in verified]
    rows.update(apply_group_changes(client, journal, last).codes)
    row_of = {code: action for action, codes in rows.items() for code in codes}
    groups = [
        replace(g, row={"disable_group": "disabled", "delete_group": "deleted"}.get(
            row_of.get(g.code, ""), ""))
        for g in groups
    ]  # fmt: skip
    return replace(report, groups=tuple(groups), rows=_tuples(rows), mappings=_tuples(mappings))


def _check_budget(client: AlmaClient, plan: InstitutionPlan) -> None:
    """Refuse when the plan's estimate exceeds the calls Alma says are left today."""
    client.get_code_table(USER_GROUPS)  # also proves the key can read the configuration
    left = client.api_remaining
    if left is not None and plan.api_calls > left:
        raise ApplyRefusedError(
            f"{plan.slug}: the plan needs about {plan.api_calls:,} API calls and Alma has "
            f"{left:,} left today; apply after the daily allowance resets"
        )


def _finish_superseded(
    client: AlmaClient, journal: Journal, settings: ApplySettings
) -> tuple[str, ...]:
    """Settle each interrupted run's in-flight operations and end its journal; their run ids."""
    for old, entries in settings.superseded:
        _settle_in_flight(client, old, entries, settings.poll)
        old.note("end", stopped=True, superseded_by=journal.header.run_id)
        journal.note("superseded", run_id=old.header.run_id, journal=str(old.path))
    return tuple(old.header.run_id for old, _ in settings.superseded)


def _settle_in_flight(
    client: AlmaClient, journal: Journal, entries: Sequence[Entry], poll: PollPolicy
) -> None:
    """Record what became of every operation the last run started but did not record."""
    for operation in operations(list(entries)):
        if operation.outcome is not None:
            continue
        if operation.op in ("move", "move_instead"):
            recheck_move(client, journal, operation.op_id, operation.op, operation.intent)
        elif operation.op == "purge":
            try:
                client.get_user(str(operation.intent["user"]))
            except AlmaNotFoundError:
                journal.outcome(operation.op_id, "purge", DONE, resumed=True)
            else:
                journal.outcome(
                    operation.op_id, "purge", "skipped", why="not deleted; re-checked", resumed=True
                )
        elif operation.op == "bulk_move":  # its job may still run: wait, then delete its set
            settle_bulk_move(client, journal, operation.op_id, entries, poll)
        else:  # table writes: the steps that follow re-read Alma and carry on
            journal.outcome(operation.op_id, operation.op, "unknown", resumed=True)


def _retire_users(
    client: AlmaClient,
    state: InstitutionState,
    *,
    plan: InstitutionPlan,
    journal: Journal,
    settings: ApplySettings,
    code: str,
) -> GroupReport:
    move = next((c for c in plan.changes if isinstance(c, MoveUsers) and c.code == code), None)
    purge = next((c for c in plan.changes if isinstance(c, PurgeUsers) and c.code == code), None)
    retired = next((g for g in state.user_groups.retired if g.code == code), None)
    target = move.target if move else (retired.move_users_to if retired else None)
    group = GroupReport(code, target)
    if move or purge:
        members = read_members(client, code, settings.today)
        planned = (move.users if move else 0) + (purge.users if purge else 0)
        if len(members) > planned + join_tolerance(planned):
            journal.note("stale_group", code=code, members=len(members), planned=planned)
            return replace(
                group,
                stale=f"{len(members):,} members now, the plan moves {planned:,} (more than "
                f"{join_tolerance(planned)} joined since): left alone, plan again",
                not_verified="stale plan",
            )
        to_purge = [m.primary_id for m in members.members if purge and m.purge_candidate]
        to_move = [m.primary_id for m in members.members if m.primary_id not in set(to_purge)]
        moved = purged = instead = MoveTally()
        if to_move and target:
            strategy = choose_strategy(
                len(to_move), state, today=settings.today, poll=settings.poll
            )
            moved = strategy.run(
                client, journal, to_move, source=code, target=target, progress=settings.progress
            )
            group = replace(group, strategy=strategy.name)
        if to_purge:
            purged, instead = purge_users(
                client,
                journal,
                to_purge,
                source=code,
                target=target,
                today=settings.today,
                progress=settings.progress,
            )
        stopped = moved.stopped or purged.stopped
        if stopped is not None:
            raise stopped
        group = _tallied(group, moved, purged, instead)
    return _verify(client, settings.today, group)


def _tallied(
    group: GroupReport, moved: MoveTally, purged: MoveTally, instead: MoveTally
) -> GroupReport:
    skipped: dict[str, int] = {}
    for tally in (moved, purged, instead):
        for why, count in tally.skipped.items():
            skipped[why] = skipped.get(why, 0) + count
    failures = tuple(
        Failure(operation, f.alma_code, f.tracking_id)
        for operation, tally in (("move", moved), ("purge", purged), ("move_instead", instead))
        for f in tally.failed
    )
    return replace(
        group,
        moved=moved.done,
        purged=purged.done,
        moved_instead_of_purged=instead.done,
        skipped=skipped,
        failures=failures,
    )


def _verify(client: AlmaClient, today: date, group: GroupReport) -> GroupReport:
    """The fresh, exact census that must read zero before the row is touched."""
    fresh = read_members(client, group.code, today)
    if not fresh.exact:
        return replace(group, not_verified=f"the census is not exact: {fresh.why_not_exact}")
    if len(fresh):
        return replace(group, not_verified=f"{len(fresh):,} users are still in the group")
    return replace(group, verified_empty=True)


def _tuples(codes: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    return {action: tuple(values) for action, values in codes.items() if values}
