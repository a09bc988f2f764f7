"""Builders for desired and live states in memory, and a fake 'apply' over a LiveState."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from types import MappingProxyType

from reconciler.model import InstitutionState, KeptGroup, RetiredGroup, UserGroups
from reconciler.model.changes import Action, Change
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


def apply_in_memory(state: LiveState, changes: Sequence[Change]) -> LiveState:
    """What Alma would look like after `changes`: the fake that convergence is checked on."""
    rows = {row.code: row for row in state.groups}
    counts = dict(state.estimated_counts)
    census = dict(state.census)
    mappings = list(state.mappings)

    def set_users(code: str, users: int) -> None:
        counts[code] = users
        if code in census:
            census[code] = GroupCensus(code, UserBreakdown(total=users), f"fp-{code}-{users}")

    for change in sorted(changes, key=Change.sort_key):
        row = rows.get(change.code)
        fields = {f.name: f.after for f in change.fields}
        if fields.get("default") is True:
            rows = {c: dataclasses.replace(r, default=False) for c, r in rows.items()}
            row = rows.get(change.code)
        match change.action:
            case Action.CREATE_GROUP:
                rows[change.code] = LiveGroup(
                    change.code, str(fields["description"]), True, bool(fields["default"])
                )
            case Action.ENABLE_GROUP | Action.UPDATE_GROUP | Action.DISABLE_GROUP:
                assert row is not None
                rows[change.code] = dataclasses.replace(row, **fields)  # type: ignore[arg-type]
            case Action.ADD_MAPPING:
                mappings += [RecordTypeMapping(rt, change.code) for rt in change.record_types]
            case Action.REMOVE_MAPPING:
                mappings = [m for m in mappings if m.user_group != change.code]
            case Action.MOVE_USERS:
                assert change.target is not None
                set_users(change.target, counts.get(change.target, 0) + change.users)
                set_users(change.code, counts.get(change.code, 0) - change.users)
            case Action.PURGE_USERS:
                set_users(change.code, counts.get(change.code, 0) - change.users)
            case Action.DELETE_GROUP:
                rows.pop(change.code)
            case Action.VERIFY_EMPTY:
                assert counts.get(change.code, 0) == 0, change
    return dataclasses.replace(
        state,
        groups=tuple(rows.values()),
        mappings=tuple(mappings),
        estimated_counts=MappingProxyType(counts),
        census=MappingProxyType(census),
    )
