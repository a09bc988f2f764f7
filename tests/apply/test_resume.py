"""Killed anywhere, an apply is finished by resuming its journal: same end state, nobody twice.

Most crash points use the journal's crash hook (the run stops dead before its Nth durable
write, as after kill -9, leaving calls in flight); a few use a real SIGKILL of a subprocess.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from reconciler.alma import AlmaClient
from reconciler.alma.normalise import code_of
from reconciler.apply.engine import ApplySettings, apply_institution
from reconciler.apply.journal import Journal, SimulatedCrash, operations, read_journal
from reconciler.model import DesiredState, InstitutionState
from reconciler.model.plan import InstitutionPlan
from reconciler.planning import plan_file

from .conftest import SLUG, ClientFactory, SandboxFactory, retire, retiring
from .helpers import (
    TODAY,
    everyone,
    groups_by_code,
    kill_9_when,
    new_journal,
    plan_of,
    without_group,
)

CRASH_POINTS = (1, 2, 3, 4, 5, 6, 7, 9, 11, 14, 17, 20, 23, 26, 29, 32, 35, 38, 40, 41, 42, 43)


def check_converged(
    client: AlmaClient, before: dict[str, dict[str, object]], journal: Path, source: str
) -> None:
    """Every member in 01, nothing else changed, row disabled, nobody moved twice."""
    after = everyone(client)
    moving = {pid for pid, u in before.items() if code_of(u["user_group"]) == source}
    for pid, record in after.items():
        expected = "01" if pid in moving else code_of(before[pid]["user_group"])
        assert code_of(record["user_group"]) == expected, pid
        assert without_group(record) == without_group(before[pid])
    assert groups_by_code(client)[source]["enabled"] is False
    _, entries = read_journal(journal)
    done = Counter(
        str(op.intent["user"])
        for op in operations(entries)
        if op.op == "move" and op.outcome and op.outcome["status"] == "done"
    )
    assert set(done) == moving
    assert max(done.values()) == 1


def resume(client: AlmaClient, state: InstitutionState, plan: InstitutionPlan, path: Path) -> None:
    _, entries = read_journal(path)
    journal = Journal.reopen(path)
    apply_institution(client, state, plan, journal, ApplySettings(TODAY, resume_from=entries))


@pytest.mark.parametrize("crash_after", CRASH_POINTS)
def test_resume_after_a_crash_at_any_journal_write(
    crash_after: int,
    make_sandbox: SandboxFactory,
    make_client: ClientFactory,
    seeded_desired: DesiredState,
    tmp_path: Path,
) -> None:
    """A run stopped dead before its Nth journal write, then resumed, ends as if uninterrupted."""
    client = make_client(make_sandbox())
    state = retiring(client, seeded_desired, retire("STAFF", "01"))
    before = everyone(client)
    plan = plan_of(client, state)
    journal = new_journal(tmp_path, plan, crash_after=crash_after)
    with pytest.raises(SimulatedCrash):
        apply_institution(client, state, plan, journal, ApplySettings(TODAY))
    if groups_by_code(client)["STAFF"]["enabled"] is False:  # disabled only once empty
        assert not [u for u in everyone(client).values() if code_of(u["user_group"]) == "STAFF"]
    resume(client, state, plan, journal.path)
    check_converged(client, before, journal.path, "STAFF")


@pytest.mark.parametrize("lines_before_kill", [3, 12, 25])
def test_resume_after_kill_9_of_a_real_process(
    lines_before_kill: int,
    make_sandbox: SandboxFactory,
    make_client: ClientFactory,
    seeded_desired: DesiredState,
    tmp_path: Path,
) -> None:
    """SIGKILL of an apply process mid-run; resuming its journal finishes the job exactly."""
    server = make_sandbox(latency_ms=40)
    client = make_client(server)
    before = everyone(client)
    journal = kill_9_when(
        server.base_url,
        server.api_keys()[SLUG],
        tmp_path,
        SLUG,
        lambda text: len(text.splitlines()) >= lines_before_kill,
    )
    plan = plan_file.load(tmp_path / "plan.json").institutions[0]
    state = retiring(client, seeded_desired, retire("STAFF", "01"))
    resume(client, state, plan, journal)
    check_converged(client, before, journal, "STAFF")
