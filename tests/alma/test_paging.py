"""Paging trusts pages over totals: -1, over-reported totals and empty pages past the end."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.alma.paging import iter_records, read_page

from .fakes import FIXTURES, Canned, ClientFactory, FakeAlma


class FakeList:
    """A list endpoint over `records` that reports `total` and counts its calls."""

    def __init__(self, records: list[int], total: int | str | None) -> None:
        self.records = records
        self.total = total
        self.calls: list[tuple[int, int]] = []

    def __call__(self, limit: int, offset: int) -> Mapping[str, Any]:
        self.calls.append((limit, offset))
        envelope: dict[str, Any] = {"item": self.records[offset : offset + limit]}
        if self.total is not None:
            envelope["total_record_count"] = self.total
        return envelope


def test_walks_every_page_until_a_short_page() -> None:
    """250 records in pages of 100: three calls, the short third page ends the walk."""
    fetch = FakeList(list(range(250)), 250)
    assert list(iter_records(fetch, "item")) == list(range(250))
    assert fetch.calls == [(100, 0), (100, 100), (100, 200)]


def test_exact_multiple_reads_one_empty_page() -> None:
    """200 records: the walk confirms the end with an empty third page, total or not."""
    fetch = FakeList(list(range(200)), 200)
    assert len(list(iter_records(fetch, "item"))) == 200
    assert len(fetch.calls) == 3


def test_under_reported_total_does_not_cut_the_walk_short() -> None:
    """A total of 150 over 250 real records still yields all 250 (a census must not stop early)."""
    fetch = FakeList(list(range(250)), 150)
    assert len(list(iter_records(fetch, "item"))) == 250


def test_minus_one_total_walks_until_a_short_page() -> None:
    """total_record_count -1 (unknown): the walk ends on the first short page."""
    fetch = FakeList(list(range(230)), -1)
    assert len(list(iter_records(fetch, "item"))) == 230
    assert len(fetch.calls) == 3


def test_over_reported_total_stops_on_an_empty_page() -> None:
    """A total of 500 over 200 real records: the empty third page ends the walk."""
    fetch = FakeList(list(range(200)), 500)
    assert len(list(iter_records(fetch, "item"))) == 200
    assert fetch.calls == [(100, 0), (100, 100), (100, 200)]


def test_total_as_a_string_and_missing_total() -> None:
    """A total sent as "150", or none at all, still pages correctly."""
    assert len(list(iter_records(FakeList(list(range(150)), "150"), "item"))) == 150
    assert len(list(iter_records(FakeList(list(range(150)), None), "item"))) == 150


def test_single_object_instead_of_a_list() -> None:
    """One record sent as an object (not a list) is one record."""
    page = read_page({"item": {"id": "1"}, "total_record_count": 1}, "item")
    assert page.records == ({"id": "1"},)
    assert page.total == 1


def test_past_end_fixture_is_an_empty_page_with_the_old_total() -> None:
    """The past-the-end envelope reads as no records; the stale total is kept but not trusted."""
    envelope = json.loads((FIXTURES / "users_past_end.json").read_text())
    page = read_page(envelope, "user")
    assert page.records == ()
    assert page.total == 145


def test_max_records_and_page_size_bounds() -> None:
    """max_records stops early; a page size above Alma's 100 is refused."""
    fetch = FakeList(list(range(500)), 500)
    assert list(iter_records(fetch, "item", page_size=10, max_records=25)) == list(range(25))
    with pytest.raises(ValueError, match="page_size"):
        list(iter_records(fetch, "item", page_size=101))


def test_iter_users_pages_over_http_with_expand_full(
    fake_alma: FakeAlma, make_client: ClientFactory
) -> None:
    """iter_users asks for expand=full, 100 per page, and stops at the empty page past the end."""
    full_page = {"user": [{"primary_id": f"u{i}"} for i in range(100)], "total_record_count": 999}
    fake_alma.script(
        "GET",
        "/users",
        Canned(body=full_page),
        Canned(body=json.loads((FIXTURES / "users_past_end.json").read_text())),
    )
    users = list(make_client().iter_users("user_group~15"))
    assert len(users) == 100
    first, second = fake_alma.seen("GET", "/users")
    assert first.query == {
        "q": ["user_group~15"],
        "limit": ["100"],
        "offset": ["0"],
        "expand": ["full"],
    }
    assert second.query["offset"] == ["100"]


def test_iter_users_yields_each_user_once_when_pages_shift(
    fake_alma: FakeAlma, make_client: ClientFactory
) -> None:
    """A user seen on two pages (the list shifted between calls) is yielded once."""
    first = {"user": [{"primary_id": f"u{i}"} for i in range(100)], "total_record_count": 150}
    second = {"user": [{"primary_id": f"u{i}"} for i in range(99, 149)]}
    fake_alma.script("GET", "/users", Canned(body=first), Canned(body=second))
    ids = [user["primary_id"] for user in make_client().iter_users("user_group~15")]
    assert len(ids) == len(set(ids)) == 149


@given(
    count=st.integers(min_value=0, max_value=450),
    reported=st.sampled_from(["exact", "minus_one", "over", "under", "missing"]),
    page_size=st.sampled_from([1, 7, 100]),
)
def test_every_record_is_read_whatever_the_total_says(
    count: int, reported: str, page_size: int
) -> None:
    """For any size and any total Alma might report, every record comes back exactly once."""
    total: int | None = {
        "exact": count,
        "minus_one": -1,
        "over": count + 500,
        "under": count // 2,
        "missing": None,
    }[reported]
    fetch = FakeList(list(range(count)), total)
    assert list(iter_records(fetch, "item", page_size=page_size)) == list(range(count))
    assert len(fetch.calls) == count // page_size + 1
