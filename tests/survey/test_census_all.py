"""`census_all`: one pass over every user gives the same census as one census per group."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from reconciler.alma import AlmaClient
from reconciler.desired import load_desired_state
from reconciler.reading.census import census, census_all
from reconciler.sandbox import InProcessSandbox
from tests.reading.harsh import HarshUsers, people

TODAY = date(2026, 11, 29)


def counts(client: HarshUsers) -> tuple[dict[str, int], bool]:
    result = census_all(client, TODAY)  # type: ignore[arg-type]
    return {code: c.breakdown.total for code, c in result.groups.items()}, result.exact


@pytest.mark.parametrize(
    ("users", "total", "offsets", "exact"),
    [
        (250, 250, [0, 100, 200], True),  # a short last page ends it
        (200, 200, [0, 100, 200], True),  # an exact multiple: one empty page confirms the end
        (40, 40, [0], True),
        # a total too low: the walk goes on past it, and the census is not exact (read twice)
        (250, 120, [0, 100, 200] * 2, False),
        (150, None, [0, 100] * 2, False),  # no total: page by page, never exact
    ],
)
def test_pages_until_a_short_page_whatever_the_total(
    users: int, total: int | None, offsets: list[int], exact: bool
) -> None:
    """Every user is counted once; only a short page at the total ends the walk."""
    client = HarshUsers(people(users, "01"), totals={None: -1 if total is None else total})
    assert counts(client) == ({"01": users}, exact)
    assert sorted(c.offset for c in client.calls) == sorted(offsets)


def test_a_total_too_high_costs_calls_not_users() -> None:
    """Pages the total promises are read (and read again when short), users counted once."""
    client = HarshUsers(people(250, "01"), totals={None: 900})
    assert counts(client) == ({"01": 250}, False)


def test_groups_by_exact_code_and_counts_a_user_once() -> None:
    """Codes are exact (01 is not 010); a user shown on two pages is counted once."""
    listed = people(60, "01") + people(30, "010", start=60) + people(20, "01", start=50)
    client = HarshUsers(listed, totals={None: 90})
    assert counts(client) == ({"01": 60, "010": 30}, True)


def test_matches_one_census_per_group_in_the_sandbox(tmp_path: Path, seeded: Path) -> None:
    """Against the sandbox, the one-pass census equals the per-group census, group by group."""
    desired = load_desired_state(seeded / "institutions", ["ucf"])
    ucf = desired.institutions[0].institution
    with InProcessSandbox(seeded / ".sandbox", seeded / "institutions") as sandbox:
        client = AlmaClient.for_institution(ucf, {}, sandbox.transport("ucf"))
        everyone = census_all(client, TODAY)
        one_by_one = {code: census(client, code, TODAY) for code in everyone.groups}
    assert everyone.exact
    assert everyone.groups == one_by_one
    assert everyone.users > 500
