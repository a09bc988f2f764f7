"""The survey: every group of every institution, its users, and whether to consider retiring it.

FLVC's cleanup starts by sharing each institution's groups with their active-user counts; the
institution then picks what to retire. This module turns what was read (live Alma with an
exact census of every group, and the patron-load history from git) into that list, flagging
candidates for retirement with the reasons. Pure: no I/O, counts only, never a person.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from reconciler.model import DesiredState, InstitutionState, PatronLoadHistory
from reconciler.model.live import GroupCensus, LiveGroup, LiveState

COMMONLY_UNUSED = (
    "15 Autologin",
    "Sublibrary",
    "Missing and Lost",
    "69 UBorrow partner",
    "99 (Mango statewide catalogue)",
    "Reserves",
)
"""The groups FLVC names as commonly unused across its institutions, as FLVC lists them."""

COMMONLY_UNUSED_CODES = frozenset({"15", "69", "99"})
# matched in the code and description with spaces and punctuation removed, so that
# "Sub Library", "U-Borrow" and "SUBLIB" all match
COMMONLY_UNUSED_WORDS = ("AUTOLOGIN", "SUBLIB", "MISSING", "LOST", "UBORROW", "MANGO", "RESERVE")

REASON_EMPTY = "empty"
REASON_NO_ACTIVE_USERS = "no active users"
REASON_COMMONLY_UNUSED = "on FLVC's list of commonly unused groups"
NOTE_NO_HISTORY = "no patron-load history"
NOTE_NOT_EXACT = "count not exact"  # followed by the census's reason, with its numbers


def reason_absent_from_loads(lookback_days: int) -> str:
    return f"absent from every patron load in the last {lookback_days:,} days"


class GroupStatus(StrEnum):
    """Where the group stands in the institution's user-groups.yaml."""

    KEPT = "kept"
    RETIRED = "retired"
    UNMANAGED = "unmanaged"  # in Alma but listed nowhere in git: the plan would stop on it


@dataclass(frozen=True)
class SurveyRow:
    """One group of one institution, in counts."""

    slug: str
    code: str
    description: str
    enabled: bool
    default: bool
    status: GroupStatus
    users: int | None  # None: Alma did not say (-1) and no census was taken
    active: int
    external_share: float  # external users / users, 0..1 (0 for an empty group)
    last_seen: date | None  # the newest patron-load file in which the group had users
    last_seen_users: int | None  # how many it had in that file
    references: tuple[str, ...]  # names of the rules that name the group
    candidate: bool  # a candidate for retirement: `reasons` says why
    reasons: tuple[str, ...]
    notes: tuple[str, ...] = ()  # worth knowing, not a reason by itself (no load history)


@dataclass(frozen=True)
class InstitutionSurvey:
    """One institution's groups in Alma's order, with its totals and what reading it cost."""

    slug: str
    name: str
    rows: tuple[SurveyRow, ...]
    total_users: int | None  # None: unknown
    api_calls: int
    lookback_days: int
    has_history: bool  # patron-load files were ingested, so "absent from loads" means something

    @property
    def candidates(self) -> tuple[SurveyRow, ...]:
        return tuple(row for row in self.rows if row.candidate)


@dataclass(frozen=True)
class Survey:
    """Every institution surveyed, sorted by slug, and the ones that could not be read."""

    institutions: tuple[InstitutionSurvey, ...]
    today: date
    unread: tuple[tuple[str, str], ...] = ()  # (slug, why), sorted

    @property
    def groups(self) -> int:
        return sum(len(i.rows) for i in self.institutions)

    @property
    def total_users(self) -> int | None:
        """Every institution's users; None when any institution's total is unknown."""
        totals = [i.total_users for i in self.institutions]
        return None if None in totals else sum(t for t in totals if t is not None)

    @property
    def candidates(self) -> int:
        return sum(len(i.candidates) for i in self.institutions)

    @property
    def api_calls(self) -> int:
        return sum(i.api_calls for i in self.institutions)


def commonly_unused(code: str, description: str) -> bool:
    """Whether FLVC's list of commonly unused groups names this group (by code or keyword)."""
    if code in COMMONLY_UNUSED_CODES:
        return True
    squeezed = re.sub(r"[^A-Z0-9]", "", f"{code} {description}".upper())
    return any(word in squeezed for word in COMMONLY_UNUSED_WORDS)


def build_survey(
    desired: DesiredState,
    live: Mapping[str, LiveState],
    histories: Mapping[str, PatronLoadHistory | None],
    *,
    today: date,
    api_calls: Mapping[str, int] | None = None,
    unread: Mapping[str, str] | None = None,
) -> Survey:
    """The survey of every institution of `desired` that was read (`live`), sorted by slug."""
    calls = api_calls or {}
    surveyed = tuple(
        survey_institution(
            state,
            live[state.institution.slug],
            histories.get(state.institution.slug),
            today=today,
            api_calls=calls.get(state.institution.slug, 0),
        )
        for state in sorted(desired.institutions, key=lambda s: s.institution.slug)
        if state.institution.slug in live
    )
    return Survey(surveyed, today, tuple(sorted((unread or {}).items())))


def survey_institution(
    state: InstitutionState,
    live: LiveState,
    history: PatronLoadHistory | None,
    *,
    today: date,
    api_calls: int = 0,
) -> InstitutionSurvey:
    """One institution: a row per group of Alma's UserGroups table, in the table's order."""
    lookback = state.institution.patron_load.lookback_days
    has_history = history is not None and bool(history.files)
    rows = tuple(
        _row(
            state,
            live,
            group,
            history if has_history else None,
            today=today,
            lookback_days=lookback,
        )
        for group in live.groups
    )
    return InstitutionSurvey(
        slug=state.institution.slug,
        name=state.institution.name,
        rows=rows,
        total_users=live.total_users,
        api_calls=api_calls,
        lookback_days=lookback,
        has_history=has_history,
    )


def _status(state: InstitutionState, code: str) -> GroupStatus:
    if code in state.user_groups.kept_codes():
        return GroupStatus.KEPT
    if code in state.user_groups.retired_codes():
        return GroupStatus.RETIRED
    return GroupStatus.UNMANAGED


def _row(
    state: InstitutionState,
    live: LiveState,
    group: LiveGroup,
    history: PatronLoadHistory | None,
    *,
    today: date,
    lookback_days: int,
) -> SurveyRow:
    census = live.census.get(group.code)
    users = census.breakdown.total if census else live.users_in(group.code)
    # the survey reads with a census of every group; without one only an estimated total is
    # known, so active and external read 0 and "no active users" is not claimed
    active = census.breakdown.active if census else 0
    external = census.breakdown.external if census else 0
    sighting = history.last_seen(group.code) if history else None
    reasons: list[str] = []
    if users == 0:
        reasons.append(REASON_EMPTY)
    elif census is not None and active == 0:
        reasons.append(REASON_NO_ACTIVE_USERS)
    if history is not None and not history.seen_since(
        group.code, today - timedelta(days=lookback_days)
    ):
        reasons.append(reason_absent_from_loads(lookback_days))
    if commonly_unused(group.code, group.description):
        reasons.append(REASON_COMMONLY_UNUSED)
    references = sorted({r.name for r in live.references if r.group_code == group.code})
    return SurveyRow(
        slug=live.slug,
        code=group.code,
        description=group.description,
        enabled=group.enabled,
        default=group.default,
        status=_status(state, group.code),
        users=users,
        active=active,
        external_share=external / users if users else 0.0,
        last_seen=sighting.file_date if sighting else None,
        last_seen_users=sighting.users if sighting else None,
        references=tuple(references),
        candidate=bool(reasons),
        reasons=tuple(reasons),
        notes=_notes(census, history),
    )


def _notes(census: GroupCensus | None, history: PatronLoadHistory | None) -> tuple[str, ...]:
    notes = [] if history is not None else [NOTE_NO_HISTORY]
    if census is not None and not census.exact:
        notes.append(f"{NOTE_NOT_EXACT}: {census.not_exact_because}")
    return tuple(notes)
