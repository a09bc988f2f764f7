"""A census is exact (every member Alma reports was seen) or it says it is not."""

from __future__ import annotations

import dataclasses
from datetime import date
from types import MappingProxyType

from reconciler.alma import AlmaClient
from reconciler.model import KeptGroup, PatronLoadHistory, RetiredGroup
from reconciler.model.live import LiveGroup
from reconciler.model.plan import InstitutionPlan, Rule
from reconciler.planning.plan import plan_institution
from reconciler.reading.census import (
    census_all,
    exact_census,
    exact_members,
    is_empty_exactly,
)
from reconciler.reading.exact import PAGE, TAKEN_TOGETHER
from tests.planning.builders import desired, live
from tests.reading.harsh import HarshUsers, people

TODAY = date(2026, 11, 29)
Q = "user_group~15"


def client(fake: HarshUsers) -> AlmaClient:
    return fake  # type: ignore[return-value]


def issue_case(**knobs: object) -> HarshUsers:
    """The case from issue 9: 251 members of "15", a reordering Alma, page two short by 3."""
    users = people(251, "15") + people(400, "01", start=251)
    settings: dict[str, object] = {"reorder": True, "short": {(Q, PAGE): 3}, **knobs}
    return HarshUsers(users, **settings)  # type: ignore[arg-type]


def test_issue_case_counts_all_251_members() -> None:
    """Reordered pages and one page short by 3: the census still finds 251, exactly."""
    fake = issue_case()
    found = exact_census(client(fake), "15", TODAY)
    assert (found.breakdown.total, found.exact) == (251, True)


def test_a_short_page_is_read_again_without_a_full_scan() -> None:
    """With a fixed order, reading the short page again completes the word-match census."""
    fake = issue_case(reorder=False)
    found = exact_census(client(fake), "15", TODAY)
    assert (found.breakdown.total, found.exact) == (251, True)
    assert [c.offset for c in fake.calls] == [0, 100, 200, 100]  # the short page, again
    assert all(c.q == Q for c in fake.calls)


def test_a_persistently_short_page_falls_back_to_a_full_scan() -> None:
    """A word-match page that is short on every read: a full scan by primary_id decides."""
    fake = issue_case(short_times=None)
    found = exact_census(client(fake), "15", TODAY)
    assert (found.breakdown.total, found.exact) == (251, True)
    scans = [c for c in fake.calls if c.q is None]
    assert scans
    assert all(c.order_by == "primary_id" for c in scans)


def test_a_census_that_cannot_be_exact_says_so_with_numbers() -> None:
    """When no reading sees Alma's total, the census is marked not exact and says why."""
    fake = issue_case(short_times=None, totals={None: 700})
    found = exact_census(client(fake), "15", TODAY)
    assert not found.exact
    why = found.not_exact_because
    assert "Alma reported 251 users but" in why  # the word match's total, then what was seen
    assert "Alma reported 700 users but 651 distinct users were seen" in why  # the full scan
    assert is_empty_exactly(client(fake), "15", TODAY) is None


def test_an_unknown_total_is_never_taken_as_exact() -> None:
    """total_record_count -1 on the word match: no second word-match read, a full scan."""
    fake = issue_case(totals={Q: -1})
    found = exact_census(client(fake), "15", TODAY)
    assert (found.breakdown.total, found.exact) == (251, True)
    word_reads = [c for c in fake.calls if c.q == Q and c.offset == 0]
    assert len(word_reads) == 1


def test_a_total_too_low_reads_on_and_is_not_exact_by_itself() -> None:
    """A word-match total below the truth: every member is still read, then checked."""
    fake = HarshUsers(people(251, "15"), totals={Q: 120, None: 120})
    found = exact_census(client(fake), "15", TODAY)
    assert found.breakdown.total == 251
    assert not found.exact
    assert "120" in found.not_exact_because


def test_members_are_exact_and_complete() -> None:
    """exact_members gives every member id once, sorted, with the purge candidates."""
    users = people(130, "15")
    users[7]["status"] = {"value": "INACTIVE"}
    fake = HarshUsers(users, short={(Q, 0): 2})
    members = exact_members(client(fake), "15", TODAY)
    assert members.exact
    assert members.primary_ids == tuple(sorted(u["primary_id"] for u in users))
    assert members.inactive_or_expired == {users[7]["primary_id"]}


def test_an_empty_group_costs_one_call() -> None:
    """No word match at all: one page, total 0, exactly empty."""
    fake = HarshUsers(people(50, "01"))
    assert is_empty_exactly(client(fake), "15", TODAY) is True
    assert len(fake.calls) == 1


def test_a_group_with_members_is_not_empty() -> None:
    """is_empty_exactly is False as soon as an exact census finds a member."""
    fake = HarshUsers(people(3, "15") + people(10, "01", start=3))
    assert is_empty_exactly(client(fake), "15", TODAY) is False


def test_the_fingerprint_is_of_the_set_not_the_order() -> None:
    """Two readings in different orders give the same member fingerprint."""
    users = people(260, "15")
    first = exact_census(client(HarshUsers(users, reorder=True)), "15", TODAY)
    second = exact_census(client(HarshUsers(list(reversed(users)), reorder=False)), "15", TODAY)
    fewer = exact_census(client(HarshUsers(users[1:], reorder=False)), "15", TODAY)
    assert first.member_fingerprint == second.member_fingerprint
    assert fewer.member_fingerprint != first.member_fingerprint


def test_census_all_rereads_a_short_page_and_is_exact() -> None:
    """The one-pass census reads a short page again and counts every group exactly."""
    users = people(150, "01") + people(90, "15", start=150) + people(1, "99", start=240)
    fake = HarshUsers(users, short={(None, 100): 3})
    found = census_all(client(fake), TODAY)
    assert found.exact
    assert {c: g.breakdown.total for c, g in found.groups.items()} == {"01": 150, "15": 90, "99": 1}
    assert found.of("EMPTY").breakdown.total == 0
    assert found.of("EMPTY").exact


def test_census_all_that_cannot_be_exact_marks_every_group() -> None:
    """A total that paging never matches: every group's census, the empty ones too, says so."""
    fake = HarshUsers(people(150, "01"), totals={None: 155})
    found = census_all(client(fake), TODAY)
    assert not found.exact
    assert not found.of("01").exact
    assert not found.of("EMPTY").exact
    assert "155" in found.of("EMPTY").not_exact_because


def test_census_all_holds_a_page_window_not_the_institution() -> None:
    """Records are dropped as they are counted: memory is bounded by the pages counted
    together, not by users."""
    fake = HarshUsers(people(5_000, "01"))
    found = census_all(client(fake), TODAY)
    assert found.of("01").breakdown.total == 5_000
    assert fake.alive_high_water <= TAKEN_TOGETHER * PAGE


def plan_for(fake: HarshUsers) -> InstitutionPlan:
    """Plan retiring "15" (into GUEST) on a census taken from `fake`."""
    state = desired(
        [KeptGroup("01", "Undergraduate", default=True), KeptGroup("GUEST", "Guest")],
        [RetiredGroup("15", "Autologin", "unused", move_users_to="GUEST")],
        max_users_moved=10_000,
        max_users_moved_pct=100,
    )
    rows = (LiveGroup("01", "U", True, True), LiveGroup("GUEST", "G"), LiveGroup("15", "A"))
    live_state = live(rows, {"15": 251})
    census = MappingProxyType({"15": exact_census(client(fake), "15", TODAY)})
    live_state = dataclasses.replace(live_state, census=census)
    history = PatronLoadHistory("demo", ())
    return plan_institution(state, live_state, history, today=TODAY)


def test_the_issue_case_plans_251_or_says_the_census_is_not_exact() -> None:
    """Never "move 97" silently: 251 when the census can be exact, else a violation."""
    recoverable = plan_for(issue_case())
    assert recoverable.users_moved == 251
    assert Rule.CENSUS_NOT_EXACT not in {v.rule for v in recoverable.violations}
    hopeless = plan_for(issue_case(short_times=None, totals={None: 700}))
    assert Rule.CENSUS_NOT_EXACT in {v.rule for v in hopeless.violations}
