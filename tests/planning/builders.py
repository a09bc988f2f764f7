"""Builders for desired and live states in memory, and a fake 'apply' over a LiveState."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from types import MappingProxyType
from typing import assert_never

from reconciler.model import InstitutionState, KeptGroup, RetiredGroup, UserGroups
from reconciler.model.changes import (
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
    change_order,
)
from reconciler.model.live import (
    GroupCensus,
    LiveGroup,
    LiveState,
    RecordTypeMapping,
    UserBreakdown,
)

from ..builders import institution


def desired(
    kept: Sequence[KeptGroup], retired: Sequence[RetiredGroup] = (), **safety: object
) -> InstitutionState:
    return InstitutionState(institution(**safety), UserGroups(tuple(kept), tuple(retired)))


def breakdown(
    total: int, *, inactive: int = 0, purgeable: int = 0, loans: int = 0
) -> UserBreakdown:
    return UserBreakdown(
        total=total,
        active=total - inactive,
        inactive=inactive,
        internal=0,
        external=total,
        with_loans=loans,
        purge_candidates=inactive,
        purgeable=purgeable,
        blocked_by_loans=inactive - purgeable,
    )


def live(
    rows: Iterable[LiveGroup],
    counts: dict[str, int] | None = None,
    *,
    census: dict[str, UserBreakdown] | None = None,
    mappings: Iterable[tuple[str, str]] = (),
    total_users: int = 10_000,
    **extra: object,
) -> LiveState:
    counts = dict(counts or {})
    census_map = {
        code: GroupCensus(code, b, member_fingerprint=f"fp-{code}-{b.total}")
        for code, b in (census or {}).items()
    }
    for code, census_entry in census_map.items():
        counts.setdefault(code, census_entry.breakdown.total)
    return LiveState(
        slug="demo",
        groups=tuple(rows),
        mappings=tuple(RecordTypeMapping(rt, code) for rt, code in mappings),
        estimated_counts=MappingProxyType(counts),
        census=MappingProxyType(census_map),
        total_users=total_users,
        **extra,  # type: ignore[arg-type]
    )


def apply_in_memory(state: LiveState, changes: Sequence[Change]) -> LiveState:  # noqa: PLR0912
    """What Alma would look like after `changes`: the fake that convergence is checked on."""
    rows = {row.code: row for row in state.groups}
    counts = dict(state.estimated_counts)
    census = dict(state.census)
    mappings = list(state.mappings)

    def set_users(code: str, users: int) -> None:
        counts[code] = users
        if code in census:
            census[code] = GroupCensus(code, UserBreakdown(total=users), f"fp-{code}-{users}")

    def make_default(code: str) -> None:
        for other, row in rows.items():
            rows[other] = dataclasses.replace(row, default=other == code)

    for change in sorted(changes, key=change_order):
        match change:
            case CreateGroup():
                if change.default:
                    make_default(change.code)
                rows[change.code] = LiveGroup(change.code, change.description, True, change.default)
            case EnableGroup() | DisableGroup():
                enabled = isinstance(change, EnableGroup)
                rows[change.code] = dataclasses.replace(rows[change.code], enabled=enabled)
            case UpdateGroup():
                fields = {f.name: f.after for f in change.fields}
                if fields.get("default") is True:
                    make_default(change.code)
                rows[change.code] = dataclasses.replace(rows[change.code], **fields)  # type: ignore[arg-type]
            case AddMapping():
                mappings += [RecordTypeMapping(rt, change.code) for rt in change.record_types]
            case RemoveMapping():
                mappings = [m for m in mappings if m.user_group != change.code]
            case MoveUsers():
                set_users(change.target, counts.get(change.target, 0) + change.users)
                set_users(change.code, counts.get(change.code, 0) - change.users)
            case PurgeUsers():
                set_users(change.code, counts.get(change.code, 0) - change.users)
            case DeleteGroup():
                rows.pop(change.code)
            case VerifyEmpty():
                assert counts.get(change.code, 0) == 0, change
            case _:
                assert_never(change)
    return dataclasses.replace(
        state,
        groups=tuple(rows.values()),
        mappings=tuple(mappings),
        estimated_counts=MappingProxyType(counts),
        census=MappingProxyType(census),
    )
