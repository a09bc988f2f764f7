"""The apply lock is renewed while its run writes, and a run that lost it stops before its next
write (journaled, resumable). Time is a fake clock the tests move: nothing sleeps."""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from reconciler.alma import AlmaClient
from reconciler.apply.bulk_move import PollPolicy
from reconciler.apply.engine import ApplySettings, apply_institution
from reconciler.apply.journal import operations, read_journal
from reconciler.apply.lock import (
    DEFAULT_TTL,
    LOCK_NAME,
    RENEWAL_NAME,
    AlmaLock,
    lock_cost,
    renew_every,
)
from reconciler.errors import LockHeldError, LockLostError
from reconciler.model import DesiredState
from reconciler.sandbox import SandboxServer

from .conftest import ClientFactory, retire, retiring
from .helpers import TODAY, dead_pid, everyone, new_journal, plan_of
from .test_resume import check_converged, resume

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


class FakeClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def at(self, hours: float) -> None:
        self.now = T0 + timedelta(hours=hours)


def lock_sets(client: AlmaClient) -> list[str]:
    return sorted(
        str(s["name"]) for s in client.iter_sets() if str(s["name"]).startswith(LOCK_NAME)
    )


def test_a_run_that_keeps_writing_keeps_its_lock_past_the_first_expiry(
    sandbox: SandboxServer, make_client: ClientFactory
) -> None:
    """Writes every hour for 8 h renew the lock (last at 8 h, so until 14 h): a rival is refused
    after the 6 h the lock began with."""
    clock = FakeClock(T0)
    client = make_client(sandbox)
    holder = AlmaLock(client, "long-run", clock=clock)
    holder.acquire()
    for hour in range(1, 9):
        clock.at(hour)
        holder.keep()
    with pytest.raises(LockHeldError, match="run long-run, until 2026-03-02 22:00"):
        AlmaLock(make_client(sandbox), "rival", clock=clock).acquire()
    names = lock_sets(client)
    assert names[0] == LOCK_NAME
    assert [n.startswith(RENEWAL_NAME) for n in names[1:]] == [True]  # only the latest renewal
    holder.release()
    assert lock_sets(client) == []


def test_a_lock_not_renewed_expires_and_its_old_holder_stops_at_its_next_write(
    sandbox: SandboxServer, make_client: ClientFactory
) -> None:
    """A run silent past the expiry loses its lock to a rival; its next write raises instead,
    again without a call, and releasing leaves the rival's lock in place."""
    clock = FakeClock(T0)
    client = make_client(sandbox)
    holder = AlmaLock(client, "stalled", clock=clock)
    holder.acquire()
    clock.at(7)
    rival = AlmaLock(make_client(sandbox), "rival", owner="host-b:2", clock=clock)
    rival.acquire()
    with pytest.raises(LockLostError, match="host-b:2, run rival"):
        holder.keep()
    calls = client.ledger.total_calls
    with pytest.raises(LockLostError):
        holder.keep()
    assert client.ledger.total_calls == calls
    holder.release()
    (held,) = [s for s in client.iter_sets() if s["name"] == LOCK_NAME]
    assert "run=rival" in str(held["description"])
    rival.release()


def test_the_lock_costs_what_lock_cost_says(
    sandbox: SandboxServer, make_client: ClientFactory
) -> None:
    """Taking, renewing (at 2, 4 and 6 h) and releasing the lock over a 7 h run: the estimate."""
    clock = FakeClock(T0)
    client = make_client(sandbox)
    lock = AlmaLock(client, "measured", clock=clock)
    lock.acquire()
    for hour in range(1, 8):
        clock.at(hour)
        lock.keep()
    lock.release()
    assert client.ledger.total_calls == lock_cost(7 * 3600)
    assert lock_cost(7 * 3600) > lock_cost(3600)


def test_a_living_run_renews_before_its_lock_can_expire() -> None:
    """The longest stretch without a write (a bulk job's wait) fits between two renewals."""
    assert renew_every() + timedelta(seconds=PollPolicy().timeout_s) < DEFAULT_TTL


def test_a_run_whose_lock_was_broken_stops_before_its_next_write_and_resumes(
    sandbox: SandboxServer,
    make_client: ClientFactory,
    seeded_desired: DesiredState,
    tmp_path: Path,
) -> None:
    """Its lock broken by another run, an apply notices at its next renewal and writes nothing
    more: every intent so far has its outcome, the stop is journaled, and a resume converges."""
    client = make_client(sandbox)
    state = retiring(client, seeded_desired, retire("STAFF", "01"))
    before = everyone(client)
    plan = plan_of(client, state)
    journal = new_journal(tmp_path, plan)
    clock = FakeClock(T0)
    holder = AlmaLock(client, journal.header.run_id, clock=clock)
    holder.acquire()
    breaker = AlmaLock(make_client(sandbox), "breaker", break_lock=True, clock=clock)
    breaker.acquire()  # the holder has not noticed yet
    writes = [0]

    def guard() -> None:  # after 12 writes, three hours pass: a renewal is due
        writes[0] += 1
        if writes[0] > 12:
            clock.at(3)
        holder.keep()

    journal.guard_writes(guard)
    report = apply_institution(client, state, plan, journal, ApplySettings(TODAY))
    assert "taken over" in report.stopped
    assert f"--resume {journal.path}" in report.stopped
    _, entries = read_journal(journal.path)
    ops = list(operations(entries))
    assert len(ops) == 12
    assert all(op.outcome is not None for op in ops)
    assert [e.data.get("reason") for e in entries if e.op == "stop"] == ["lock_lost"]
    holder.release()
    breaker.release()
    resume(client, state, plan, journal.path)
    check_converged(client, before, journal.path, "STAFF")


@pytest.mark.parametrize(
    ("holder", "taken"),
    [
        ("gone from this machine", True),
        ("running here", False),
        ("on another machine", False),  # cannot be seen to be gone
    ],
)
def test_a_run_retakes_its_own_lock_only_from_a_dead_process_of_this_machine(
    holder: str, taken: bool, sandbox: SandboxServer, make_client: ClientFactory
) -> None:
    """Resuming a journal re-takes the lock of its run id only when the process that held it is
    gone; otherwise it is refused (two processes never run one journal), unless --break-lock."""
    here = socket.gethostname()
    owner = {
        "gone from this machine": f"{here}:{dead_pid()}",
        "running here": f"{here}:{os.getppid()}",
        "on another machine": f"runner-elsewhere-{here}:4242",
    }[holder]
    AlmaLock(make_client(sandbox), "run-1", owner=owner).acquire()
    resumer = AlmaLock(make_client(sandbox), "run-1")
    if taken:
        resumer.acquire()
    else:
        with pytest.raises(LockHeldError, match="run run-1"):
            resumer.acquire()
        AlmaLock(make_client(sandbox), "run-1", break_lock=True).acquire()
