"""What the plan renderers share, so that text and Markdown say the same thing.

Symbols and one phrase per action, the counts under a move or a purge, which changes carry
their "why" (once per group and reason), which institutions are quiet, and the summary
lines. The text and Markdown modules only lay these out (colour, code blocks, tables).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import assert_never

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
from reconciler.model.live import UserBreakdown
from reconciler.model.plan import InstitutionPlan, Plan

SYMBOL = {
    Action.CREATE_GROUP: "+",
    Action.ENABLE_GROUP: "~",
    Action.UPDATE_GROUP: "~",
    Action.ADD_MAPPING: "+",
    Action.MOVE_USERS: "→",
    Action.PURGE_USERS: "-",
    Action.VERIFY_EMPTY: "?",
    Action.REMOVE_MAPPING: "-",
    Action.DISABLE_GROUP: "-",
    Action.DELETE_GROUP: "-",
}


def plural(count: int, word: str, many: str | None = None) -> str:
    return f"{count:,} {word}" if count == 1 else f"{count:,} {many or word + 's'}"


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return f'"{value}"' if value is not None else "(none)"


def describe(change: Change) -> str:  # noqa: PLR0911 - one phrase per action
    """One line saying what the change does, before → after, with counts."""
    code = f'"{change.code}"'
    match change:
        case CreateGroup():
            default = ", default" if change.default else ""
            return f"create group {code} ({change.description}{default})"
        case EnableGroup():
            return f"enable group {code}"
        case UpdateGroup():
            parts = [f"{f.name} {_value(f.before)} → {_value(f.after)}" for f in change.fields]
            return f"update group {code}: " + "; ".join(parts)
        case AddMapping():
            return f"allow record types {', '.join(change.record_types)} to use {code}"
        case MoveUsers():
            return f'move {plural(change.users, "user")} from {code} to "{change.target}"'
        case PurgeUsers():
            blocked = sum(count for _, count in change.blocked)
            kept = f"; {blocked:,} kept back" if blocked else ""
            # Alma's list items carry no loans, requests or fees, so the count is every inactive
            # or expired member; apply re-reads each one with them before deleting
            return (
                f"purge {plural(change.users, 'inactive or expired user')} from {code}{kept} "
                "(apply re-checks each with expand=loans,requests,fees and keeps any who has "
                "loans, requests or fees)"
            )
        case VerifyEmpty():
            return f"verify {code} is empty (fresh census)"
        case RemoveMapping():
            return f"remove record-type mapping of {code} ({', '.join(change.record_types)})"
        case DisableGroup():
            return f"disable group {code}"
        case DeleteGroup():
            return f"delete group {code} (cannot be restored by API)"
        case _:
            assert_never(change)


def breakdown_line(breakdown: UserBreakdown | None) -> str | None:
    """Who the moved or purged users are, in counts only (never who)."""
    if breakdown is None or breakdown.total == 0:
        return None
    return (
        f"the group's {breakdown.total:,}: "
        f"active {breakdown.active:,}, inactive {breakdown.inactive:,}, "
        f"expired {breakdown.expired:,}; internal {breakdown.internal:,}, "
        f"external {breakdown.external:,}; with loans {breakdown.with_loans:,}, "
        f"requests {breakdown.with_requests:,}, fees {breakdown.with_fees:,}"
    )


def details(change: Change) -> list[str]:
    """Lines under a move or a purge: who the users are and who is kept back, in counts."""
    match change:
        case MoveUsers():
            lines = [breakdown_line(change.breakdown)]
        case PurgeUsers():
            lines = [breakdown_line(change.breakdown), blocked_line(change)]
        case _:
            return []  # other changes concern rows, not people
    return [line for line in lines if line]


def blocked_line(change: PurgeUsers) -> str | None:
    if not change.blocked:
        return None
    return "kept back: " + ", ".join(f"{count:,} with {reason}" for reason, count in change.blocked)


@dataclass(frozen=True)
class ChangeLine:
    """One change as a renderer lays it out: symbol, phrase, counts, and why (or None)."""

    symbol: str
    text: str
    details: tuple[str, ...]
    why: str | None  # None when an earlier line of the same group already said it


def change_lines(changes: Sequence[Change]) -> list[ChangeLine]:
    """The changes in order; each group's reason is given once, on its first change."""
    said: set[tuple[str, str]] = set()
    lines = []
    for change in changes:
        first = (change.code, change.why) not in said
        said.add((change.code, change.why))
        lines.append(
            ChangeLine(
                SYMBOL[change.action],
                describe(change),
                tuple(details(change)),
                change.why if first else None,
            )
        )
    return lines


def is_quiet(plan: InstitutionPlan) -> bool:
    """Nothing to change and nothing wrong: listed by name only."""
    return not plan.has_changes and not plan.violations


def institution_summary(plan: InstitutionPlan) -> str:
    if is_quiet(plan):
        return f"{plan.slug}: no changes"
    parts = [plural(len(plan.changes), "change")]
    if plan.users_moved:
        parts.append(f"{plan.users_moved:,} users moved")
    if plan.users_purged:
        parts.append(f"{plan.users_purged:,} purged")
    if plan.violations:
        parts.append(plural(len(plan.violations), "violation"))
    parts.append(f"~{plural(plan.api_calls, 'API call')}")
    return f"{plan.slug}: " + ", ".join(parts)


def overall_summary(plan: Plan) -> str:
    """One sentence with the totals across institutions."""
    changed = sum(p.has_changes for p in plan.institutions)
    if not plan.institutions:
        return "Plan: no institutions to plan."
    if not plan.has_changes and not plan.violations:
        return f"Plan: no changes in {plural(len(plan.institutions), 'institution')}."
    moved = sum(p.users_moved for p in plan.institutions)
    purged = sum(p.users_purged for p in plan.institutions)
    return (
        f"Plan: {changed} of {plural(len(plan.institutions), 'institution')} with changes, "
        f"{plural(sum(len(p.changes) for p in plan.institutions), 'change')}, "
        f"{moved:,} users moved, {purged:,} purged, "
        f"{plural(len(plan.violations), 'violation')}, ~{plural(plan.api_calls, 'API call')}."
    )
