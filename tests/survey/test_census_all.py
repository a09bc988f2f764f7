"""`census_all`: one pass over every user gives the same census as one census per group."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import pytest

from reconciler.alma import AlmaClient
from reconciler.alma.users import UserPage
from reconciler.desired import load_desired_state
from reconciler.reading.census import census, census_all
from reconciler.sandbox import InProcessSandbox

T = TypeVar("T")
R = TypeVar("R")
TODAY = date(2026, 11, 29)


class PagedUsers:
    """A stand-in for the client's users list: `users` in pages, with a chosen `total`."""

    def __init__(self, users: list[dict[str, Any]], total: int | None) -> None:
        self.users, self.total = users, total
        self.offsets: list[int] = []

    def search_users(self, *, limit: int, offset: int, expand_full: bool) -> UserPage:
        assert expand_full
        self.offsets.append(offset)
        return UserPage(tuple(self.users[offset : offset + limit]), self.total)  # type: ignore[arg-type]

    def map_concurrently(self, fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
        return [fn(item) for item in items]


def people(count: int, group: str = "01", start: int = 0) -> list[dict[str, Any]]:
    return [
        {"primary_id": f"p{n}", "user_group": {"value": group}, "status": {"value": "ACTIVE"}}
        for n in range(start, start + count)
    ]


def counts(client: PagedUsers) -> dict[str, int]:
    result = census_all(client, TODAY)  # type: ignore[arg-type]
    return {code: c.breakdown.total for code, c in result.items()}


@pytest.mark.parametrize(
    ("users", "total", "offsets"),
    [
        (250, 250, [0, 100, 200]),  # a short last page ends it
        (200, 200, [0, 100, 200]),  # an exact multiple: one empty page confirms the end
        (250, 120, [0, 100, 200]),  # a total too low: the walk goes on past it
        (150, None, [0, 100]),  # no total: page by page
        (250, 900, [0, *range(100, 901, 100)]),  # a total too high costs calls, not users
        (40, 40, [0]),
    ],
)
def test_pages_until_a_short_page_whatever_the_total(
    users: int, total: int | None, offsets: list[int]
) -> None:
    """Every user is counted once; only a short page ends the walk."""
    client = PagedUsers(people(users), total)
    assert counts(client) == {"01": users}
    assert sorted(client.offsets) == offsets


def test_groups_by_exact_code_and_counts_a_user_once() -> None:
    """Codes are exact (01 is not 010); a user shown on two pages is counted once."""
    listed = people(60, "01") + people(30, "010", start=60) + people(20, "01", start=50)
    client = PagedUsers(listed, len(listed))
    assert counts(client) == {"01": 60, "010": 30}


def test_matches_one_census_per_group_in_the_sandbox(tmp_path: Path, seeded: Path) -> None:
    """Against the sandbox, the one-pass census equals the per-group census, group by group."""
    desired = load_desired_state(seeded / "institutions", ["ucf"])
    ucf = desired.institutions[0].institution
    with InProcessSandbox(seeded / ".sandbox", seeded / "institutions") as sandbox:
        client = AlmaClient.for_institution(ucf, {}, sandbox.transport("ucf"))
        everyone = census_all(client, TODAY)
        one_by_one = {code: census(client, code, TODAY) for code in everyone}
    assert everyone == one_by_one
    assert sum(c.breakdown.total for c in everyone.values()) > 500
