"""The survey's pure logic: statuses, shares, last sightings and every candidate reason."""

from __future__ import annotations

from datetime import date

import pytest

from reconciler.model import PatronLoadHistory
from reconciler.survey.report import (
    NOTE_NO_HISTORY,
    REASON_COMMONLY_UNUSED,
    REASON_EMPTY,
    REASON_NO_ACTIVE_USERS,
    GroupStatus,
    SurveyRow,
    commonly_unused,
    reason_absent_from_loads,
)

from .builders import demo_survey, users

ABSENT = reason_absent_from_loads(400)


def rows(**kwargs: object) -> dict[str, SurveyRow]:
    survey = demo_survey(**kwargs)  # type: ignore[arg-type]
    return {row.code: row for row in survey.institutions[0].rows}


def test_a_group_in_use_is_no_candidate() -> None:
    """A group with active users, seen in a recent load and not on FLVC's list has no reason."""
    row = rows()["01"]
    assert (row.candidate, row.reasons, row.notes) == (False, (), ())
    assert (row.users, row.active) == (100, 90)
    assert (row.last_seen, row.last_seen_users) == (date(2026, 11, 20), 95)


def test_empty_group_is_a_candidate_and_not_also_inactive() -> None:
    """An empty group says "empty" only: "no active users" would repeat it."""
    assert rows()["EMPTY"].reasons == (REASON_EMPTY,)


def test_group_of_inactive_users_is_a_candidate() -> None:
    """Users, none active: "no active users" (and here, absent from recent loads)."""
    assert rows()["ASLEEP"].reasons == (REASON_NO_ACTIVE_USERS, ABSENT)


def test_group_absent_from_recent_loads_is_a_candidate() -> None:
    """Seen only before the look-back: absent, with the last sighting still reported."""
    row = rows()["GUEST"]
    assert row.reasons == (ABSENT,)
    assert (row.last_seen, row.last_seen_users) == (date(2020, 1, 6), 1)


def test_commonly_unused_group_is_a_candidate() -> None:
    """15 Autologin is on FLVC's list; it is also retired in the YAML."""
    row = rows()["15"]
    assert REASON_COMMONLY_UNUSED in row.reasons
    assert row.status is GroupStatus.RETIRED


@pytest.mark.parametrize(
    ("code", "description", "expected"),
    [
        ("15", "Anything", True),
        ("69", "", True),
        ("99", "Statewide", True),
        ("AL", "Auto login", True),
        ("SL", "Sub Library", True),
        ("ML", "Missing and Lost", True),
        ("UB", "U-Borrow partner", True),
        ("MANGO", "", True),
        ("R", "Course reserves", True),
        ("reserve", "", True),
        ("01", "Undergraduate", False),
        ("150", "Graduate", False),
        ("GUEST", "Guest borrower", False),
    ],
)
def test_commonly_unused_matches_codes_and_keywords(
    code: str, description: str, expected: bool
) -> None:
    """FLVC's list matches the codes 15, 69, 99 and its keywords, in any case or spacing."""
    assert commonly_unused(code, description) is expected


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
    assert survey.candidates == len(institution.candidates) == 5
    assert survey.groups == 6
