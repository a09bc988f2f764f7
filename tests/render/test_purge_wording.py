"""Purge lines are true: list items carry no loans, so the count is "inactive or expired"."""

from __future__ import annotations

from datetime import date

from reconciler.alma.user_pages import CensusUser, Code
from reconciler.model.changes import PurgeUsers
from reconciler.reading.tally import GroupTally
from reconciler.render.symbols import describe


def test_an_active_but_expired_user_is_a_purge_candidate() -> None:
    """Expired counts with inactive; null loans (as in list items) block nobody."""
    tally = GroupTally("69", date(2026, 11, 29))
    tally.add(CensusUser("a", status=Code("ACTIVE"), expiry_date="2025-01-01Z"))
    tally.add(CensusUser("b", status=Code("INACTIVE"), loans=None))
    tally.add(CensusUser("c", status=Code("ACTIVE")))
    census = tally.census(exact=True)
    assert (census.breakdown.active, census.breakdown.purge_candidates) == (2, 2)
    assert census.breakdown.purgeable == 2


def test_the_purge_line_says_inactive_or_expired_and_that_apply_rechecks() -> None:
    """The line names both kinds and the per-user check apply makes before deleting."""
    line = describe(PurgeUsers("69", "retired", users=5))
    assert line.startswith('purge 5 inactive or expired users from "69"')
    assert "expand=loans,requests,fees" in line
