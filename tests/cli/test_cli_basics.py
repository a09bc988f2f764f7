"""The command line: help, version, validate's output formats and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reconciler.cli import app

from ..builders import write_institution

runner = CliRunner()


def test_help_lists_commands_and_exits_zero() -> None:
    """`alma-groups --help` describes the tool and its commands."""
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "validate" in result.output
    assert "user groups" in result.output


def test_every_subcommand_has_help() -> None:
    """Each subcommand answers --help with its own description and exit 0."""
    commands = [
        ["validate"],
        ["plan"],
        ["survey"],
        ["import"],
        ["codeowners"],
        ["drift"],
        ["comment"],
        ["drift-issue"],
        ["apply"],
        ["rollback"],
        ["patron-loads", "ingest"],
        ["sandbox", "serve"],
        ["sandbox", "reset"],
    ]
    for command in commands:
        result = runner.invoke(app, [*command, "--help"])
        assert result.exit_code == 0, command
        assert "Usage:" in result.output
        description = result.output.split("Options:")[0].split("\n", 2)[-1]
        assert len(description.strip()) > 20, command  # a sentence, not just a usage line


def test_version() -> None:
    """--version prints the package version."""
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.startswith("alma-groups ")


def test_validate_ok_prints_one_summary_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A valid tree exits 0 with a single line saying what was checked."""
    write_institution(tmp_path / "institutions", "demo")
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["validate"])
    assert result.exit_code == 0
    assert result.output == "ok: 1 institution, 2 files valid\n"


def test_validate_problems_exit_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Problems are printed one per line with file:line:col, then a count; exit 1."""
    write_institution(tmp_path / "institutions", "demo", user_groups="groups: []\n")
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["validate", "institutions/demo"])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[-1] == "2 problems in 2 files (1 institution, 2 files checked)"
    assert lines[0].startswith("institutions/demo/institution.yaml:")


def test_validate_json_format(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--format json gives a versioned document with structured problems."""
    write_institution(tmp_path / "institutions", "demo", user_groups="groups: []\n")
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["validate", "--format", "json"])
    assert result.exit_code == 1
    document = json.loads(result.output)
    assert document["format_version"] == 1
    assert document["ok"] is False
    assert {"file", "line", "column", "key", "message"} <= set(document["problems"][0])


def test_missing_path_is_a_one_line_error(tmp_path: Path) -> None:
    """A path that does not exist gives one line on stderr and exit 1, not a traceback."""
    result = subprocess.run(
        [sys.executable, "-m", "reconciler", "validate", str(tmp_path / "nope")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == f"error: {tmp_path / 'nope'}: no such file or folder"
    assert "Traceback" not in result.stderr
