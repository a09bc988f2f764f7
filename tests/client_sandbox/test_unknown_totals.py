"""Over HTTP: Alma's -1 totals reach the plan as unknown counts and inexact censuses, never 0."""

from __future__ import annotations

from datetime import date

from reconciler.model import DesiredState
from reconciler.reading.live import ReadOptions, read_live
from reconciler.sandbox import FaultConfig

from ..fixture_tree import ClientFactory, SandboxFactory


def test_minus_one_is_unknown_not_zero(
    make_sandbox: SandboxFactory, make_client: ClientFactory, desired: DesiredState
) -> None:
    """Every total -1: estimates and the institution's total are None; censuses not exact."""
    server = make_sandbox(faults=FaultConfig(unknown_total_rate=1.0))
    state = next(s for s in desired.institutions if s.institution.slug == "ucf")
    live = read_live(make_client(server, "ucf"), state, ReadOptions(date(2026, 11, 29)))
    assert live.estimated_counts
    assert set(live.estimated_counts.values()) == {None}
    assert live.total_users is None
    assert live.census
    assert not any(c.exact for c in live.census.values())
    assert all("total -1" in c.not_exact_because for c in live.census.values())
