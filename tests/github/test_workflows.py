"""The GitHub workflows: actionlint-clean, least privilege, and no untrusted code with secrets."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

WORKFLOWS = Path(__file__).resolve().parents[2] / ".github" / "workflows"


def _actionlint() -> str:
    found = shutil.which("actionlint", path=str(Path(sys.executable).parent))
    if found is None:
        pytest.fail("actionlint is missing: `make test` installs it with the test extra")
    return found


def _workflow(name: str) -> dict[Any, Any]:
    document = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


def _secrets_named(name: str) -> set[str]:
    text = (WORKFLOWS / name).read_text(encoding="utf-8")
    return set(re.findall(r"\$\{\{\s*secrets\.(\w+)", text))


def test_every_workflow_passes_actionlint() -> None:
    """actionlint (the binary from the test extra) finds nothing in any workflow."""
    files = sorted(str(p) for p in WORKFLOWS.glob("*.yml"))
    result = subprocess.run(
        [_actionlint(), "-no-color", *files], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path: Path) -> None:
    """The lint is real: an undefined step output is reported."""
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: echo ${{ steps.nope.outputs.x }}\n"
    )
    result = subprocess.run([_actionlint(), str(bad)], capture_output=True, check=False)
    assert result.returncode == 1


def test_no_workflow_runs_untrusted_code_with_secrets() -> None:
    """pull_request_target (which would give a fork's code our secrets) is never used."""
    for path in WORKFLOWS.glob("*.yml"):
        document = _workflow(path.name)
        triggers = document.get("on", document.get(True))  # YAML 1.1 reads `on` as true
        assert "pull_request_target" not in triggers, path.name


def test_write_keys_only_in_the_protected_apply_job() -> None:
    """Plan and drift read with read-only keys; only apply, in `production`, gets write keys."""
    assert _secrets_named("plan.yml") <= {"ALMA_API_READ_KEYS", "GITHUB_TOKEN"}
    assert _secrets_named("drift.yml") <= {"ALMA_API_READ_KEYS", "GITHUB_TOKEN"}
    assert "ALMA_API_WRITE_KEYS" in _secrets_named("apply.yml")
    job = _workflow("apply.yml")["jobs"]["apply"]
    assert job["environment"] == "production"


def test_applies_never_overlap_and_are_never_cancelled() -> None:
    """One apply at a time: a concurrency group that queues instead of cancelling."""
    concurrency = _workflow("apply.yml")["concurrency"]
    assert concurrency["cancel-in-progress"] is False


def test_permissions_are_least_privilege() -> None:
    """No workflow asks for contents: write; comments and issues only where they are posted."""
    for path in WORKFLOWS.glob("*.yml"):
        permissions = _workflow(path.name).get("permissions", {})
        assert permissions.get("contents") == "read", path.name
    assert "issues" not in _workflow("plan.yml")["permissions"]
    assert _workflow("drift.yml")["permissions"]["issues"] == "write"


def test_forks_get_validation_only_with_a_note() -> None:
    """Fork pull requests skip key loading and planning, and the job summary says why."""
    steps = _workflow("plan.yml")["jobs"]["plan"]["steps"]
    keyed = [s for s in steps if "ALMA_API_KEYS" in str(s.get("env", {}))]
    assert keyed
    assert all(s["if"] == "env.FROM_FORK != 'true'" for s in keyed)
    notes = [s for s in steps if s.get("name") == "forks get validation only"]
    assert "GITHUB_STEP_SUMMARY" in notes[0]["run"]


def test_journals_are_uploaded_encrypted() -> None:
    """Journals (primary IDs) leave the runner only encrypted, never as plain artifacts."""
    steps = _workflow("apply.yml")["jobs"]["apply"]["steps"]
    uploads = [s for s in steps if str(s.get("uses", "")).startswith("actions/upload-artifact")]
    journal = [s for s in uploads if s["with"]["name"] == "journal"]
    assert journal[0]["with"]["path"] == "journal.tgz.enc"
