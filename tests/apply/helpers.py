"""Shared steps of the apply tests: plan one institution live, run the engine, read users."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

from reconciler.alma import AlmaClient
from reconciler.alma.normalise import code_of
from reconciler.apply.engine import ApplySettings, apply_institution
from reconciler.apply.journal import Journal, JournalHeader, new_run_id
from reconciler.apply.report import ApplyReport
from reconciler.model import InstitutionState
from reconciler.model.plan import InstitutionPlan
from reconciler.planning.plan import plan_institution
from reconciler.reading.live import ReadOptions, read_live

TODAY = date.today()


def plan_of(client: AlmaClient, state: InstitutionState) -> InstitutionPlan:
    """The plan of `state` against the sandbox as it is now (violations are not checked here)."""
    live = read_live(client, state, ReadOptions(TODAY))
    return plan_institution(state, live, None, today=TODAY)


def new_journal(folder: Path, plan: InstitutionPlan, **options: Any) -> Journal:
    header = JournalHeader(new_run_id(), plan.slug, "sha256:test", None, "test")
    return Journal.create(folder, header, **options)


def run_apply(
    client: AlmaClient, state: InstitutionState, plan: InstitutionPlan, journal: Journal
) -> ApplyReport:
    return apply_institution(client, state, plan, journal, ApplySettings(TODAY))


def everyone(client: AlmaClient) -> dict[str, dict[str, Any]]:
    """Every user's full record, by primary ID (one census of the whole institution)."""
    return {str(u["primary_id"]): dict(u) for u in client.iter_users()}


def members(client: AlmaClient, code: str) -> set[str]:
    return {pid for pid, user in everyone(client).items() if code_of(user["user_group"]) == code}


def without_group(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k != "user_group"}


def groups_by_code(client: AlmaClient) -> dict[str, dict[str, Any]]:
    return {str(r["code"]): dict(r) for r in client.get_code_table("UserGroups")["row"]}


def lines(path: Path) -> Iterator[str]:
    yield from path.read_text().splitlines()


def dead_pid() -> int:
    """The id of a process that has just ended (a run killed on this machine)."""
    process = subprocess.Popen([sys.executable, "-c", ""])
    process.wait()
    return process.pid
