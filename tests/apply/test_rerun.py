"""Running apply again after a crash finishes the dead run, whichever way apply is started.

`apply -i` plans afresh, so it gets a journal of its own: the dead run's in-flight operations
are settled against Alma first and its journal closed, naming the run that superseded it.
Crashes use the journal's crash hook (the run stops dead before its Nth durable write).
"""

from __future__ import annotations

import socket
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from reconciler.alma import AlmaClient
from reconciler.alma.normalise import code_of
from reconciler.apply.journal import (
    Journal,
    JournalHeader,
    SimulatedCrash,
    new_run_id,
    operations,
    read_journal,
    unfinished_journals,
)
from reconciler.apply.lock import AlmaLock
from reconciler.model import DesiredState
from reconciler.model.plan import Plan
from reconciler.runs.applying import ApplyRun, apply_plan, outcome_of_apply, rollback_journal
from reconciler.runs.outcomes import InstitutionOutcome
from reconciler.runs.reads import plan_institutions
from reconciler.sandbox import SandboxServer

from .conftest import SLUG, ClientFactory, SandboxFactory, retire, retiring
from .helpers import TODAY, dead_pid, everyone, groups_by_code, without_group


def run_of(server: SandboxServer, desired: DesiredState, folder: Path, **options: Any) -> ApplyRun:
    institution = desired.institutions[0].institution
    env = {"ALMA_API_URL": server.base_url, institution.api_key_env: server.api_keys()[SLUG]}
    return ApplyRun(desired, env, TODAY, folder / "journal", folder / "histories", **options)


def fresh_plan(run: ApplyRun) -> Plan:
    """What `apply -i` applies: a plan made from Alma as it is now."""
    plan, result = plan_institutions(
        run.histories_root, run.desired, run.env, today=TODAY, commit=None
    )
    assert not result.failures
    return plan


def state_of(client: AlmaClient) -> dict[str, tuple[str, dict[str, Any]]]:
    """Every user's group and the rest of its record (not the link: each sandbox has its own
    address), by primary ID."""
    return {
        pid: (code_of(u["user_group"]), {k: v for k, v in without_group(u).items() if k != "link"})
        for pid, u in everyone(client).items()
    }


def done_moves(*journals: Path) -> Counter[str]:
    return Counter(
        str(op.intent["user"])
        for path in journals
        for op in operations(read_journal(path)[1])
        if op.op == "move" and op.outcome and op.outcome["status"] == "done"
    )


@pytest.mark.parametrize("crash_after", [2, 8, 21, 40])
def test_apply_i_after_a_crash_settles_and_closes_the_dead_run(
    crash_after: int,
    make_sandbox: SandboxFactory,
    make_client: ClientFactory,
    seeded_desired: DesiredState,
    tmp_path: Path,
) -> None:
    """A crashed `apply -i` run again: same end state as one uninterrupted run, the old journal
    has an outcome for every intent and names its successor, rollback of both restores Alma."""
    crashed, calm = make_sandbox(), make_sandbox()
    client, calm_client = make_client(crashed), make_client(calm)
    desired = DesiredState((retiring(client, seeded_desired, retire("STAFF", "01")),))
    before, rows_before = state_of(client), groups_by_code(client)

    dying = run_of(crashed, desired, tmp_path, crash_after=crash_after)
    with pytest.raises(SimulatedCrash):
        apply_plan(fresh_plan(dying), dying)
    (old,) = unfinished_journals(dying.journal_dir, SLUG)
    old_run = read_journal(old)[0].run_id
    assert [op for op in operations(read_journal(old)[1]) if op.outcome is None], "in flight"

    again = run_of(crashed, desired, tmp_path)
    (report,) = apply_plan(fresh_plan(again), again)
    assert report.complete, report
    assert report.superseded == (old_run,)
    assert unfinished_journals(again.journal_dir, SLUG) == []
    _, entries = read_journal(old)
    assert all(op.outcome is not None for op in operations(entries))
    assert entries[-1].op == "end"
    assert entries[-1].data["superseded_by"] == report.run_id

    uninterrupted = run_of(calm, desired, tmp_path / "calm")
    (calm_report,) = apply_plan(fresh_plan(uninterrupted), uninterrupted)
    assert calm_report.complete
    assert state_of(client) == state_of(calm_client)
    assert groups_by_code(client) == groups_by_code(calm_client)
    new = Path(report.journal)
    assert max(done_moves(old, new).values()) == 1

    for journal in (new, old):  # newest first, as the later run disabled the row
        rolled, _ = rollback_journal(journal, again)
        assert (rolled.failed, rolled.stopped) == (0, "")
    assert state_of(client) == before
    # rollback re-enables what apply disabled (it does not undo the enabling of a kept row)
    assert groups_by_code(client)["STAFF"] == rows_before["STAFF"]


def test_the_same_saved_plan_again_resumes_its_own_journal(
    make_sandbox: SandboxFactory,
    make_client: ClientFactory,
    seeded_desired: DesiredState,
    tmp_path: Path,
) -> None:
    """A saved plan applied again after a crash continues the dead run's journal (same run id,
    no second journal): every intent gets its outcome and the run completes."""
    server = make_sandbox()
    client = make_client(server)
    desired = DesiredState((retiring(client, seeded_desired, retire("STAFF", "01")),))
    dying = run_of(server, desired, tmp_path, crash_after=21)
    # resuming re-checks the saved plan's safety: leave out the one violation this test's
    # institution has (no patron-load history), which is not what it is about
    made = fresh_plan(dying)
    saved = replace(made, institutions=tuple(replace(p, violations=()) for p in made.institutions))
    with pytest.raises(SimulatedCrash):
        apply_plan(saved, dying)
    (journal,) = unfinished_journals(dying.journal_dir, SLUG)

    again = run_of(server, desired, tmp_path)
    (report,) = apply_plan(saved, again)
    assert report.complete, report
    assert (Path(report.journal), report.superseded) == (journal, ())
    assert sorted(again.journal_dir.glob("*.jsonl")) == [journal]
    _, entries = read_journal(journal)
    assert all(op.outcome is not None for op in operations(entries))
    assert max(done_moves(journal).values()) == 1


def test_a_lock_left_by_a_killed_run_names_its_journal_and_break_lock_finishes_it(
    make_sandbox: SandboxFactory,
    make_client: ClientFactory,
    seeded_desired: DesiredState,
    tmp_path: Path,
) -> None:
    """After a real kill -9 the dead run's lock is still in Alma: `apply -i` is refused (exit 3)
    and told which journal to resume; with --break-lock it settles and closes the dead run."""
    server = make_sandbox()
    client = make_client(server)
    desired = DesiredState((retiring(client, seeded_desired, retire("STAFF", "01")),))
    dying = run_of(server, desired, tmp_path, crash_after=8)
    with pytest.raises(SimulatedCrash):
        apply_plan(fresh_plan(dying), dying)
    (old,) = unfinished_journals(dying.journal_dir, SLUG)
    old_run = read_journal(old)[0].run_id
    # what kill -9 of a run on this machine leaves behind: its lock, owned by a process gone
    AlmaLock(client, old_run, owner=f"{socket.gethostname()}:{dead_pid()}").acquire()

    refused = run_of(server, desired, tmp_path)
    (report,) = apply_plan(fresh_plan(refused), refused)
    assert outcome_of_apply(report) is InstitutionOutcome.REFUSED
    assert f"apply --resume {old}" in report.refused
    assert "\n" not in report.refused
    assert unfinished_journals(refused.journal_dir, SLUG) == [old]
    assert not [line for line in report.refused.splitlines() if line.strip()][1:]  # one line

    breaking = run_of(server, desired, tmp_path, break_lock=True)
    (report,) = apply_plan(fresh_plan(breaking), breaking)
    assert report.complete, report
    assert report.superseded == (old_run,)
    assert unfinished_journals(breaking.journal_dir, SLUG) == []


def test_a_stopped_run_with_an_operation_in_flight_is_still_unfinished(tmp_path: Path) -> None:
    """A run that ended (say at Alma's daily limit) while a move was in flight is settled by
    the next apply: only an end note with every operation answered is finished."""
    header = JournalHeader(new_run_id(), SLUG, "sha256:test", None, "test")
    journal = Journal.create(tmp_path, header)
    journal.intent("move:u1", "move", user="u1", group_before="STAFF", group_after="01")
    journal.note("stop", reason="daily_limit")
    journal.note("end", stopped=True)
    assert unfinished_journals(tmp_path, SLUG) == [journal.path]
    journal.outcome("move:u1", "move", "skipped", why="re-checked", resumed=True)
    assert unfinished_journals(tmp_path, SLUG) == []
