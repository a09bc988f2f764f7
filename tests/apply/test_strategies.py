"""Strategies own their cost, and the plan's estimate is made from those costs."""

from __future__ import annotations

from reconciler.apply import strategies
from reconciler.model.changes import (
    DisableGroup,
    MoveUsers,
    PurgeUsers,
    RemoveMapping,
    VerifyEmpty,
)
from reconciler.planning.plan import estimate_api_calls


def test_per_user_costs_two_calls_a_user() -> None:
    """A per-user move is one GET and one PUT per user."""
    assert strategies.PerUserMove.cost(250) == 500


def test_bulk_is_chosen_only_with_a_template_at_the_threshold() -> None:
    """Bulk needs a job template and at least bulk_threshold users; otherwise per user."""
    assert not strategies.uses_bulk(5000, bulk_threshold=1000, has_template=False)
    assert not strategies.uses_bulk(999, bulk_threshold=1000, has_template=True)
    assert strategies.uses_bulk(1000, bulk_threshold=1000, has_template=True)


def test_bulk_costs_far_fewer_calls_than_per_user() -> None:
    """50,000 users in bulk: a set, 50 member chunks, the job; per user it is 100,000 calls."""
    assert strategies.bulk_cost(50_000) <= 80
    assert strategies.per_user_cost(50_000) == 100_000


def test_plan_estimate_adds_the_step_costs() -> None:
    """move + purge + verify + two table phases: the sum of apply's own cost functions."""
    changes = (
        MoveUsers("15", "why", target="GUEST", users=120),
        PurgeUsers("15", "why", users=7),
        VerifyEmpty("15", "why"),
        RemoveMapping("15", "why", record_types=("PUBLIC",)),
        DisableGroup("15", "why"),
    )
    expected = (
        1
        + 2 * strategies.TABLE_WRITE_CALLS
        + strategies.move_cost(120, bulk_threshold=1000, has_template=False)
        + strategies.purge_cost(7)
        + strategies.verify_cost()
    )
    assert estimate_api_calls(changes) == expected
    assert strategies.move_cost(120, bulk_threshold=1000, has_template=False) == 2 + 240
