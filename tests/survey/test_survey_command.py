"""`alma-groups survey --sandbox`: formats, --out, exit codes and patron privacy."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path
from typing import Any

import jsonschema
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
    assert {"reason": "on FLVC's list of commonly unused groups", "tier": "strong"} in groups["15"][
        "reasons"
    ]
    assert document["overview"][0]["slug"] == "ucf"
    assert sum(g["users"] for g in ucf["groups"]) <= ucf["total_users"]
    assert ucf["api_calls"] > 0


def test_csv_has_a_row_per_group(workdir: Path) -> None:
    """The CSV parses back with one row per group of the institutions asked for."""
    result = runner.invoke(app, ["survey", "--sandbox", "-i", "ncf", "-i", "bc", "--format", "csv"])
    assert result.exit_code == 0, result.output
    records = list(csv.DictReader(io.StringIO(result.stdout, newline="")))
    assert [r["row"] for r in records[:2]] == ["institution", "institution"]
    groups = records[2:]
    assert {r["row"] for r in groups} == {"group"}
    assert {r["institution"] for r in groups} == {"bc", "ncf"}
    assert all(r["candidate"] in ("yes", "no") for r in groups)
    assert all(r["tier"] in ("strong", "weak", "") for r in groups)


def test_every_format_starts_with_the_consortium_overview(workdir: Path) -> None:
    """Table, Markdown, CSV, JSON and HTML all open with the overview, before any institution."""
    firsts = {
        "table": lambda text: text.startswith("Consortium overview: 3 institutions, "),
        "markdown": lambda text: text.split("\n## ")[1].startswith("Consortium overview"),
        "csv": lambda text: text.splitlines()[1].startswith("institution,bc,"),
        "json": lambda text: list(json.loads(text))[3] == "overview",
        "html": lambda text: text.index('id="overview"') < text.index('id="bc"'),
    }
    for fmt, starts_right in firsts.items():
        result = runner.invoke(app, ["survey", "--sandbox", "--all", "--format", fmt])
        assert result.exit_code == 0, result.output
        assert starts_right(result.stdout), fmt


def test_marking_a_group_assigned_by_hand_removes_its_weak_reason(workdir: Path) -> None:
    """A kept group absent from loads loses that weak reason once it says in_patron_loads: false."""

    def groups() -> list[dict[str, Any]]:
        result = runner.invoke(app, ["survey", "--sandbox", "--all", "--format", "json"])
        assert result.exit_code == 0, result.output
        document = json.loads(result.stdout)
        return [{**g, "slug": i["slug"]} for i in document["institutions"] for g in i["groups"]]

    def weak(group: dict[str, Any]) -> list[str]:
        return [r["reason"] for r in group["reasons"] if r["tier"] == "weak"]

    flagged = [g for g in groups() if g["status"] == "kept" and weak(g)]
    assert flagged, "a fixture institution keeps a group that no load assigns"
    before = flagged[0]
    path = workdir / "institutions" / before["slug"] / "user-groups.yaml"
    text = path.read_text()
    code = before["code"]
    line = f'  - code: "{code}"\n'
    marked = text.replace(line, line + "    in_patron_loads: false\n", 1)
    assert marked != text
    path.write_text(marked)
    [after] = [g for g in groups() if (g["slug"], g["code"]) == (before["slug"], before["code"])]
    assert weak(after) == []
    assert after["in_patron_loads"] is False
    assert [r for r in after["reasons"] if r["tier"] == "strong"] == [
        r for r in before["reasons"] if r["tier"] == "strong"
    ]


def test_unreadable_institutions_exit_1_and_the_rest_is_still_written(workdir: Path) -> None:
    """Without the sandbox or keys nothing can be read: exit 1, one error line each."""
    result = runner.invoke(app, ["survey", "--format", "markdown"])
    assert result.exit_code == 1
    for slug in PICKED:
        assert f"error: {slug}: " in result.stderr
        assert f"could not read `{slug}`" in result.stdout
    assert "ALMA_API_KEY_UCF" in result.stderr


def test_institution_and_all_together_is_a_usage_error(workdir: Path) -> None:
    """--institution and --all contradict each other: a one-line error, exit 1."""
    result = runner.invoke(app, ["survey", "--sandbox", "--all", "-i", "ucf"])
    assert result.exit_code == 1
    assert "use one of --institution, --all" in result.output


def test_no_patron_data_in_any_output(workdir: Path) -> None:
    """Primary IDs, identifiers and names of the sandbox's patrons never reach a survey, a
    snapshot (the JSON) or a comparison with one."""
    outputs = []
    for fmt in ("table", "markdown", "csv", "json", "html"):
        result = runner.invoke(
            app, ["survey", "--sandbox", "--format", fmt, "--out", f"survey.{fmt}"]
        )
        assert result.exit_code == 0, result.output
        outputs.append(result.output + (workdir / f"survey.{fmt}").read_text())
    for fmt in ("table", "markdown", "json"):
        result = runner.invoke(
            app, ["survey", "--sandbox", "--compare", "survey.json", "--format", fmt]
        )
        assert result.exit_code == 0, result.output
        outputs.append(result.output)
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
