"""Strategies own their cost, and the plan's estimate is made from those costs (and is what an
apply calls)."""

from __future__ import annotations

from pathlib import Path

from reconciler.alma import AlmaClient
from reconciler.apply import strategies
from reconciler.apply.lock import AlmaLock, lock_cost
from reconciler.model import DesiredState
from reconciler.model.changes import (
    DisableGroup,
    MoveUsers,
    PurgeUsers,
    RemoveMapping,
    VerifyEmpty,
)
from reconciler.planning.plan import estimate_api_calls

from .conftest import retire, retiring
from .helpers import new_journal, plan_of, run_apply


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
    """move + purge + verify + two table phases, the lock and the fresh plan after: the sum of
    the cost functions of the code that makes those calls."""
    changes = (
        MoveUsers("15", "why", target="GUEST", users=120),
        PurgeUsers("15", "why", users=7),
        VerifyEmpty("15", "why"),
        RemoveMapping("15", "why", record_types=("PUBLIC",)),
        DisableGroup("15", "why"),
    )
    steps = (
        1
        + 2 * strategies.TABLE_WRITE_CALLS
        + strategies.move_cost(120, bulk_threshold=1000, has_template=False)
        + strategies.purge_cost(7)
        + strategies.verify_cost()
    )
    assert estimate_api_calls(changes) == steps + lock_cost(0)
    slow = estimate_api_calls(changes, calls_per_second=0.01, fresh_plan_calls=40)
    assert slow == steps + lock_cost(steps / 0.01) + 40
    assert lock_cost(steps / 0.01) > lock_cost(0)  # 8 h at that pace: the lock is renewed
    assert estimate_api_calls(()) == 0
    assert strategies.move_cost(120, bulk_threshold=1000, has_template=False) == 2 + 240


def test_plan_estimate_is_what_an_apply_calls(
    client: AlmaClient, seeded_desired: DesiredState, tmp_path: Path
) -> None:
    """The plan's estimate equals the calls of the lock, the apply and the fresh plan after it."""
    state = retiring(client, seeded_desired, retire("02", "01"))
    plan = plan_of(client, state)
    before = client.ledger.total_calls
    journal = new_journal(tmp_path, plan)
    with AlmaLock(client, journal.header.run_id) as lock:
        journal.guard_writes(lock.keep)
        report = run_apply(client, state, plan, journal)
    assert plan_of(client, state).changes == ()
    assert report.api_calls < plan.api_calls
    assert client.ledger.summary().retries == 0
    assert client.ledger.total_calls - before == plan.api_calls
