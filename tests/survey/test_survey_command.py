"""`alma-groups survey --sandbox`: formats, --out, exit codes and patron privacy."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from reconciler.cli import app

from .conftest import PICKED

REPO = Path(__file__).resolve().parents[2]
runner = CliRunner()


def test_table_lists_every_institution_and_the_calls_spent(workdir: Path) -> None:
    """The default table has a block per institution, a summary, and the API calls on stderr."""
    result = runner.invoke(app, ["survey", "--sandbox", "--all"])
    assert result.exit_code == 0, result.output
    for slug in PICKED:
        assert f"\n{slug}: " in "\n" + result.stdout
    last = result.stdout.rstrip().splitlines()[-1]
    assert last.startswith(f"Survey: {len(PICKED)} institutions, ")
    assert "candidates for retirement" in last
    assert "API calls: " in result.stderr
    assert "API calls: " not in result.stdout


def test_json_to_a_file_matches_the_schema(workdir: Path) -> None:
    """--out writes the report to the file, not stdout; the JSON matches its schema."""
    result = runner.invoke(
        app, ["survey", "--sandbox", "-i", "ucf", "--format", "json", "--out", "survey.json"]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    document = json.loads((workdir / "survey.json").read_text())
    schema = json.loads((REPO / "schemas" / "survey.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(document)
    [ucf] = document["institutions"]
    groups = {g["code"]: g for g in ucf["groups"]}
    assert groups["15"]["status"] == "retired"
    assert "on FLVC's list of commonly unused groups" in groups["15"]["reasons"]
    assert sum(g["users"] for g in ucf["groups"]) <= ucf["total_users"]
    assert ucf["api_calls"] > 0


def test_csv_has_a_row_per_group(workdir: Path) -> None:
    """The CSV parses back with one row per group of the institutions asked for."""
    result = runner.invoke(app, ["survey", "--sandbox", "-i", "ncf", "-i", "bc", "--format", "csv"])
    assert result.exit_code == 0, result.output
    records = list(csv.DictReader(io.StringIO(result.stdout, newline="")))
    assert {r["institution"] for r in records} == {"bc", "ncf"}
    assert all(r["candidate"] in ("yes", "no") for r in records)


def test_unreadable_institutions_exit_1_and_the_rest_is_still_written(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Institutions that cannot be read (no key, no answer): exit 1, one error line each."""
    monkeypatch.setenv("ALMA_API_KEY_UCF", "a-key-for-ucf-only")
    monkeypatch.setenv("ALMA_API_URL", "http://127.0.0.1:9")  # nothing listens there
    result = runner.invoke(app, ["survey", "--format", "markdown"])
    assert result.exit_code == 1
    for slug in PICKED:
        assert f"error: {slug}: " in result.stderr
        assert f"could not read `{slug}`" in result.stdout
    assert "ALMA_API_KEY_BC" in result.stderr
    assert "error: ucf: " in result.stderr


def test_no_key_at_all_is_one_error_suggesting_the_sandbox(workdir: Path) -> None:
    """Without --sandbox and without any key, one line says so and suggests --sandbox."""
    result = runner.invoke(app, ["survey"])
    assert result.exit_code == 1
    assert len(result.stderr.strip().splitlines()) == 1  # not one line per institution
    assert f"none of the {len(PICKED)} institution(s) can be read" in result.stderr
    assert "--sandbox" in result.stderr


def test_institution_and_all_together_is_a_usage_error(workdir: Path) -> None:
    """--institution and --all contradict each other: a one-line error, exit 1."""
    result = runner.invoke(app, ["survey", "--sandbox", "--all", "-i", "ucf"])
    assert result.exit_code == 1
    assert "use one of --institution, --all" in result.output


def test_no_patron_data_in_any_output(workdir: Path) -> None:
    """Primary IDs, identifiers and names of the sandbox's patrons never reach a survey."""
    outputs = []
    for fmt in ("table", "markdown", "csv", "json", "html"):
        result = runner.invoke(
            app, ["survey", "--sandbox", "--format", fmt, "--out", f"survey.{fmt}"]
        )
        assert result.exit_code == 0, result.output
        outputs.append(result.output + (workdir / f"survey.{fmt}").read_text())
    database = sqlite3.connect(workdir / ".sandbox" / "alma.sqlite3")
    canaries: set[str] = set()
    for primary_id, last_name, first_name in database.execute(
        "SELECT primary_id, last_name, first_name FROM users"
    ):
        canaries.add(str(primary_id))
        # short names could match ordinary words of a report ("Lee" in "Leesburg")
        canaries.update(name for name in (last_name, first_name) if len(name) > 7)
    for (identifier,) in database.execute("SELECT value FROM identifiers"):
        canaries.add(str(identifier))  # barcodes, university IDs, emails
    database.close()
    everything = "".join(outputs)
    assert len(canaries) > 100
    leaked = sorted(c for c in canaries if c in everything)
    assert leaked == []
