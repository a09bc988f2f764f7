"""Shared steps of the apply tests: plan one institution live, run the engine, read users."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
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


def kill_9_when(
    base_url: str, key: str, folder: Path, slug: str, ready: Callable[[str], bool], *flags: str
) -> Path:
    """Run crash_runner.py (an apply of `slug` journaling into `folder`) in a subprocess and
    SIGKILL it as soon as its journal's text satisfies `ready`; the journal's path."""
    runner = Path(__file__).with_name("crash_runner.py")
    process = subprocess.Popen(
        [sys.executable, str(runner), base_url, key, str(folder), *flags],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            journals = list(folder.glob(f"{slug}-*.jsonl"))
            if journals and ready(journals[0].read_text()):
                break
            assert process.poll() is None, "the run ended before it could be killed"
            time.sleep(0.005)
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    (journal,) = folder.glob(f"{slug}-*.jsonl")
    return journal
