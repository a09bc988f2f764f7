"""The survey's pure logic: statuses, shares, last sightings, every candidate reason and tier."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from reconciler.model import DesiredState, KeptGroup, PatronLoadHistory
from reconciler.survey.commonly_unused import unused_entry
from reconciler.survey.report import (
    NOTE_NO_HISTORY,
    REASON_COMMONLY_UNUSED,
    REASON_EMPTY,
    REASON_NO_ACTIVE_USERS,
    GroupStatus,
    SurveyRow,
    Tier,
    build_survey,
    reason_absent_from_loads,
)

from .builders import DESIRED, HISTORY, TODAY, demo_survey, live_state, users

ABSENT = reason_absent_from_loads(400)


def rows(**kwargs: object) -> dict[str, SurveyRow]:
    survey = demo_survey(**kwargs)  # type: ignore[arg-type]
    return {row.code: row for row in survey.institutions[0].rows}


def test_a_group_in_use_is_no_candidate() -> None:
    """A group with active users, seen in a recent load and not on FLVC's list has no reason."""
    row = rows()["01"]
    assert (row.candidate, row.tier, row.reasons, row.notes) == (False, None, (), ())
    assert (row.users, row.active) == (100, 90)
    assert (row.last_seen, row.last_seen_users) == (date(2026, 11, 20), 95)


def test_empty_group_is_a_candidate_and_not_also_inactive() -> None:
    """An empty group says "empty" only: "no active users" would repeat it. It is strong."""
    assert rows()["EMPTY"].reasons == (REASON_EMPTY,)
    assert rows()["EMPTY"].tier is Tier.STRONG


def test_group_of_inactive_users_is_a_candidate() -> None:
    """Users, none active: "no active users" (and here, absent from recent loads)."""
    assert rows()["ASLEEP"].reasons == (REASON_NO_ACTIVE_USERS, ABSENT)
    assert rows()["ASLEEP"].tier is Tier.STRONG  # a strong reason outweighs the weak one


def test_group_absent_from_recent_loads_is_a_candidate() -> None:
    """Seen only before the look-back: absent (weak), with the last sighting still reported."""
    row = rows()["GUEST"]
    assert row.reasons == (ABSENT,)
    assert row.tier is Tier.WEAK
    assert (row.last_seen, row.last_seen_users) == (date(2020, 1, 6), 1)


def test_commonly_unused_group_already_retired_is_no_candidate() -> None:
    """15 Autologin is on FLVC's list, but the YAML retires it: the decision is made."""
    row = rows()["15"]
    assert row.reasons == (REASON_COMMONLY_UNUSED, ABSENT)
    assert row.flvc_list == "15 Autologin"
    assert row.status is GroupStatus.RETIRED
    assert (row.candidate, row.tier) == (False, None)


def test_commonly_unused_kept_group_is_a_strong_candidate() -> None:
    """A kept group on FLVC's list, with active users and in recent loads, is still strong."""
    kept = dataclasses.replace(
        DESIRED.user_groups,
        groups=(*DESIRED.user_groups.groups, KeptGroup("15", "Autologin")),
        retired=(),
    )
    state = dataclasses.replace(DESIRED, user_groups=kept)
    survey = build_survey(
        DesiredState((state,)), {"demo": live_state()}, {"demo": HISTORY}, today=TODAY
    )
    row = next(row for row in survey.institutions[0].rows if row.code == "15")
    assert (row.status, row.tier) == (GroupStatus.KEPT, Tier.STRONG)
    assert row.reasons[0] == REASON_COMMONLY_UNUSED


def test_group_assigned_by_hand_is_never_absent_from_loads() -> None:
    """`in_patron_loads: false` removes the weak reason: GUEST is no candidate any more."""
    marked = tuple(
        dataclasses.replace(group, in_patron_loads=False)
        if group.code in ("GUEST", "ASLEEP")
        else group
        for group in DESIRED.user_groups.groups
    )
    state = dataclasses.replace(
        DESIRED, user_groups=dataclasses.replace(DESIRED.user_groups, groups=marked)
    )
    survey = build_survey(
        DesiredState((state,)), {"demo": live_state()}, {"demo": HISTORY}, today=TODAY
    )
    surveyed = {row.code: row for row in survey.institutions[0].rows}
    assert (surveyed["GUEST"].reasons, surveyed["GUEST"].candidate) == ((), False)
    assert not surveyed["GUEST"].in_patron_loads
    assert surveyed["ASLEEP"].reasons == (REASON_NO_ACTIVE_USERS,)  # the strong one stays
    assert (survey.tiered(Tier.STRONG), survey.tiered(Tier.WEAK)) == (2, 1)
    without_history = build_survey(
        DesiredState((state,)), {"demo": live_state()}, {"demo": None}, today=TODAY
    )
    guest = next(r for r in without_history.institutions[0].rows if r.code == "GUEST")
    assert guest.notes == ()  # no history is no news for a group no load carries


@pytest.mark.parametrize(
    ("code", "description", "expected"),
    [
        ("15", "Autologin", "15 Autologin"),
        ("15", "", "15 Autologin"),  # FLVC's code, and nothing says otherwise
        ("15", "15", "15 Autologin"),
        ("69", "", "69 UBorrow partner"),
        ("99", "Mango statewide catalogue", "99 Mango"),
        ("AL", "Auto-login", "15 Autologin"),
        ("SL", "Sub Library", "Sublibrary"),
        ("SUBLIB", "", "Sublibrary"),
        ("ML", "Missing and Lost", "Missing and Lost"),
        ("MISSINGLOST", "Missing and lost", "Missing and Lost"),
        ("LOST", "Lost", "Missing and Lost"),
        ("UB", "U-Borrow partner", "69 UBorrow partner"),
        ("MANGO", "", "99 Mango"),
        ("R", "Course reserves", "Reserves"),
        ("reserve", "", "Reserves"),
        ("15", "Faculty", None),  # FLVC's code used for something else: no match
        ("99", "Visiting scholar", None),
        ("01", "Undergraduate", None),
        ("150", "Graduate", None),
        ("PRES", "Preservation and repair", None),  # not the word "reserves"
        ("GL", "Glostermann fellows", None),  # not the word "lost"
        ("GUEST", "Guest borrower", None),
    ],
)
def test_commonly_unused_matches_codes_and_whole_words(
    code: str, description: str, expected: str | None
) -> None:
    """FLVC's list matches its words in code or description, and its codes when undescribed."""
    entry = unused_entry(code, description)
    assert (entry.name if entry else None) == expected


def test_without_history_absence_is_no_reason_but_a_note() -> None:
    """No patron-load history: nobody is "absent from loads", and each row says why not."""
    for history in (None, PatronLoadHistory("demo")):
        surveyed = rows(history=history)
        assert surveyed["GUEST"].reasons == ()
        assert not surveyed["GUEST"].candidate
        assert surveyed["GUEST"].notes == (NOTE_NO_HISTORY,)
        assert surveyed["GUEST"].last_seen is None
        assert surveyed["EMPTY"].reasons == (REASON_EMPTY,)
        survey = demo_survey(history=history)
        assert not survey.institutions[0].has_history


def test_statuses_kept_retired_unmanaged() -> None:
    """Each group's place in the YAML: kept, retired, or listed nowhere (unmanaged)."""
    statuses = {code: row.status for code, row in rows().items()}
    assert statuses == {
        "01": GroupStatus.KEPT,
        "GUEST": GroupStatus.KEPT,
        "EMPTY": GroupStatus.KEPT,
        "ASLEEP": GroupStatus.KEPT,
        "15": GroupStatus.RETIRED,
        "ODD": GroupStatus.UNMANAGED,
    }


def test_external_share_enabled_default_and_references() -> None:
    """External share is external / users (0 when empty); flags and rule names come along."""
    surveyed = rows()
    assert surveyed["01"].external_share == pytest.approx(0.75)
    assert surveyed["ODD"].external_share == 1.0
    assert surveyed["EMPTY"].external_share == 0.0
    assert (surveyed["01"].default, surveyed["ODD"].enabled) == (True, False)
    assert surveyed["GUEST"].references == ("Branch: Guest loans", "Main: Guest loans")
    assert surveyed["01"].references == ()


def test_totals_and_order() -> None:
    """Rows keep Alma's table order; totals add up across the survey."""
    survey = demo_survey(GUEST=users(0))
    institution = survey.institutions[0]
    assert [row.code for row in institution.rows] == ["01", "GUEST", "EMPTY", "ASLEEP", "15", "ODD"]
    assert institution.total_users == 110
    assert institution.api_calls == survey.api_calls == 9
    # GUEST and EMPTY empty, ASLEEP inactive: strong; ODD only absent: weak; 15 retired
    assert survey.candidates == len(institution.candidates) == 4
    assert (survey.tiered(Tier.STRONG), survey.tiered(Tier.WEAK)) == (3, 1)
    assert survey.groups == 6
