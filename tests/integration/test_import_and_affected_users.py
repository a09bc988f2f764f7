"""`alma-groups import` round trip, and the opt-in CSV of affected users."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from typer.testing import CliRunner

from reconciler.cli import app

runner = CliRunner()


def test_import_prints_a_valid_file_and_writes_it_on_request(workdir: Path) -> None:
    """import prints quoted codes with the modeline; --write replaces the file."""
    printed = runner.invoke(app, ["import", "valencia", "--sandbox"])
    assert printed.exit_code == 0, printed.output
    assert printed.stdout.startswith("# yaml-language-server: $schema=")
    assert '  - code: "01"' in printed.stdout
    # Alma's code table cannot say whether a group is assigned by hand: the key is left out
    assert "in_patron_loads" not in printed.stdout
    written = runner.invoke(app, ["import", "valencia", "--sandbox", "--write"])
    assert written.exit_code == 0
    path = workdir / "institutions" / "valencia" / "user-groups.yaml"
    assert path.read_text() == printed.stdout
    assert runner.invoke(app, ["validate", "institutions/valencia"]).exit_code == 0


def test_plan_after_import_has_no_group_changes(workdir: Path) -> None:
    """A plan made right after an import finds nothing to change."""
    assert runner.invoke(app, ["import", "ucf", "--sandbox", "--write"]).exit_code == 0
    result = runner.invoke(app, ["plan", "--sandbox", "-i", "ucf", "--detailed-exitcode"])
    assert result.exit_code == 0, result.output
    assert "Plan: no changes in 1 institution." in result.output


def test_import_of_unknown_institution(workdir: Path) -> None:
    """import names the near miss when the slug is wrong."""
    result = runner.invoke(app, ["import", "valenca", "--sandbox"])
    assert result.exit_code == 1
    assert "did you mean 'valencia'?" in result.output


def test_affected_users_csv_lists_every_moved_user(workdir: Path) -> None:
    """The CSV holds one row per user the plan moves, matching the plan's counts."""
    result = runner.invoke(
        app,
        ["plan", "--sandbox", "-i", "ucf", "--format", "json", "--affected-users-csv", "a.csv"],
    )
    assert result.exit_code in (0, 3)
    rows = list(csv.DictReader(io.StringIO((workdir / "a.csv").read_text())))
    moved = sum(
        change["users"]
        for change in json.loads(result.stdout)["institutions"][0]["changes"]
        if change["action"] == "move_users"
    )
    assert len([r for r in rows if r["action"] == "move"]) == moved
    assert {r["institution"] for r in rows} == {"ucf"}
    assert all(r["primary_id"] for r in rows)
    assert rows[0]["primary_id"] not in result.stdout  # the plan itself stays free of IDs
