"""`alma-groups apply` and `rollback` end to end with --sandbox: refusals, convergence, privacy."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reconciler.apply.journal import operations, read_journal
from reconciler.cli import app

from .conftest import FIXTURES, SLUG

runner = CliRunner()
RETIREMENTS = """  - code: "UB"
    description: "UBorrow visiting patron"
    reason: "UBorrow patrons now use 01 (test)."
    move_users_to: "01"
  - code: "02"
    description: "Graduate"
    reason: "Graduates merge into 01 (test)."
    move_users_to: "01"
    purge_inactive_users: true
"""


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """institutions/applytest imported from a fresh sandbox, then 02 and UB retired into 01.

    The look-back is one day so that the seeded patron loads (days old) do not block the plan.
    """
    shutil.copytree(FIXTURES / SLUG, tmp_path / "institutions" / SLUG)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ALMA_API_URL", raising=False)
    monkeypatch.setenv("CI", "true")
    assert runner.invoke(app, ["import", SLUG, "--sandbox", "--write"]).exit_code == 0
    folder = tmp_path / "institutions" / SLUG
    groups = (folder / "user-groups.yaml").read_text()
    kept = groups.replace('  - code: "02"\n    description: "Graduate"\n', "")
    kept = kept.replace(
        '  - code: "UB"\n    description: "UBorrow visiting patron (replaces 69)"\n', ""
    )
    (folder / "user-groups.yaml").write_text(kept + RETIREMENTS)
    institution = (folder / "institution.yaml").read_text()
    (folder / "institution.yaml").write_text(
        institution.replace("lookback_days: 400", "lookback_days: 1")
    )
    return tmp_path


def journal_of(workdir: Path) -> Path:
    (path,) = sorted((workdir / ".alma-groups" / "journal").glob(f"{SLUG}-*.jsonl"))
    return path


def journal_user_ids(path: Path) -> set[str]:
    _, entries = read_journal(path)
    return {str(op.intent["user"]) for op in operations(entries) if "user" in op.intent}


def test_apply_in_one_step_converges_and_prints_no_ids(workdir: Path) -> None:
    """apply -i moves, purges and disables; exit 0, a fresh plan is empty, no ID is printed."""
    result = runner.invoke(app, ["apply", "-i", SLUG, "--sandbox", "--yes"])
    assert result.exit_code == 0, result.output
    assert "a fresh plan shows no changes" in result.stdout
    assert 'group "02": ' in result.stdout
    again = runner.invoke(app, ["plan", "-i", SLUG, "--sandbox", "--detailed-exitcode"])
    assert again.exit_code == 0, again.output
    ids = journal_user_ids(journal_of(workdir))
    assert len(ids) > 20
    printed = result.stdout + result.stderr + again.stdout + again.stderr
    assert not [i for i in ids if i in printed]


def test_rollback_restores_moved_users_and_rows(workdir: Path) -> None:
    """rollback moves every moved user back to 02, re-enables the rows, says purges are final."""
    assert runner.invoke(app, ["apply", "-i", SLUG, "--sandbox", "--yes"]).exit_code == 0
    journal = journal_of(workdir)
    result = runner.invoke(app, ["rollback", str(journal), "--sandbox", "--yes"])
    assert result.exit_code == 0, result.output
    _, entries = read_journal(journal)
    moved = sum(
        1
        for op in operations(entries)
        if op.op in ("move", "move_instead") and op.outcome and op.outcome["status"] == "done"
    )
    assert f"Rollback: {moved:,} users moved back, 0 failed." in result.stdout
    assert "rows re-enabled: 02, UB" in result.stdout
    assert "purged users cannot be restored" in result.stdout
    plan = runner.invoke(app, ["plan", "-i", SLUG, "--sandbox", "--format", "json"])
    changes = json.loads(plan.stdout)["institutions"][0]["changes"]
    moves = [c for c in changes if c["action"] == "move_users"]
    assert moves
    assert moves[0]["code"] == "02"


def test_saved_plan_is_refused_when_the_desired_state_changed(workdir: Path) -> None:
    """A saved plan whose YAML changed since is refused with exit 3 and nothing applied."""
    assert (
        runner.invoke(app, ["plan", "-i", SLUG, "--sandbox", "--out", "plan.json"]).exit_code == 0
    )
    path = workdir / "institutions" / SLUG / "user-groups.yaml"
    path.write_text(path.read_text().replace("(test)", "(test, edited)"))
    result = runner.invoke(app, ["apply", "plan.json", "--sandbox", "--yes"])
    assert result.exit_code == 3, result.output
    assert "desired state" in result.stderr
    assert "plan again" in result.stderr
    assert not (workdir / ".alma-groups").exists()


def test_edited_or_old_plan_is_refused(workdir: Path) -> None:
    """A plan edited after saving, or older than --max-age, is refused with exit 3."""
    assert (
        runner.invoke(app, ["plan", "-i", SLUG, "--sandbox", "--out", "plan.json"]).exit_code == 0
    )
    old = runner.invoke(app, ["apply", "plan.json", "--sandbox", "--yes", "--max-age", "0"])
    assert old.exit_code == 3, old.output
    assert "h old" in old.stderr
    document = json.loads((workdir / "plan.json").read_text())
    document["institutions"][0]["changes"][0]["users"] = 1
    (workdir / "plan.json").write_text(json.dumps(document))
    edited = runner.invoke(app, ["apply", "plan.json", "--sandbox", "--yes"])
    assert edited.exit_code == 3, edited.output
    assert "checksum" in edited.stderr


def test_saved_plan_applies_exactly(workdir: Path) -> None:
    """A fresh saved plan applies (exit 0), and applying it again finds nothing left to do."""
    assert (
        runner.invoke(app, ["plan", "-i", SLUG, "--sandbox", "--out", "plan.json"]).exit_code == 0
    )
    first = runner.invoke(app, ["apply", "plan.json", "--sandbox", "--yes"])
    assert first.exit_code == 0, first.output
    assert "Apply: 1 of 1 institution(s) complete" in first.stdout


def test_plan_with_violations_is_refused(workdir: Path) -> None:
    """A plan that breaks a safety rule (02 is in recent patron loads) is refused, exit 3."""
    path = workdir / "institutions" / SLUG / "institution.yaml"
    path.write_text(path.read_text().replace("lookback_days: 1", "lookback_days: 400"))
    result = runner.invoke(app, ["apply", "-i", SLUG, "--sandbox", "--yes"])
    assert result.exit_code == 3, result.output
    assert "in-recent-patron-load" in result.stderr
    assert not (workdir / ".alma-groups").exists()


def test_ci_without_yes_is_refused(workdir: Path) -> None:
    """In CI apply never prompts: without --yes it stops before changing anything."""
    result = runner.invoke(app, ["apply", "-i", SLUG, "--sandbox"])
    assert result.exit_code == 1
    assert "--yes" in result.stderr
    assert not (workdir / ".alma-groups").exists()
