"""The engine over real HTTP against the sandbox: moves, verification, rows, convergence."""

from __future__ import annotations

from pathlib import Path

from reconciler.alma import AlmaClient
from reconciler.alma.normalise import code_of
from reconciler.model import DesiredState

from .conftest import retire, retiring
from .helpers import (
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
