"""A bulk apply killed anywhere, then resumed: the killed run's job is waited for, its set is
deleted, every member ends in the target group once, and the row is disabled only at the end.

STAFF (about 100 users) is retired into 01 with the bulk threshold at 10, so the job moves it;
the sandbox's job fails every 20th member, leaving a residue the per-user mop-up moves. Most
crash points use the journal's crash hook (the run stops dead before its Nth durable write, the
job going on in the sandbox as it would in Alma); two use a real SIGKILL of a subprocess.
"""

from __future__ import annotations

from collections import Counter
from itertools import pairwise
from pathlib import Path

import pytest

from reconciler.alma import AlmaClient, RetryPolicy
from reconciler.alma.normalise import code_of
from reconciler.apply.engine import ApplySettings, apply_institution
from reconciler.apply.journal import Journal, SimulatedCrash, operations, read_journal
from reconciler.model import DesiredState, InstitutionState
from reconciler.model.plan import InstitutionPlan
from reconciler.planning import plan_file
from reconciler.sandbox import FaultConfig, JobTiming, SandboxServer

from .conftest import QUICK_POLLS, SLUG, ClientFactory, SandboxFactory, bulk_state, retire
from .helpers import (
    TODAY,
    everyone,
    groups_by_code,
    kill_9_when,
    new_journal,
    plan_of,
    without_group,
)

FAILS_EVERY = 20  # the job leaves every 20th member: the residue the mop-up moves
# long enough that a process killed once the run is journaled leaves it running (about 0.45 s)
SLOW_JOB = JobTiming(start_delay_s=0.2, batch_size=20, batch_delay_s=0.05)
# Journal writes of an uninterrupted run (crash_after=N stops it dead before write N+1):
#  1 header              2-3 a kept row enabled (GUEST)   4 bulk intent (member ids)
#  5 set_creating (name) 6 set_created (id)               7 members_added (one chunk)
#  8 job_starting (name) 9 job_submitted (instance id)    10 job_finished   11 set_deleted
# 12 bulk outcome        13-20 four mop-up moves (intents, outcomes)
# 21-22 mapping rows removed  23-24 row disabled          25 end
CRASH_POINTS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 16, 17, 20, 21, 22, 23, 24)
SET_POSTED, RUN_POSTED = 5, 8  # the POST made it, the id it returned is not journaled
JOB = "M148"
STORM_RETRY = RetryPolicy(max_attempts=8, base_delay=0.01, max_delay=0.05)


def bulk_sandbox(make_sandbox: SandboxFactory, **knobs: object) -> SandboxServer:
    return make_sandbox(job_fails_every=FAILS_EVERY, **knobs)


def staff_retired(client: AlmaClient, seeded: DesiredState) -> InstitutionState:
    return bulk_state(client, seeded, retire("STAFF", "01"))


def resume(client: AlmaClient, state: InstitutionState, plan: InstitutionPlan, path: Path) -> None:
    _, entries = read_journal(path)
    journal = Journal.reopen(path)
    settings = ApplySettings(TODAY, poll=QUICK_POLLS, resume_from=entries)
    apply_institution(client, state, plan, journal, settings)


def check_bulk_converged(
    server: SandboxServer,
    client: AlmaClient,
    before: dict[str, dict[str, object]],
    journal: Path,
) -> None:
    """Members in 01, nothing else changed, row disabled, each group changed once, no set or
    job left behind, no job run started while another ran."""
    moving = {pid for pid, u in before.items() if code_of(u["user_group"]) == "STAFF"}
    for pid, record in everyone(client).items():
        expected = "01" if pid in moving else code_of(before[pid]["user_group"])
        assert code_of(record["user_group"]) == expected, pid
        assert without_group(record) == without_group(before[pid])
    assert groups_by_code(client)["STAFF"]["enabled"] is False
    # from Alma's side: every member's group changed exactly once, nobody else's at all
    assert server.app.store.group_changes(SLUG) == dict.fromkeys(moving, 1)
    # from the journal's side: no user has two moves recorded done
    _, entries = read_journal(journal)
    user_of = {e.op_id: e.data["user"] for e in entries if e.event == "intent" and e.op == "move"}
    done = Counter(
        user_of[e.op_id]
        for e in entries
        if e.event == "outcome" and e.op == "move" and e.data["status"] == "done"
    )
    assert max(done.values(), default=1) == 1
    bulk = [o for o in operations(entries) if o.op == "bulk_move"]
    assert bulk
    assert all(o.outcome is not None for o in bulk)
    assert list(client.iter_sets()) == []  # every set the runs made is deleted
    runs = sorted(client.iter_job_instances(JOB), key=lambda i: str(i["submit_time"]))
    assert all(i.get("end_time") for i in runs)
    for earlier, later in pairwise(runs):
        assert str(later["submit_time"]) >= str(earlier["end_time"])  # waited, never raced
    # each run the journal says started is one Alma ran, and no run went unrecorded
    started = [o for o in bulk if o.outcome is not None and o.outcome["status"] != "not_started"]
    assert len(started) == len(runs)


@pytest.mark.parametrize("crash_after", CRASH_POINTS)
def test_bulk_resume_after_a_crash_at_any_journal_write(
    crash_after: int,
    make_sandbox: SandboxFactory,
    make_client: ClientFactory,
    seeded_desired: DesiredState,
    tmp_path: Path,
) -> None:
    """A bulk run stopped dead before its Nth journal write, then resumed, ends as if whole."""
    server = bulk_sandbox(make_sandbox)
    client = make_client(server)
    state = staff_retired(client, seeded_desired)
    before = everyone(client)
    plan = plan_of(client, state)
    journal = new_journal(tmp_path, plan, crash_after=crash_after)
    with pytest.raises(SimulatedCrash):
        apply_institution(client, state, plan, journal, ApplySettings(TODAY, poll=QUICK_POLLS))
    if groups_by_code(client)["STAFF"]["enabled"] is False:  # disabled only once empty
        assert not [u for u in everyone(client).values() if code_of(u["user_group"]) == "STAFF"]
    resume(client, state, plan, journal.path)
    check_bulk_converged(server, client, before, journal.path)


def test_uninterrupted_bulk_run_journals_every_step_the_crash_points_cover(
    make_sandbox: SandboxFactory,
    make_client: ClientFactory,
    seeded_desired: DesiredState,
    tmp_path: Path,
) -> None:
    """The crash points above span the whole run: its journal has exactly 25 lines."""
    server = bulk_sandbox(make_sandbox)
    client = make_client(server)
    state = staff_retired(client, seeded_desired)
    before = everyone(client)
    plan = plan_of(client, state)
    journal = new_journal(tmp_path, plan)
    apply_institution(client, state, plan, journal, ApplySettings(TODAY, poll=QUICK_POLLS))
    _, entries = read_journal(journal.path)
    steps = [e.data["kind"] for e in entries if e.op == "bulk_event"]
    assert steps == [
        "set_creating",
        "set_created",
        "members_added",
        "job_starting",
        "job_submitted",
        "job_finished",
        "set_deleted",
    ]
    assert len(entries) + 1 == 25  # with the header
    assert max(CRASH_POINTS) < 25
    check_bulk_converged(server, client, before, journal.path)


def test_resume_waits_for_the_run_the_killed_apply_started(
    make_sandbox: SandboxFactory,
    make_client: ClientFactory,
    seeded_desired: DesiredState,
    tmp_path: Path,
) -> None:
    """Killed after Alma accepted the run, before its instance id was journaled: the resume
    finds the run by its name, waits while it runs, deletes its set, and moves only the
    residue itself (no second run)."""
    server = bulk_sandbox(make_sandbox, job_timing=JobTiming(1.0, 20, 0.05))
    client = make_client(server)
    state = staff_retired(client, seeded_desired)
    before = everyone(client)
    plan = plan_of(client, state)
    journal = new_journal(tmp_path, plan, crash_after=RUN_POSTED)
    with pytest.raises(SimulatedCrash):
        apply_institution(client, state, plan, journal, ApplySettings(TODAY, poll=QUICK_POLLS))
    (run,) = client.iter_job_instances(JOB)
    assert not run.get("end_time")  # queued for a second yet: still running at the resume
    resume(client, state, plan, journal.path)
    _, entries = read_journal(journal.path)
    resumed = [e.data for e in entries if e.op == "bulk_event" and e.data.get("resumed")]
    assert [(d["kind"], d.get("instance_id")) for d in resumed] == [
        ("job_finished", run["id"]),
        ("set_deleted", None),
    ]
    (bulk,) = [o for o in operations(entries) if o.op == "bulk_move"]
    assert bulk.outcome is not None
    assert (bulk.outcome["status"], bulk.outcome["resumed"]) == ("COMPLETED_WARNING", True)
    assert len(list(client.iter_job_instances(JOB))) == 1
    check_bulk_converged(server, client, before, journal.path)


def test_resume_deletes_the_set_whose_id_was_never_journaled(
    make_sandbox: SandboxFactory,
    make_client: ClientFactory,
    seeded_desired: DesiredState,
    tmp_path: Path,
) -> None:
    """Killed after Alma made the set, before its id was journaled: the resume finds it by
    the name journaled before the POST and deletes it; no orphan set stays in Alma."""
    server = bulk_sandbox(make_sandbox)
    client = make_client(server)
    state = staff_retired(client, seeded_desired)
    plan = plan_of(client, state)
    journal = new_journal(tmp_path, plan, crash_after=SET_POSTED)
    with pytest.raises(SimulatedCrash):
        apply_institution(client, state, plan, journal, ApplySettings(TODAY, poll=QUICK_POLLS))
    (orphan,) = client.iter_sets()
    resume(client, state, plan, journal.path)
    _, entries = read_journal(journal.path)
    deleted = [e.data["set_id"] for e in entries if e.data.get("kind") == "set_deleted"]
    assert deleted[0] == orphan["id"]
    (first, _) = [o for o in operations(entries) if o.op == "bulk_move"]
    assert first.outcome is not None
    assert first.outcome["status"] == "not_started"
    assert list(client.iter_sets()) == []


@pytest.mark.parametrize("kill_at", ["members_added", "job_submitted"])
def test_bulk_resume_after_kill_9_of_a_real_process(
    kill_at: str,
    make_sandbox: SandboxFactory,
    make_client: ClientFactory,
    seeded_desired: DesiredState,
    tmp_path: Path,
) -> None:
    """SIGKILL of a bulk apply process mid-run; resuming its journal finishes the job exactly."""
    server = bulk_sandbox(make_sandbox, latency_ms=20, job_timing=SLOW_JOB)
    client = make_client(server)
    before = everyone(client)
    journal = kill_9_when(
        server.base_url,
        server.api_keys()[SLUG],
        tmp_path,
        SLUG,
        lambda text: f'"kind":"{kill_at}"' in text,
        "--bulk",
    )
    plan = plan_file.load(tmp_path / "plan.json").institutions[0]
    state = staff_retired(client, seeded_desired)
    resume(client, state, plan, journal)
    check_bulk_converged(server, client, before, journal)


# seeds whose storms hit the bulk move's own POSTs: the set's creation, the job's run
STORMS = [(3, "/conf/sets"), (9, "/conf/jobs/{job_id}")]


@pytest.mark.parametrize("storm", STORMS)
def test_bulk_fault_storm_run_completes(
    storm: tuple[int, str],
    make_sandbox: SandboxFactory,
    make_client: ClientFactory,
    seeded_desired: DesiredState,
    tmp_path: Path,
) -> None:
    """5xx, 429 bursts, dropped connections, answers lost after the work was done and slow
    replies on every call of a bulk apply, the set and job POSTs included: every member moved
    once, one set made and deleted, plan empty."""
    seed, posted = storm
    faults = FaultConfig(
        error_5xx_rate=0.06,
        burst_429_rate=0.03,
        drop_rate=0.03,
        lost_answer_rate=0.03,
        slow_rate=0.05,
        slow_ms=200,
        seed=seed,
    )
    server = bulk_sandbox(make_sandbox, faults=faults, job_timing=JobTiming(0.05, 50, 0.0))
    client = make_client(server, retry=STORM_RETRY)
    state = staff_retired(client, seeded_desired)
    before = everyone(client)
    plan = plan_of(client, state)
    journal = new_journal(tmp_path, plan)
    report = apply_institution(client, state, plan, journal, ApplySettings(TODAY, poll=QUICK_POLLS))
    assert report.failed_users == 0
    (group,) = report.groups
    assert (group.strategy, group.row) == ("bulk", "disabled")
    faulted = {
        e.template
        for e in server.request_log.entries
        if e.method == "POST" and e.status in (0, 429, 500)
    }
    assert posted in faulted  # the storm hit the bulk move's own POSTs, not only the reads
    assert plan_of(client, state).changes == ()
    check_bulk_converged(server, client, before, journal.path)
