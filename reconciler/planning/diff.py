"""Desired vs live, as changes in apply order. Pure: no I/O, same inputs give the same plan.

Both sides are first reduced to their "essence" (a dict of code -> the fields we manage, with
descriptions trimmed as Alma pads them), so the comparison ignores everything Alma adds that
we do not manage. deepdiff then finds what differs in the group table; retirements are
derived from the census, because moving users is not a field change.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from deepdiff import DeepDiff

from reconciler.model import InstitutionState, KeptGroup, RetiredGroup
from reconciler.model.changes import (
    AddMapping,
    Change,
    CreateGroup,
    DeleteGroup,
    DisableGroup,
    EnableGroup,
    FieldChange,
    MoveUsers,
    PurgeUsers,
    RemoveMapping,
    UpdateGroup,
    VerifyEmpty,
    change_order,
)
from reconciler.model.live import LiveState, UserBreakdown

DEFAULT_RECORD_TYPES = ("PUBLIC",)


def essence_of_desired(state: InstitutionState, live: LiveState) -> dict[str, dict[str, Any]]:
    """Kept groups as the code table should show them.

    When no kept group claims `default`, the live default stays where it is: the file only
    moves the default when it says so.
    """
    claims_default = state.user_groups.default_group() is not None
    rows: dict[str, dict[str, Any]] = {}
    for group in state.user_groups.groups:
        live_row = live.group(group.code)
        default = group.default if claims_default else bool(live_row and live_row.default)
        rows[group.code] = {
            "description": _clean(group.description),
            "enabled": True,
            "default": default,
        }
    return rows


def essence_of_live(state: InstitutionState, live: LiveState) -> dict[str, dict[str, Any]]:
    """The live rows of the groups the desired state keeps (retired ones are handled apart)."""
    kept = state.user_groups.kept_codes()
    return {
        row.code: {
            "description": _clean(row.description),
            "enabled": row.enabled,
            "default": row.default,
        }
        for row in live.groups
        if row.code in kept
    }


def _clean(text: str) -> str:
    return " ".join(text.split())  # Alma returns descriptions with stray spaces


def diff_institution(state: InstitutionState, live: LiveState) -> tuple[Change, ...]:
    """Every change that brings `live` to `state`, sorted into apply order."""
    changes = [*_kept_group_changes(state, live)]
    for retired in state.user_groups.retired:
        changes.extend(_retirement(retired, state, live))
    return tuple(sorted(changes, key=change_order))


def _kept_group_changes(state: InstitutionState, live: LiveState) -> Iterator[Change]:
    desired = essence_of_desired(state, live)
    current = essence_of_live(state, live)
    by_code = {group.code: group for group in state.user_groups.groups}
    for code in sorted(desired.keys() - current.keys()):
        yield from _creation(by_code[code], desired[code], state, live)
    # rows on both sides are compared field by field; deepdiff names each changed field. Only
    # rows that differ at all go to deepdiff: its tree view costs ~1 ms a row, and a plan of the
    # consortium has thousands of kept rows, nearly all unchanged
    differing = sorted(c for c in desired.keys() & current.keys() if desired[c] != current[c])
    before = {code: current[code] for code in differing}
    after = {code: desired[code] for code in differing}
    field_changes: dict[str, list[FieldChange]] = {}
    for item in DeepDiff(before, after, view="tree").get("values_changed", []):
        code, name = (str(part) for part in item.path(output_format="list"))
        field_changes.setdefault(code, []).append(FieldChange(name, item.t1, item.t2))
    for code, fields in field_changes.items():
        group = by_code[code]
        others = tuple(sorted((f for f in fields if f.name != "enabled"), key=lambda f: f.name))
        if any(f.name == "enabled" for f in fields):  # only ever False -> True for a kept group
            yield EnableGroup(
                code, "kept in user-groups.yaml but disabled in Alma", location=group.location
            )
        if others:
            yield UpdateGroup(
                code, "user-groups.yaml differs from Alma", others, location=group.location
            )


def _creation(
    group: KeptGroup, row: dict[str, Any], state: InstitutionState, live: LiveState
) -> Iterator[Change]:
    yield CreateGroup(
        group.code,
        "new in user-groups.yaml",
        description=row["description"],
        default=row["default"],
        location=group.location,
    )
    yield AddMapping(
        group.code,
        "a new group needs record-type mapping rows before users can be given it",
        record_types=_record_types_for_new_group(state, live),
        location=group.location,
    )


def _record_types_for_new_group(state: InstitutionState, live: LiveState) -> tuple[str, ...]:
    """New groups may be used by the same record types as the default group (else PUBLIC)."""
    default = state.user_groups.default_group()
    live_default = next((row for row in live.groups if row.default), None)
    code = default.code if default else (live_default.code if live_default else None)
    types = live.record_types_of(code) if code else ()
    return types or DEFAULT_RECORD_TYPES


def _retirement(
    retired: RetiredGroup, state: InstitutionState, live: LiveState
) -> Iterator[Change]:
    row = live.group(retired.code)
    if row is None:
        return  # already gone from Alma: nothing to do
    census = live.census.get(retired.code)
    counted = live.users_in(retired.code)
    # unknown (Alma said -1 and no census was taken): nothing is moved on a guess, and the
    # census-not-exact rule blocks the plan; verify and disable are still planned
    users = counted if counted is not None else 0
    breakdown = census.breakdown if census else None
    purgeable = breakdown.purgeable if (breakdown and retired.purge_inactive_users) else 0
    movers = users - purgeable
    why = f"retired: {retired.reason}"
    if purgeable:
        yield PurgeUsers(
            retired.code,
            why,
            users=purgeable,
            breakdown=breakdown,
            blocked=_blocked(breakdown),
            member_fingerprint=census.member_fingerprint if census else None,
            location=retired.location,
        )
    if movers and retired.move_users_to:
        yield MoveUsers(
            retired.code,
            why,
            target=retired.move_users_to,
            users=movers,
            breakdown=breakdown,
            member_fingerprint=census.member_fingerprint if census else None,
            location=retired.location,
        )
    delete = retired.delete_row and not row.enabled and counted == 0
    if users or row.enabled or delete or counted is None:
        # a fresh census must read zero before the row is touched; apply runs it again
        yield VerifyEmpty(retired.code, why, location=retired.location)
    record_types = live.record_types_of(retired.code)
    if record_types and not retired.keep_record_type_mapping:
        yield RemoveMapping(
            retired.code,
            why,
            record_types=record_types,
            location=retired.location,
        )
    if row.enabled:
        yield DisableGroup(retired.code, why, location=retired.location)
    elif delete:
        # phase 2: a deleted row cannot be restored by API, so only a row that an earlier
        # apply already disabled and that is still empty is deleted
        yield DeleteGroup(retired.code, why, location=retired.location)


def _blocked(breakdown: UserBreakdown | None) -> tuple[tuple[str, int], ...]:
    if breakdown is None:
        return ()
    reasons = (
        ("loans", breakdown.blocked_by_loans),
        ("requests", breakdown.blocked_by_requests),
        ("fees", breakdown.blocked_by_fees),
    )
    return tuple((reason, count) for reason, count in reasons if count)
