"""The survey: every group of every institution, its users, and whether to consider retiring it.

FLVC's cleanup starts by sharing each institution's groups with their active-user counts; the
institution then picks what to retire. This module turns what was read (live Alma with an
exact census of every group, and the patron-load history from git) into that list, flagging
candidates for retirement with the reasons. Pure: no I/O, counts only, never a person.

Reasons come in two tiers, so that the list is worth a librarian's time. Strong reasons stand
on their own: the group is empty, none of its users is active, or it is on FLVC's list of
commonly unused groups. The weak reason, absent from every recent patron load, only hints: it
is also true of a group that is simply assigned by hand, and it is never given to a kept group
marked `in_patron_loads: false`. A group the YAML already retires is no candidate: the decision
is made, and the consortium overview counts it as a retirement instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from reconciler.errors import ReconcilerError
from reconciler.model import DesiredState, InstitutionState, PatronLoadHistory
from reconciler.model.live import GroupCensus, LiveGroup, LiveState
from reconciler.survey.commonly_unused import unused_entry


class Tier(StrEnum):
    """How much a reason says: strong ones stand alone, weak ones only hint."""

    STRONG = "strong"
    WEAK = "weak"


@dataclass(frozen=True)
class Reason:
    """Why a group may be worth retiring, in words, in a few words (for a chart), and its tier."""

    text: str
    short: str
    tier: Tier

    def __str__(self) -> str:
        return self.text


REASON_EMPTY = Reason("empty", "empty", Tier.STRONG)
REASON_NO_ACTIVE_USERS = Reason("no active users", "no active users", Tier.STRONG)
REASON_COMMONLY_UNUSED = Reason(
    "on FLVC's list of commonly unused groups", "FLVC list", Tier.STRONG
)
NOTE_NO_HISTORY = "no patron-load history"
NOTE_NOT_EXACT = "count not exact"  # followed by the census's reason, with its numbers


def reason_absent_from_loads(lookback_days: int) -> Reason:
    return Reason(
        f"absent from every patron load in the last {lookback_days:,} days",
        "not in recent loads",
        Tier.WEAK,
    )


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
    users: int  # by census; a census that is not exact says so in `notes`
    active: int
    external_share: float  # external users / users, 0..1 (0 for an empty group)
    last_seen: date | None  # the newest patron-load file in which the group had users
    last_seen_users: int | None  # how many it had in that file
    references: tuple[str, ...]  # names of the rules that name the group
    reasons: tuple[Reason, ...]  # why it may be worth retiring, strong ones first
    notes: tuple[str, ...] = ()  # worth knowing, not a reason by itself (no load history)
    in_patron_loads: bool = True  # False: a kept group marked as assigned by hand
    flvc_list: str | None = None  # the entry of FLVC's list of commonly unused groups it is

    @property
    def candidate(self) -> bool:
        """A candidate for retirement: it has a reason and the YAML does not retire it yet."""
        return bool(self.reasons) and self.status is not GroupStatus.RETIRED

    @property
    def tier(self) -> Tier | None:
        """The candidate's tier: strong when any reason is strong; None for no candidate."""
        if not self.candidate:
            return None
        return Tier.STRONG if any(r.tier is Tier.STRONG for r in self.reasons) else Tier.WEAK

    @property
    def retirement_done(self) -> bool:
        """Retired in the YAML and done in Alma: the row is disabled and empty."""
        return self.status is GroupStatus.RETIRED and not self.enabled and self.users == 0


@dataclass(frozen=True)
class InstitutionSurvey:
    """One institution's groups in Alma's order, with its totals and what reading it cost."""

    slug: str
    name: str
    rows: tuple[SurveyRow, ...]
    total_users: int
    api_calls: int
    lookback_days: int
    has_history: bool  # patron-load files were ingested, so "absent from loads" means something

    retired_gone: tuple[tuple[str, str], ...] = ()  # (code, description) retired and deleted

    @property
    def candidates(self) -> tuple[SurveyRow, ...]:
        return tuple(row for row in self.rows if row.candidate)

    def tiered(self, tier: Tier) -> tuple[SurveyRow, ...]:
        return tuple(row for row in self.rows if row.tier is tier)


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
    def total_users(self) -> int:
        return sum(i.total_users for i in self.institutions)

    @property
    def candidates(self) -> int:
        return sum(len(i.candidates) for i in self.institutions)

    def tiered(self, tier: Tier) -> int:
        return sum(len(i.tiered(tier)) for i in self.institutions)

    @property
    def api_calls(self) -> int:
        return sum(i.api_calls for i in self.institutions)


def build_survey(
    desired: DesiredState,
    live: Mapping[str, LiveState],
    histories: Mapping[str, PatronLoadHistory | None],
    *,
    today: date,
    api_calls: Mapping[str, int] | None = None,
    unread: Mapping[str, ReconcilerError] | None = None,
) -> Survey:
    """The survey of every institution of `desired` that was read (`live`), sorted by slug;
    `unread` institutions are listed with their error, in words."""
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
    reasons = {slug: str(error) for slug, error in (unread or {}).items()}
    return Survey(surveyed, today, tuple(sorted(reasons.items())))


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
    listed = _Listed(
        kept=state.user_groups.kept_codes(),
        retired=state.user_groups.retired_codes(),
        by_hand=state.user_groups.assigned_by_hand(),
    )
    rows = tuple(
        _row(
            listed,
            live,
            group,
            history if has_history else None,
            today=today,
            lookback_days=lookback,
        )
        for group in live.groups
    )
    in_alma = {group.code for group in live.groups}
    return InstitutionSurvey(
        slug=state.institution.slug,
        name=state.institution.name,
        rows=rows,
        total_users=sum(row.users for row in rows)
        if live.total_users is None
        else live.total_users,
        api_calls=api_calls,
        lookback_days=lookback,
        has_history=has_history,
        retired_gone=tuple(
            (group.code, group.description)
            for group in state.user_groups.retired
            if group.code not in in_alma
        ),
    )


@dataclass(frozen=True)
class _Listed:
    """The codes an institution's YAML lists, made once per institution, not once per row."""

    kept: frozenset[str]
    retired: frozenset[str]
    by_hand: frozenset[str]  # kept groups marked `in_patron_loads: false`

    def status(self, code: str) -> GroupStatus:
        if code in self.kept:
            return GroupStatus.KEPT
        if code in self.retired:
            return GroupStatus.RETIRED
        return GroupStatus.UNMANAGED


def _row(
    listed: _Listed,
    live: LiveState,
    group: LiveGroup,
    history: PatronLoadHistory | None,
    *,
    today: date,
    lookback_days: int,
) -> SurveyRow:
    census = live.census.get(group.code)
    users = census.breakdown.total if census else live.users_in(group.code)
    if users is None:
        # the survey's reader takes a census of every group (census_all); a count Alma gave
        # as -1 is unknown, and a survey row never shows an unknown count as a number
        raise ValueError(f"{live.slug}: no census of group {group.code!r} and no count from Alma")
    # the survey reads with a census of every group; without one only an estimated total is
    # known, so active and external read 0 and "no active users" is not claimed
    active = census.breakdown.active if census else 0
    external = census.breakdown.external if census else 0
    sighting = history.last_seen(group.code) if history else None
    loaded = group.code not in listed.by_hand
    entry = unused_entry(group.code, group.description)
    reasons: list[Reason] = []
    if users == 0:
        reasons.append(REASON_EMPTY)
    elif census is not None and active == 0:
        reasons.append(REASON_NO_ACTIVE_USERS)
    if entry is not None:
        reasons.append(REASON_COMMONLY_UNUSED)
    if (
        loaded
        and history is not None
        and not history.seen_since(group.code, today - timedelta(days=lookback_days))
    ):
        reasons.append(reason_absent_from_loads(lookback_days))
    references = sorted({r.name for r in live.references if r.group_code == group.code})
    return SurveyRow(
        slug=live.slug,
        code=group.code,
        description=group.description,
        enabled=group.enabled,
        default=group.default,
        status=listed.status(group.code),
        users=users,
        active=active,
        external_share=external / users if users else 0.0,
        last_seen=sighting.file_date if sighting else None,
        last_seen_users=sighting.users if sighting else None,
        references=tuple(references),
        reasons=tuple(reasons),
        notes=_notes(census, history, loaded=loaded),
        in_patron_loads=loaded,
        flvc_list=entry.name if entry else None,
    )


def _notes(
    census: GroupCensus | None, history: PatronLoadHistory | None, *, loaded: bool
) -> tuple[str, ...]:
    notes = [] if history is not None or not loaded else [NOTE_NO_HISTORY]
    if census is not None and not census.exact:
        notes.append(f"{NOTE_NOT_EXACT}: {census.not_exact_because}")
    return tuple(notes)
