"""A small survey built in memory: one institution, its groups, a census and a load history."""

from __future__ import annotations

from datetime import date
from types import MappingProxyType

from reconciler.model import (
    DesiredState,
    InstitutionState,
    KeptGroup,
    PatronLoadFile,
    PatronLoadHistory,
    RetiredGroup,
    UserGroups,
)
from reconciler.model.live import GroupCensus, LiveGroup, LiveState, RuleReference, UserBreakdown
from reconciler.survey.report import Survey, build_survey

from ..builders import institution

TODAY = date(2026, 11, 29)
INSTITUTION = institution("demo", name="Demo State College")
DESIRED = InstitutionState(
    INSTITUTION,
    UserGroups(
        (
            KeptGroup("01", "Undergraduate", default=True),
            KeptGroup("GUEST", "Guest borrower"),
            KeptGroup("EMPTY", "Nobody here"),
            KeptGroup("ASLEEP", "Inactive only"),
        ),
        (RetiredGroup("15", "Autologin", "Nobody logs in this way.", move_users_to="GUEST"),),
    ),
)


def users(total: int, *, active: int | None = None, external: int = 0) -> UserBreakdown:
    active = total if active is None else active
    return UserBreakdown(
        total=total,
        active=active,
        inactive=total - active,
        internal=total - external,
        external=external,
    )


CENSUS = {
    "01": users(100, active=90, external=75),
    "GUEST": users(4),
    "EMPTY": users(0),
    "ASLEEP": users(3, active=0),
    "15": users(2),
    "ODD": users(5, active=5, external=5),
}


def live_state(**census_overrides: UserBreakdown) -> LiveState:
    census = {**CENSUS, **census_overrides}
    return LiveState(
        slug="demo",
        groups=(
            LiveGroup("01", "Undergraduate", True, True),
            LiveGroup("GUEST", "Guest borrower"),
            LiveGroup("EMPTY", "Nobody here"),
            LiveGroup("ASLEEP", "Inactive only"),
            LiveGroup("15", "Autologin"),
            LiveGroup("ODD", "Listed nowhere", enabled=False),
        ),
        census=MappingProxyType(
            {code: GroupCensus(code, b, f"fp-{code}") for code, b in census.items()}
        ),
        estimated_counts=MappingProxyType({code: b.total for code, b in census.items()}),
        total_users=sum(b.total for b in census.values()),
        references=(
            RuleReference("rules", "Main: Guest loans", "GUEST"),
            RuleReference("rules", "Branch: Guest loans", "GUEST"),
        ),
    )


def load_file(day: date, groups: dict[str, int]) -> PatronLoadFile:
    return PatronLoadFile(
        file_name=f"patrons_{day:%Y%m%d}.xml.zip",
        sha256=f"{day.toordinal():064x}",
        file_date=day,
        size_bytes=1000,
        record_types=("PUBLIC",),
        users=sum(groups.values()),
        users_by_group=tuple(sorted(groups.items())),
    )


HISTORY = PatronLoadHistory(
    "demo",
    (
        load_file(date(2020, 1, 6), {"ASLEEP": 3, "GUEST": 1}),  # long before the look-back
        load_file(date(2026, 10, 1), {"01": 80, "EMPTY": 2}),
        load_file(date(2026, 11, 20), {"01": 95}),
    ),
)


def demo_survey(
    history: PatronLoadHistory | None = HISTORY, **census_overrides: UserBreakdown
) -> Survey:
    return build_survey(
        DesiredState((DESIRED,)),
        {"demo": live_state(**census_overrides)},
        {"demo": history},
        today=TODAY,
        api_calls={"demo": 9},
    )
