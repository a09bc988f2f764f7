"""The record-type and group columns of UserRecordTypeUserGroup are found, not assumed."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.errors import AlmaUnexpectedBodyError
from reconciler.reading.record_types import locate_columns

Row = dict[str, Any]


def rows(*pairs: tuple[str, str], first: str = "column0", second: str = "column1") -> list[Row]:
    return [{first: a, second: b, "enabled": True} for a, b in pairs]


def test_alma_order_is_read_as_it_is() -> None:
    """column0 record type, column1 group: the order seen so far."""
    table = rows(("PUBLIC", "01"), ("STAFF", "FAC"))
    assert locate_columns({}, table) == ("column0", "column1")


def test_swapped_columns_are_found_from_the_values() -> None:
    """Group in column0 and record type in column2: the values say which is which."""
    table = rows(("01", "PUBLIC"), ("FAC", "STAFF"), first="column0", second="column2")
    assert locate_columns({}, table) == ("column2", "column0")


@pytest.mark.parametrize(
    "header",
    [
        {"header": {"column0": "User Group", "column1": "User Record Type"}},
        {
            "columns": [
                {"name": "column1", "description": "User Record Type"},
                {"name": "column0", "description": "User Group"},
            ]
        },
    ],
)
def test_a_header_decides_when_there_is_one(header: dict[str, Any]) -> None:
    """A header naming the columns wins over the values (even over a group named STAFF)."""
    table = rows(("STAFF", "PUBLIC"))
    assert locate_columns(header, table) == ("column1", "column0")


def test_a_tie_falls_back_to_alma_order() -> None:
    """Both columns look like record types (a group coded STAFF): column0 and column1."""
    assert locate_columns({}, rows(("PUBLIC", "STAFF"))) == ("column0", "column1")


def test_an_unreadable_table_is_refused_clearly() -> None:
    """No column holds only record types: a one-line error naming the table, not a guess."""
    with pytest.raises(AlmaUnexpectedBodyError, match=r"UserRecordTypeUserGroup.*record type"):
        locate_columns({}, rows(("01", "GUEST"), ("FAC", "GUEST")))


def test_an_empty_table_needs_no_columns() -> None:
    """Nothing to read: the default order, no error."""
    assert locate_columns({}, []) == ("column0", "column1")
