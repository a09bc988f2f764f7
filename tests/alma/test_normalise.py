"""Alma's JSON quirks are smoothed at the edge: lists, strings for numbers, dates, spaces, keys."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.alma.normalise import (
    as_bool,
    as_date,
    as_float,
    as_int,
    as_list,
    as_timestamp,
    clean_text,
    code_of,
    desc_of,
    parse_json,
)

from .fakes import FIXTURES


def test_as_list_accepts_none_one_object_or_a_list() -> None:
    """None → [], one object → [object], a list unchanged."""
    assert as_list(None) == []
    assert as_list({"code": "01"}) == [{"code": "01"}]
    assert as_list([1, 2]) == [1, 2]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("0", 0), ("14", 14), (14, 14), (3.0, 3), ({"value": "7"}, 7), (None, None), ("", None)],
)
def test_as_int(raw: object, expected: int | None) -> None:
    """Numbers arrive as strings, numbers or {"value": ...}."""
    assert as_int(raw) == expected


def test_as_int_refuses_booleans_and_junk() -> None:
    """A boolean or text where a count belongs is a wrong field, not a number."""
    with pytest.raises(ValueError, match="whole number"):
        as_int(True)
    with pytest.raises(ValueError, match="invalid literal"):
        as_int("lots")


def test_as_float_reads_fees() -> None:
    """Fees come as "12.50" or 12.5."""
    assert as_float({"value": "12.50"}) == 12.5
    assert as_float(0) == 0.0
    assert as_float(None, 0.0) == 0.0


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (True, True),
        ("true", True),
        ("TRUE", True),
        ("false", False),
        ({"value": "false"}, False),
        ("0", False),
        ("1", True),
    ],
)
def test_as_bool(raw: object, expected: bool) -> None:
    """Booleans arrive as JSON booleans or as strings in any case."""
    assert as_bool(raw) is expected


def test_as_bool_default_and_junk() -> None:
    """None takes the default; other text is an error."""
    assert as_bool(None, default=True) is True
    with pytest.raises(ValueError, match="boolean"):
        as_bool("maybe")


def test_dates_with_z_and_timestamps() -> None:
    """ "2025-06-30Z" is a calendar date; timestamps become aware UTC datetimes."""
    assert as_date("2025-06-30Z") == date(2025, 6, 30)
    assert as_date("2025-06-30") == date(2025, 6, 30)
    assert as_date("2025-06-30+02:00") == date(2025, 6, 30)
    assert as_date("") is None
    assert as_timestamp("2025-10-05T09:11:32.592Z") == datetime(
        2025, 10, 5, 9, 11, 32, 592000, tzinfo=UTC
    )
    assert as_timestamp("2025-10-05T09:11:32") == datetime(2025, 10, 5, 9, 11, 32, tzinfo=UTC)
    with pytest.raises(ValueError, match="Invalid isoformat"):
        as_date("30/06/2025")


def test_descriptions_lose_stray_spaces() -> None:
    """ " Staff  User " reads as "Staff User"; code_of and desc_of read code-table fields."""
    assert clean_text(" Staff  User ") == "Staff User"
    assert desc_of({"value": "99", "desc": " Staff User"}) == "Staff User"
    assert code_of({"value": "01", "desc": "x"}) == "01"
    assert code_of({"value": None, "desc": ""}) == ""
    assert desc_of(None) == ""


def test_duplicate_keys_keep_the_last_value() -> None:
    """A repeated key keeps its last value."""
    user = parse_json((FIXTURES / "user_with_quirks.json").read_bytes())
    assert user["external_id"] == "SIS_STUDENTS"


def test_quirky_user_fixture_reads_cleanly() -> None:
    """Every quirk of the fixture user is readable through the helpers."""
    user = parse_json((FIXTURES / "user_with_quirks.json").read_bytes())
    assert desc_of(user["user_group"]) == "Undergraduate Student"
    assert as_int(user["loans"]) == 3
    assert as_int(user["requests"], 0) == 0
    assert as_float(user["fees"]) == 12.5
    assert as_bool(user["is_researcher"]) is False
    assert as_date(user["expiry_date"]) == date(2026, 8, 31)
    assert len(as_list(user["user_identifier"])) == 1


def test_parse_json_accepts_a_bom() -> None:
    """A UTF-8 byte-order mark before the JSON is ignored."""
    assert parse_json(b'\xef\xbb\xbf{"a": 1}') == {"a": 1}


@given(st.dictionaries(st.text(max_size=5), st.integers() | st.text(max_size=5), max_size=5))
def test_parse_json_matches_json_loads_without_duplicates(document: dict[str, object]) -> None:
    """Without repeated keys, parse_json is plain json.loads."""
    assert parse_json(json.dumps(document).encode()) == document


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_as_int_round_trips_numbers_as_strings(number: int) -> None:
    """Any integer Alma sends as text reads back as that integer."""
    assert as_int(str(number)) == number
    assert as_int({"value": str(number)}) == number
