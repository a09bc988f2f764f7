"""Every safety rule: one case that trips it and one that does not."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from types import MappingProxyType

import pytest

from reconciler.model import InstitutionState, KeptGroup, RetiredGroup
from reconciler.model.history import PatronLoadFile, PatronLoadHistory
from reconciler.model.live import LiveGroup, LiveState, RuleReference
from reconciler.model.plan import Rule
from reconciler.planning import safety
from reconciler.planning.diff import diff_institution
from reconciler.planning.plan import estimate_api_calls

from .builders import breakdown, desired, live

TODAY = date(2026, 11, 29)
U = KeptGroup("01", "Undergraduate", default=True)
GUEST = KeptGroup("GUEST", "Guest borrower")
ROWS = (LiveGroup("01", "Undergraduate", True, True), LiveGroup("GUEST", "Guest"))
RETIRE_15 = RetiredGroup("15", "Autologin", "Nobody logs in this way.", move_users_to="GUEST")
LIVE_15 = (*ROWS, LiveGroup("15", "Autologin"))


def load_file(day: date, groups: dict[str, int]) -> PatronLoadFile:
    return PatronLoadFile(
        file_name=f"patrons_{day:%Y%m%d}.xml.zip",
        sha256=f"{day.toordinal():064x}",
        file_date=day,
        size_bytes=100,
        record_types=("PUBLIC",),
        users=sum(groups.values()),
        users_by_group=tuple(sorted(groups.items())),
    )


FRESH = PatronLoadHistory("demo", (load_file(date(2026, 11, 1), {"01": 900}),))


def violations(
    state: InstitutionState,
    live_state: LiveState,
    history: PatronLoadHistory | None = FRESH,
) -> list[Rule]:
    changes = diff_institution(state, live_state)
    context = safety.SafetyContext(
        state, live_state, history, changes, estimate_api_calls(changes), TODAY
    )
    return [v.rule for v in safety.check(context)]


def test_clean_retirement_has_no_violations() -> None:
    """A well-formed retirement with a fresh history passes every rule."""
    assert violations(desired([U, GUEST], [RETIRE_15]), live(LIVE_15, {"15": 5})) == []


def test_unmanaged_group() -> None:
    """A live group in neither list is a violation; listing it clears it."""
    extra = (*ROWS, LiveGroup("ODD", "Odd"))
    assert violations(desired([U, GUEST]), live(extra)) == [Rule.UNMANAGED_GROUP]
    assert violations(desired([U, GUEST, KeptGroup("ODD", "Odd")]), live(extra)) == []


def test_users_without_target() -> None:
    """Users left in a retired group with no move target trip the rule; zero users do not."""
    no_target = RetiredGroup("15", "Autologin", "Nobody logs in this way.")
    assert violations(desired([U, GUEST], [no_target]), live(LIVE_15, {"15": 3})) == [
        Rule.USERS_WITHOUT_TARGET
    ]
    assert violations(desired([U, GUEST], [no_target]), live(LIVE_15, {"15": 0})) == []


def test_purging_everyone_needs_no_target() -> None:
    """When every user is purgeable, no move target is needed."""
    purge = RetiredGroup("15", "Autologin", "Nobody logs in.", purge_inactive_users=True)
    state = live(LIVE_15, census={"15": breakdown(4, inactive=4, purgeable=4)})
    assert violations(desired([U, GUEST], [purge]), state) == []


def test_in_recent_patron_load() -> None:
    """A retired group in a load within the look-back trips; an older load does not."""
    recent = PatronLoadHistory("demo", (load_file(date(2026, 11, 1), {"15": 12}),))
    old = PatronLoadHistory("demo", (load_file(date(2024, 1, 1), {"15": 12}),))
    state = desired([U, GUEST], [RETIRE_15])
    assert violations(state, live(LIVE_15, {"15": 5}), recent) == [Rule.IN_RECENT_PATRON_LOAD]
    assert violations(state, live(LIVE_15, {"15": 5}), old) == []


def test_group_assigned_by_hand_may_not_be_in_a_recent_load() -> None:
    """A kept group marked in_patron_loads: false that a recent load carries trips the rule,
    with the load's date and count; an old load, or no mark, does not."""
    by_hand = KeptGroup("GUEST", "Guest borrower", in_patron_loads=False)
    recent = PatronLoadHistory("demo", (load_file(date(2026, 11, 1), {"GUEST": 7}),))
    old = PatronLoadHistory("demo", (load_file(date(2024, 1, 1), {"GUEST": 7}),))
    assert violations(desired([U, by_hand]), live(ROWS), recent) == [Rule.IN_RECENT_PATRON_LOAD]
    assert violations(desired([U, by_hand]), live(ROWS), old) == []
    assert violations(desired([U, by_hand]), live(ROWS), None) == []
    assert violations(desired([U, GUEST]), live(ROWS), recent) == []
    changes = diff_institution(desired([U, by_hand]), live(ROWS))
    context = safety.SafetyContext(desired([U, by_hand]), live(ROWS), recent, changes, 0, TODAY)
    [found] = safety.check(context)
    assert "2026-11-01 gives it 7 users" in found.message
    assert "in_patron_loads: false" in found.way_out


def test_history_missing_or_stale() -> None:
    """Retiring needs a history, and one not older than Alma's last patron load."""
    state = desired([U, GUEST], [RETIRE_15])
    assert violations(state, live(LIVE_15, {"15": 5}), None) == [Rule.PATRON_LOAD_HISTORY]
    stale = live(LIVE_15, {"15": 5}, last_sis_run=datetime(2026, 11, 20, 4, 0))
    assert violations(state, stale) == [Rule.PATRON_LOAD_HISTORY]
    current = live(LIVE_15, {"15": 5}, last_sis_run=datetime(2026, 10, 30, 4, 0))
    assert violations(state, current) == []


def test_history_not_needed_without_retirements() -> None:
    """Institutions that retire nothing need no patron-load history."""
    assert violations(desired([U, GUEST]), live(ROWS), None) == []


def test_referenced_group() -> None:
    """A fulfillment rule naming the retired group trips; one naming a kept group does not."""
    ref = RuleReference("Fulfillment unit rules (Analytics)", "Loan: autologin 14d", "15")
    state = desired([U, GUEST], [RETIRE_15])
    assert violations(state, live(LIVE_15, {"15": 1}, references=(ref,))) == [Rule.REFERENCED_GROUP]
    other = RuleReference("Fulfillment unit rules (Analytics)", "Loan: guests", "GUEST")
    assert violations(state, live(LIVE_15, {"15": 1}, references=(other,))) == []


def test_protected_or_default() -> None:
    """Retiring a protected group, or Alma's default without a new one, trips the rule."""
    state = desired([U, GUEST], [RETIRE_15], protected_groups=("15",))
    assert violations(state, live(LIVE_15, {"15": 1})) == [Rule.PROTECTED_OR_DEFAULT]
    default_rows = (
        LiveGroup("01", "Undergraduate"),
        ROWS[1],
        LiveGroup("15", "Autologin", True, True),
    )
    no_default = desired([KeptGroup("01", "Undergraduate"), GUEST], [RETIRE_15])
    assert violations(no_default, live(default_rows, {"15": 1})) == [Rule.PROTECTED_OR_DEFAULT]
    assert violations(desired([U, GUEST], [RETIRE_15]), live(default_rows, {"15": 1})) == []


@pytest.mark.parametrize(
    ("moved", "acknowledged", "tripped"),
    [
        (100, None, False),  # under both limits
        (2500, None, True),  # above max_users_moved
        (2500, 2500, False),  # acknowledged with the exact count
        (2500, 2400, True),  # acknowledged with a stale count
        (100, 90, True),  # a stale acknowledgement is flagged even below the limits
    ],
)
def test_users_moved_threshold(moved: int, acknowledged: int | None, tripped: bool) -> None:
    """Crossing max_users_moved needs acknowledge_users_moved equal to the plan's count."""
    retired = RetiredGroup(
        "15",
        "Autologin",
        "Nobody logs in.",
        move_users_to="GUEST",
        acknowledge_users_moved=acknowledged,
    )
    state = desired([U, GUEST], [retired], max_users_moved=2000, max_users_moved_pct=50)
    found = violations(state, live(LIVE_15, {"15": moved}, total_users=100_000))
    assert found == ([Rule.THRESHOLD] if tripped else [])


def test_users_moved_percentage_threshold() -> None:
    """Moving more than max_users_moved_pct of the institution also needs acknowledgement."""
    state = desired([U, GUEST], [RETIRE_15], max_users_moved=10_000, max_users_moved_pct=10)
    assert violations(state, live(LIVE_15, {"15": 200}, total_users=1000)) == [Rule.THRESHOLD]
    assert violations(state, live(LIVE_15, {"15": 50}, total_users=1000)) == []


def test_api_budget() -> None:
    """More estimated calls than Alma's daily calls left trips; enough calls left does not."""
    state = desired([U, GUEST], [RETIRE_15])
    assert violations(state, live(LIVE_15, {"15": 300}, daily_calls_left=100)) == [Rule.API_BUDGET]
    assert violations(state, live(LIVE_15, {"15": 300}, daily_calls_left=100_000)) == []


def test_every_violation_names_numbers_and_a_way_out() -> None:
    """Violation messages carry the numbers and a concrete next step."""
    state = desired([U, GUEST], [RETIRE_15], max_users_moved=10)
    changes = diff_institution(state, live(LIVE_15, {"15": 25}))
    context = safety.SafetyContext(state, live(LIVE_15, {"15": 25}), FRESH, changes, 60, TODAY)
    (found,) = safety.check(context)
    assert "25" in found.message
    assert "acknowledge_users_moved: 25" in found.way_out


def test_census_not_exact() -> None:
    """A retired group whose census is not exact blocks the plan, with the numbers."""
    state = desired([U, GUEST], [RETIRE_15])
    exact = live(LIVE_15, census={"15": breakdown(97)})
    census = dataclasses.replace(
        exact.census["15"],
        exact=False,
        not_exact_because="Alma reported 251 users but 248 distinct users were seen",
    )
    inexact = dataclasses.replace(exact, census=MappingProxyType({"15": census}))
    assert Rule.CENSUS_NOT_EXACT not in violations(state, exact)
    assert Rule.CENSUS_NOT_EXACT in violations(state, inexact)
    changes = diff_institution(state, inexact)
    context = safety.SafetyContext(state, inexact, FRESH, changes, 0, TODAY)
    (found,) = safety.census_not_exact(context)
    assert "251" in found.message
    assert "97 members" in found.message
    assert found.code == "15"
