"""Apply against a changing, faulty Alma: staleness, fault storms, the lock, purge safety."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from reconciler.alma import AlmaClient
from reconciler.alma.normalise import code_of
from reconciler.apply.engine import join_tolerance
from reconciler.apply.lock import LOCK_NAME, AlmaLock
from reconciler.apply.members import read_members
from reconciler.apply.moves import moved_body
from reconciler.apply.purge import in_use
from reconciler.apply.strategies import PerUserMove
from reconciler.errors import LockHeldError
from reconciler.model import DesiredState
from reconciler.sandbox import FaultConfig

from .conftest import ClientFactory, SandboxFactory, retire, retiring
from .helpers import TODAY, everyone, groups_by_code, members, new_journal, plan_of, run_apply


def move_by_staff(client: AlmaClient, user_id: str, target: str) -> None:
    """What a member of staff does in Alma's UI: give one user another group."""
    record = client.get_user(user_id)
    client.update_user(user_id, moved_body(record, target))


def test_a_user_moved_by_staff_is_skipped_not_overwritten(
    client: AlmaClient, seeded_desired: DesiredState, tmp_path: Path
) -> None:
    """A member whose group changed after the census is reported skipped and left as staff set."""
    state = retiring(client, seeded_desired, retire("02", "01"))
    plan = plan_of(client, state)
    ids = sorted(members(client, "02"))
    move_by_staff(client, ids[0], "STAFF")
    tally = PerUserMove().run(client, new_journal(tmp_path, plan), ids, source="02", target="01")
    assert tally.skipped == {"moved by someone else": 1}
    assert tally.done == len(ids) - 1
    assert code_of(client.get_user(ids[0])["user_group"]) == "STAFF"


def test_members_joined_beyond_tolerance_leave_the_group_alone(
    client: AlmaClient, seeded_desired: DesiredState, tmp_path: Path
) -> None:
    """One joiner more than the tolerance (max(10, 5 %)): 02 is not touched, reported stale."""
    state = retiring(client, seeded_desired, retire("02", "01"))
    plan = plan_of(client, state)
    planned = members(client, "02")
    for user_id in sorted(members(client, "01"))[: join_tolerance(len(planned)) + 1]:
        move_by_staff(client, user_id, "02")
    report = run_apply(client, state, plan, new_journal(tmp_path, plan))
    (group,) = report.groups
    assert "plan again" in group.stale
    assert group.moved == 0
    assert members(client, "02") >= planned
    assert groups_by_code(client)["02"]["enabled"] is True
    assert not report.complete


def test_members_joined_within_tolerance_are_moved(
    client: AlmaClient, seeded_desired: DesiredState, tmp_path: Path
) -> None:
    """5 joiners (within the tolerance) are moved with the rest and the row is disabled."""
    state = retiring(client, seeded_desired, retire("02", "01"))
    plan = plan_of(client, state)
    planned = len(members(client, "02"))
    for user_id in sorted(members(client, "01"))[:5]:
        move_by_staff(client, user_id, "02")
    report = run_apply(client, state, plan, new_journal(tmp_path, plan))
    (group,) = report.groups
    assert (group.moved, group.row) == (planned + 5, "disabled")


def test_fault_storm_run_completes(
    make_sandbox: SandboxFactory,
    make_client: ClientFactory,
    seeded_desired: DesiredState,
    tmp_path: Path,
) -> None:
    """5xx, 429 bursts, dropped connections and slow replies: every user moved, plan empty."""
    faults = FaultConfig(
        error_5xx_rate=0.08, burst_429_rate=0.04, drop_rate=0.04, slow_rate=0.05, slow_ms=300
    )
    client = make_client(make_sandbox(faults=faults))
    state = retiring(client, seeded_desired, retire("02", "01"))
    plan = plan_of(client, state)
    report = run_apply(client, state, plan, new_journal(tmp_path, plan))
    assert report.failed_users == 0
    (group,) = report.groups
    assert group.row == "disabled"
    assert client.ledger.summary().retries > 0
    assert plan_of(client, state).changes == ()


def test_second_apply_of_the_same_institution_is_refused(
    sandbox: object, make_client: ClientFactory
) -> None:
    """While one run holds the lock in Alma, another (any machine) is refused until released."""
    first, second = make_client(sandbox), make_client(sandbox)
    with (
        AlmaLock(first, "run-a", owner="host-a:1"),
        pytest.raises(LockHeldError, match="host-a:1"),
    ):
        AlmaLock(second, "run-b", owner="host-b:2").acquire()
    with AlmaLock(second, "run-b"):
        assert [s["name"] for s in second.iter_sets()].count(LOCK_NAME) == 1


def test_stale_lock_expires_and_can_be_broken(sandbox: object, make_client: ClientFactory) -> None:
    """An expired lock is replaced; a live one only with break_lock."""
    dead, live = make_client(sandbox), make_client(sandbox)
    AlmaLock(dead, "dead-run", ttl=timedelta(hours=-1)).acquire()
    taker = AlmaLock(live, "next-run")
    taker.acquire(datetime.now(UTC))
    taker.release()
    AlmaLock(dead, "holder").acquire()
    with pytest.raises(LockHeldError):
        AlmaLock(live, "impatient").acquire()
    breaker = AlmaLock(live, "breaker", break_lock=True)
    breaker.acquire()
    breaker.release()


def test_purge_never_deletes_a_user_with_loans_requests_or_fees(
    client: AlmaClient, seeded_desired: DesiredState, tmp_path: Path
) -> None:
    """Every purge candidate in use is moved instead, and still exists afterwards."""
    state = retiring(client, seeded_desired, retire("02", "01", purge_inactive_users=True))
    found = read_members(client, "02", TODAY)
    candidates = [m.primary_id for m in found.members if m.purge_candidate]
    busy = [p for p in candidates if in_use(client.get_user(p, expand="loans,requests,fees"))]
    assert busy, "the seed should give some candidates a loan, request or fee"
    plan = plan_of(client, state)
    report = run_apply(client, state, plan, new_journal(tmp_path, plan))
    (group,) = report.groups
    assert group.purged == len(candidates) - len(busy)
    assert group.moved_instead_of_purged == len(busy)
    for user_id in busy:
        assert code_of(client.get_user(user_id)["user_group"]) == "01"
    left = everyone(client)
    assert not [p for p in candidates if p not in busy and p in left]
