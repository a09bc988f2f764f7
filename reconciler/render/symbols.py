"""Words and symbols shared by the plan renderers, so text and Markdown say the same thing."""

from __future__ import annotations

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
