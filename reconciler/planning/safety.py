"""Safety rules: small named functions that read a proposed plan and return violations.

Each rule states the numbers behind its verdict and the way out, so a reviewer never has to
guess what to change. Rules never stop planning: the plan is always produced and shown with
its violations, and only `apply` refuses a plan that has any. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from reconciler.model import InstitutionState, SourceLocation
from reconciler.model.changes import Change, MoveUsers, PurgeUsers
from reconciler.model.history import PatronLoadHistory
from reconciler.model.live import LiveState
from reconciler.model.plan import Rule, Violation
from reconciler.patron_loads.staleness import Staleness, is_stale


@dataclass(frozen=True)
class SafetyContext:
    """Everything a rule may look at; built once per institution plan."""

    state: InstitutionState
    live: LiveState
    history: PatronLoadHistory | None
    changes: tuple[Change, ...]
    api_calls: int
    today: date

    def retiring(self) -> list[str]:
        """Codes of retired groups that are still live in Alma (the ones this plan touches)."""
        return [g.code for g in self.state.user_groups.retired if self.live.group(g.code)]


SafetyRule = Callable[[SafetyContext], list[Violation]]


def unmanaged_groups(context: SafetyContext) -> list[Violation]:
    """A live group in neither `groups` nor `retired` is an error, never a silent delete."""
    listed = context.state.user_groups.kept_codes() | context.state.user_groups.retired_codes()
    violations = []
    for row in context.live.groups:
        if row.code in listed:
            continue
        users = context.live.users_in(row.code)
        state = "enabled" if row.enabled else "disabled"
        about = "an unknown number of" if users is None else f"about {users:,}"
        violations.append(
            Violation(
                Rule.UNMANAGED_GROUP,
                row.code,
                f"group {row.code!r} ({row.description}, {state}, {about} users) is in "
                "Alma but not in user-groups.yaml",
                f"add {row.code!r} under groups: to keep it, or under retired: with a reason "
                "to take it out of service ('alma-groups import' writes the live list)",
            )
        )
    return violations


def users_without_target(context: SafetyContext) -> list[Violation]:
    """A retired group that still has users needs somewhere to move them."""
    violations = []
    for retired in context.state.user_groups.retired:
        if retired.move_users_to or context.live.group(retired.code) is None:
            continue
        users = context.live.users_in(retired.code)
        purged = sum(
            c.users for c in context.changes if isinstance(c, PurgeUsers) and c.code == retired.code
        )
        left = None if users is None else users - purged
        if left is None or left > 0:
            has = (
                "may have users (Alma did not say how many)"
                if left is None
                else (f"still has {left:,} users")
            )
            violations.append(
                Violation(
                    Rule.USERS_WITHOUT_TARGET,
                    retired.code,
                    f"retired group {retired.code!r} {has} and no move_users_to",
                    f"set move_users_to: to a kept group for {retired.code!r}"
                    + (
                        ""
                        if retired.purge_inactive_users
                        else ", or purge_inactive_users: true if they are all inactive"
                    ),
                    retired.location,
                )
            )
    return violations


def in_recent_patron_load(context: SafetyContext) -> list[Violation]:
    """A group still assigned by a recent patron load would come back with the next load."""
    if context.history is None:
        return []
    lookback = context.state.institution.patron_load.lookback_days
    since = context.today - timedelta(days=lookback)
    violations = []
    for code in context.retiring():
        seen = context.history.seen_since(code, since)
        if not seen:
            continue
        newest = max(seen, key=lambda file: file.file_date)
        violations.append(
            Violation(
                Rule.IN_RECENT_PATRON_LOAD,
                code,
                f"group {code!r} is assigned by {len(seen)} patron load(s) in the last "
                f"{lookback} days; the newest, {newest.file_date.isoformat()}, gives it to "
                f"{newest.users} users",
                "ask campus IT to stop sending this group in the SIS extract, wait for a load "
                "without it, ingest that file, then plan again",
                _location_of(context, code),
            )
        )
    return violations


def assigned_by_hand_but_loaded(context: SafetyContext) -> list[Violation]:
    """A kept group marked `in_patron_loads: false` must not be in a recent patron load: the
    survey trusts the mark and stops calling the group absent from loads, so a wrong mark
    would hide a group the SIS still assigns."""
    if context.history is None:
        return []
    lookback = context.state.institution.patron_load.lookback_days
    since = context.today - timedelta(days=lookback)
    violations = []
    for group in context.state.user_groups.groups:
        seen = context.history.seen_since(group.code, since) if not group.in_patron_loads else []
        if not seen:
            continue
        newest = max(seen, key=lambda file: file.file_date)
        violations.append(
            Violation(
                Rule.IN_RECENT_PATRON_LOAD,
                group.code,
                f"group {group.code!r} is marked in_patron_loads: false, but the patron load of "
                f"{newest.file_date.isoformat()} gives it {newest.users} users",
                f"remove in_patron_loads: false from {group.code!r} (the SIS assigns it)",
                group.location,
            )
        )
    return violations


def patron_load_history(context: SafetyContext) -> list[Violation]:
    """Retiring a group needs a patron-load history that is present and current."""
    retiring = context.retiring()
    if not retiring:
        return []
    slug = context.state.institution.slug
    verdict = is_stale(context.history, context.live.last_sis_run)
    if verdict.status is Staleness.MISSING:
        return [
            Violation(
                Rule.PATRON_LOAD_HISTORY,
                None,
                f"no patron-load history for {slug}: cannot tell whether "
                f"{', '.join(repr(c) for c in retiring)} still come in with patron loads",
                f"run 'alma-groups patron-loads ingest {slug} FILE...' on the recent SIS files",
            )
        ]
    if verdict.status is Staleness.STALE:
        return [
            Violation(
                Rule.PATRON_LOAD_HISTORY,
                None,
                f"patron-load history is stale: Alma's SIS job ran on "
                f"{verdict.last_sis_run:%Y-%m-%d}, the newest ingested file is from "
                f"{verdict.newest_file_date}",
                f"ingest the newer SIS files with 'alma-groups patron-loads ingest {slug} FILE...'",
            )
        ]
    return []


def referenced_groups(context: SafetyContext) -> list[Violation]:
    """Rules and tables that name a retired group would break or silently stop applying."""
    violations = []
    retiring = set(context.retiring())
    for reference in context.live.references:
        if reference.group_code in retiring:
            violations.append(
                Violation(
                    Rule.REFERENCED_GROUP,
                    reference.group_code,
                    f"group {reference.group_code!r} is referenced by {reference.source}: "
                    f"{reference.name}",
                    "change that rule or row in Alma so it no longer names the group, then "
                    "plan again (the rules report is about a day behind)",
                    _location_of(context, reference.group_code),
                )
            )
    return violations


def protected_or_default(context: SafetyContext) -> list[Violation]:
    """Protected groups and the default group may not be retired."""
    violations = []
    protected = set(context.state.institution.safety.protected_groups)
    for code in context.retiring():
        if code in protected:
            violations.append(
                Violation(
                    Rule.PROTECTED_OR_DEFAULT,
                    code,
                    f"group {code!r} is protected in institution.yaml",
                    "remove it from safety.protected_groups in a separate, reviewed change first",
                    _location_of(context, code),
                )
            )
        row = context.live.group(code)
        if row is not None and row.default and context.state.user_groups.default_group() is None:
            violations.append(
                Violation(
                    Rule.PROTECTED_OR_DEFAULT,
                    code,
                    f"group {code!r} is Alma's default user group",
                    "mark another kept group default: true in user-groups.yaml",
                    _location_of(context, code),
                )
            )
    return violations


def users_moved_threshold(context: SafetyContext) -> list[Violation]:
    """Large moves need an acknowledgement equal to the count the reviewer saw."""
    policy = context.state.institution.safety
    moves = [c for c in context.changes if isinstance(c, MoveUsers)]
    moved = sum(c.users for c in moves)
    known = context.live.total_users
    # with the institution's size unknown (Alma said -1), any move needs an acknowledgement
    percent = None if known is None else 100.0 * moved / max(known, 1)
    crossed = (
        moved > policy.max_users_moved or percent is None or percent > policy.max_users_moved_pct
    )
    by_code = {g.code: g for g in context.state.user_groups.retired}
    violations = []
    for move in moves:
        acknowledged = by_code[move.code].acknowledge_users_moved
        if acknowledged == move.users or (acknowledged is None and not crossed):
            continue
        if acknowledged is None:
            share = (
                f"{percent:.1f}% of {known:,}"
                if percent is not None and known is not None
                else "share unknown: Alma did not say how many users the institution has"
            )
            message = (
                f"the plan moves {moved:,} users ({share}), above the limit of "
                f"{policy.max_users_moved:,} users or {policy.max_users_moved_pct:g}%; "
                f"{move.users:,} of them from {move.code!r}"
            )
        else:
            message = (
                f"acknowledge_users_moved is {acknowledged} but the plan moves {move.users:,} "
                f"users from {move.code!r}"
            )
        violations.append(
            Violation(
                Rule.THRESHOLD,
                move.code,
                message,
                f"after checking the plan, set acknowledge_users_moved: {move.users} on "
                f"retired group {move.code!r}",
                move.location,
            )
        )
    return violations


def census_not_exact(context: SafetyContext) -> list[Violation]:
    """A group is moved, verified and disabled only on a census that saw every member.

    (The reader takes a census of every retired group; without one the word-match count is
    used, which can only over-count, unless Alma gave none: that blocks the plan too.)
    """
    violations = []
    for code in context.retiring():
        census = context.live.census.get(code)
        if census is None and context.live.users_in(code) is None:
            violations.append(
                Violation(
                    Rule.CENSUS_NOT_EXACT,
                    code,
                    f"no census of {code!r} was taken and Alma did not say how many users it "
                    "has (total -1)",
                    "plan again; a plan reads a census of every retired group",
                    _location_of(context, code),
                )
            )
            continue
        if census is None or census.exact:
            continue
        seen = census.breakdown.total
        violations.append(
            Violation(
                Rule.CENSUS_NOT_EXACT,
                code,
                f"the census of {code!r} is not exact: {census.not_exact_because}; the "
                f"{seen:,} members it saw may be too few, so the plan's counts for {code!r} "
                "cannot be trusted",
                "plan again: Alma's paging often settles on a second read; if it stays "
                "inexact, report the numbers above to Ex Libris support",
                _location_of(context, code),
            )
        )
    return violations


def api_budget(context: SafetyContext) -> list[Violation]:
    """Applying must not run out of Alma's daily API allowance halfway."""
    left = context.live.daily_calls_left
    if left is None or context.api_calls <= left:
        return []
    return [
        Violation(
            Rule.API_BUDGET,
            None,
            f"applying needs about {context.api_calls} API calls; Alma reports {left} left today",
            "apply tomorrow, or split the change across several pull requests",
        )
    ]


RULES: Sequence[SafetyRule] = (
    unmanaged_groups,
    users_without_target,
    in_recent_patron_load,
    assigned_by_hand_but_loaded,
    patron_load_history,
    referenced_groups,
    protected_or_default,
    users_moved_threshold,
    api_budget,
    census_not_exact,
)


def check(context: SafetyContext, rules: Sequence[SafetyRule] = RULES) -> tuple[Violation, ...]:
    """Every violation of every rule, in a stable order."""
    found = [violation for rule in rules for violation in rule(context)]
    return tuple(sorted(found, key=Violation.sort_key))


def _location_of(context: SafetyContext, code: str) -> SourceLocation:
    retired = next((g for g in context.state.user_groups.retired if g.code == code), None)
    return retired.location if retired else context.state.institution.location
