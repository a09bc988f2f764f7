"""`alma-groups plan --sandbox`: formats, saved plans, exit codes and patron privacy."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import jsonschema
from typer.testing import CliRunner

from reconciler.cli import app
from reconciler.planning import plan_file

REPO = Path(__file__).resolve().parents[2]
runner = CliRunner()


def plan_document(args: list[str]) -> dict[str, object]:
    result = runner.invoke(app, ["plan", "--sandbox", "--format", "json", *args])
    assert result.exit_code in (0, 3), result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_plan_shows_changes_violations_and_quiet_institutions(workdir: Path) -> None:
    """The text plan names changed institutions, their violations, and the rest as quiet."""
    result = runner.invoke(app, ["plan", "--sandbox"])
    assert result.exit_code == 3, result.output  # the shipped proposals break safety rules
    assert "\nno changes: " in result.output
    assert 'from "15" to "GUEST"' in result.output
    assert "! " in result.output
    assert "way out: " in result.output
    assert result.stdout.rstrip().splitlines()[-1].startswith("Plan: ")
    assert "read Alma with " in result.stderr


def test_fixture_institutions_play_their_roles(workdir: Path) -> None:
    """Each fixture institution shows what tests/fixture_tree.py says it is there for."""
    plan = {i["slug"]: i for i in plan_document([])["institutions"]}
    assert {slug: (bool(i["changes"]), bool(i["violations"])) for slug, i in plan.items()} == {
        "bc": (False, False),
        "cf": (True, False),
        "fsu": (True, False),
        "ncf": (False, True),
        "tcc": (True, False),
        "ucf": (True, True),
        "usf": (True, False),
        "valencia": (True, True),
    }
    violations = {(slug, v["rule"], v["code"]) for slug, i in plan.items() for v in i["violations"]}
    assert violations == {
        ("ucf", "in-recent-patron-load", "15"),
        ("ucf", "users-moved-threshold", "15"),
        ("ucf", "users-moved-threshold", "99"),
        ("valencia", "referenced-group", "MISSING"),
        ("ncf", "unmanaged-group", "UB"),
    }
    actions = {c["action"] for c in plan["usf"]["changes"]}
    assert "purge_users" in actions


def test_detailed_exitcode_reports_pending_changes(workdir: Path) -> None:
    """A plan with changes and no violations exits 2 with --detailed-exitcode, else 0."""
    institutions = plan_document([])["institutions"]
    assert isinstance(institutions, list)
    quiet = next(i["slug"] for i in institutions if not i["changes"] and not i["violations"])
    busy = next(i["slug"] for i in institutions if i["changes"] and not i["violations"])
    assert runner.invoke(app, ["plan", "--sandbox", "-i", busy]).exit_code == 0
    result = runner.invoke(app, ["plan", "--sandbox", "-i", busy, "--detailed-exitcode"])
    assert result.exit_code == 2, result.output
    calm = runner.invoke(app, ["plan", "--sandbox", "-i", quiet, "--detailed-exitcode"])
    assert calm.exit_code == 0
    assert "Plan: no changes in 1 institution." in calm.output


def test_saved_plan_and_json_match_the_schema(workdir: Path) -> None:
    """--out saves a checksummed plan; --format json prints the same schema-valid document."""
    result = runner.invoke(
        app, ["plan", "--sandbox", "-i", "ucf", "--format", "json", "--out", "plan.json"]
    )
    assert result.exit_code == 3
    printed = json.loads(result.stdout)
    schema = json.loads((REPO / "schemas" / "plan.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(printed)
    saved = plan_file.load(workdir / "plan.json")
    assert saved.institutions[0].slug == "ucf"
    assert printed["checksum"] == json.loads((workdir / "plan.json").read_text())["checksum"]


def test_markdown_comment_has_marker_and_counts(workdir: Path) -> None:
    """The Markdown plan is a sticky comment: hidden marker, summary table, next steps."""
    result = runner.invoke(app, ["plan", "--sandbox", "--format", "markdown"])
    assert result.stdout.startswith("<!-- alma-groups:plan -->")
    assert "| institution | status |" in result.stdout
    assert "**Next steps:**" in result.stdout


def test_unknown_institution_is_one_line(workdir: Path) -> None:
    """Asking for an institution that does not exist is a one-line error and exit 1."""
    result = runner.invoke(app, ["plan", "--sandbox", "-i", "valenica"])
    assert result.exit_code == 1
    assert "unknown institution 'valenica'; did you mean 'valencia'?" in result.output


def test_missing_api_key_fails_that_institution_only(workdir: Path) -> None:
    """Against real Alma without a key, each institution fails with the variable's name."""
    result = runner.invoke(app, ["plan", "-i", "bc"], env={"ALMA_API_KEY_BC": ""})
    assert result.exit_code == 1
    assert "ALMA_API_KEY_BC" in result.output


def test_no_patron_data_in_any_output(workdir: Path) -> None:
    """Names, emails, barcodes and primary IDs of the sandbox's patrons never reach a plan."""
    outputs = [
        runner.invoke(app, ["plan", "--sandbox", "--format", fmt, "--out", f"plan-{fmt}.json"])
        for fmt in ("text", "markdown", "json")
    ]
    database = sqlite3.connect(workdir / ".sandbox" / "alma.sqlite3")
    tables = {row[0] for row in database.execute("SELECT name FROM sqlite_master")}
    assert "users" in tables
    canaries: set[str] = set()
    for (user_id,) in database.execute("SELECT primary_id FROM users LIMIT 2000"):
        canaries.add(str(user_id))
    everything = "".join(o.output for o in outputs) + "".join(
        p.read_text() for p in workdir.glob("plan-*.json")
    )
    assert canaries
    leaked = sorted(c for c in canaries if c in everything)
    assert leaked == []


def test_unwritable_output_is_one_line(workdir: Path) -> None:
    """A --out path in a missing folder is a one-line error and exit 1, not a traceback."""
    result = runner.invoke(app, ["plan", "--sandbox", "-i", "bc", "--out", "nowhere/plan.json"])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "error: nowhere/plan.json: No such file or directory"
    )
    assert "Traceback" not in result.output
