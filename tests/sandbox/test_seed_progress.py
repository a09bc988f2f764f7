"""Seeding says what it is doing: a line per institution and per batch of a large one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reconciler.cli import app
from reconciler.sandbox import reset_sandbox
from reconciler.sandbox import seed as seeding

from ..fixture_tree import FIXTURE_ROOT, POPULATION, SLUGS
from .conftest import TODAY


def test_progress_names_every_institution_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first line announces the work, then one line per institution with its users, and
    a large institution reports each batch of users as it goes."""
    monkeypatch.setattr(seeding, "FLUSH_ROWS", 20)
    lines: list[str] = []
    summary = reset_sandbox(
        tmp_path,
        FIXTURE_ROOT,
        scale=0.01,
        today=TODAY,
        population=POPULATION,
        progress=lines.append,
    )
    assert lines[0].startswith(f"seeding {len(SLUGS)} institutions, about ")
    done = [line for line in lines if re.match(r"\s+\[\d+/\d+\] ", line)]
    assert [line.split("]")[1].split(":")[0].strip() for line in done] == list(SLUGS)
    users = {i.slug: i.users for i in summary.institutions}
    for line, slug in zip(done, SLUGS, strict=True):
        assert f"{slug}: {users[slug]:,} users in " in line
    biggest = max(users, key=lambda slug: users[slug])
    assert f"    {biggest}: 20 of {users[biggest]:,} users" in lines


def test_reset_refuses_a_scale_of_zero(tmp_path: Path) -> None:
    """`sandbox reset --scale 0` is a usage error, not an empty Alma."""
    result = CliRunner().invoke(app, ["sandbox", "reset", "--scale", "0", "--dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "--scale must be above 0" in result.output
