"""The engine over real HTTP against the sandbox: moves, verification, rows, convergence."""

from __future__ import annotations

from pathlib import Path

from reconciler.alma import AlmaClient
from reconciler.alma.normalise import code_of
from reconciler.apply.engine import ApplySettings, apply_institution
from reconciler.apply.journal import read_journal
from reconciler.apply.rollback import rollback
from reconciler.model import DesiredState

from .conftest import QUICK_POLLS, bulk_state, retire, retiring
from .helpers import (
    TODAY,
    everyone,
    groups_by_code,
    members,
    new_journal,
    plan_of,
    run_apply,
    without_group,
)


def test_plan_apply_plan_is_empty_and_only_groups_change(
    client: AlmaClient, seeded_desired: DesiredState, tmp_path: Path
) -> None:
    """Retiring 02 moves every member to 01, disables 02 last, and a fresh plan is empty."""
    state = retiring(client, seeded_desired, retire("02", "01"))
    before = everyone(client)
    moving = {pid for pid, u in before.items() if code_of(u["user_group"]) == "02"}
    assert len(moving) > 20
    plan = plan_of(client, state)
    report = run_apply(client, state, plan, new_journal(tmp_path, plan))
    assert report.stopped == ""
    (group,) = report.groups
    assert (group.moved, group.failures, group.row) == (len(moving), (), "disabled")
    after = everyone(client)
    assert members(client, "02") == set()
    for pid, record in after.items():
        expected = "01" if pid in moving else code_of(before[pid]["user_group"])
        assert code_of(record["user_group"]) == expected
        assert without_group(record) == without_group(before[pid])
    assert groups_by_code(client)["02"]["enabled"] is False
    assert plan_of(client, state).changes == ()


def test_bulk_apply_converges_and_rolls_back(
    client: AlmaClient, seeded_desired: DesiredState, tmp_path: Path
) -> None:
    """Above the threshold the job moves the group; plan is then empty; rollback restores it."""
    state = bulk_state(client, seeded_desired, retire("02", "01"))
    before = everyone(client)
    moving = {pid for pid, u in before.items() if code_of(u["user_group"]) == "02"}
    plan = plan_of(client, state)
    journal = new_journal(tmp_path, plan)
    settings = ApplySettings(TODAY, poll=QUICK_POLLS)
    report = apply_institution(client, state, plan, journal, settings)
    (group,) = report.groups
    assert (group.strategy, group.moved, group.row) == ("bulk", len(moving), "disabled")
    assert members(client, "01") >= moving
    assert plan_of(client, state).changes == ()
    _, entries = read_journal(journal.path)
    assert any(e.op == "bulk_event" and e.data["kind"] == "set_deleted" for e in entries)
    back = new_journal(tmp_path, plan)
    restored = rollback(client, back, entries)
    assert (restored.moved_back, restored.rows_enabled) == (len(moving), ("02",))
    after = everyone(client)
    for pid, record in after.items():
        assert code_of(record["user_group"]) == code_of(before[pid]["user_group"])
        assert without_group(record) == without_group(before[pid])
