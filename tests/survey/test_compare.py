"""`survey --compare`: what changed since a snapshot, from pure surveys and over the sandbox."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from reconciler.alma import AlmaClient
from reconciler.cli import app
from reconciler.desired import load_desired_state
from reconciler.errors import UsageError
from reconciler.render import survey_json, survey_markdown, survey_text
from reconciler.sandbox import SandboxServer
from reconciler.survey.compare import Progress, compare, parse_snapshot
from reconciler.survey.report import GroupStatus, Survey

from .builders import demo_survey, users

REPO = Path(__file__).resolve().parents[2]
runner = CliRunner()


def snapshot(survey: Survey) -> str:
    return survey_json.render_survey(survey)


def test_nothing_changed_is_said() -> None:
    """The same survey twice: no change, and every format says so in its own way."""
    survey = demo_survey()
    comparison = compare(parse_snapshot(snapshot(survey), "old.json"), survey)
    assert comparison.changes == ()
    assert comparison.institutions == ("demo",)
    assert "nothing changed" in survey_text.render_comparison(comparison)
    assert "0 groups retired in the YAML" in survey_markdown.render_comparison(comparison)


def test_moves_disables_deletions_and_new_groups_are_reported() -> None:
    """Users leave a candidate, a row is disabled, one is deleted, one appears."""
    before = demo_survey()
    after = demo_survey(ASLEEP=users(1, active=0), GUEST=users(4))
    institution = after.institutions[0]
    rows = []
    for row in institution.rows:
        if row.code == "EMPTY":
            continue  # deleted from Alma
        rows.append(dataclasses.replace(row, enabled=row.code != "GUEST" and row.enabled))
    rows.append(dataclasses.replace(institution.rows[0], code="NEW", description="Brand new"))
    after = dataclasses.replace(
        after, institutions=(dataclasses.replace(institution, rows=tuple(rows)),)
    )
    comparison = compare(parse_snapshot(snapshot(before), "old.json"), after)
    found = {(change.code, change.kind) for change in comparison.changes}
    assert found == {
        ("ASLEEP", Progress.USERS_MOVED_OUT),
        ("GUEST", Progress.DISABLED),
        ("EMPTY", Progress.DELETED),
        ("NEW", Progress.NEW),
    }
    assert comparison.users_moved_out == 2
    document = json.loads(survey_json.render_comparison(comparison))
    schema = json.loads((REPO / "schemas" / "survey-comparison.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(document)
    assert document["summary"] == {
        "retired": 0,
        "disabled": 1,
        "deleted": 1,
        "users_moved_out": 2,
        "new": 1,
    }


def test_a_retirement_in_the_yaml_is_reported() -> None:
    """A group the YAML retires now and kept then is reported as retired."""
    before = demo_survey()
    institution = before.institutions[0]
    rows = tuple(
        dataclasses.replace(row, status=GroupStatus.RETIRED) if row.code == "GUEST" else row
        for row in institution.rows
    )
    after = dataclasses.replace(before, institutions=(dataclasses.replace(institution, rows=rows),))
    comparison = compare(parse_snapshot(snapshot(before), "old.json"), after)
    assert [(c.code, c.kind) for c in comparison.changes] == [("GUEST", Progress.RETIRED)]


def test_only_institutions_surveyed_both_times_are_compared() -> None:
    """Surveying fewer institutions today does not report the others' groups as deleted."""
    before = demo_survey()
    other = dataclasses.replace(before.institutions[0], slug="other", name="Other")
    both = dataclasses.replace(before, institutions=(*before.institutions, other))
    comparison = compare(parse_snapshot(snapshot(both), "old.json"), before)
    assert comparison.institutions == ("demo",)
    assert comparison.changes == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "old.json: not JSON"),
        ("[]", "old.json: not a survey snapshot"),
        ('{"format_version": 9}', "old.json: format_version 9 is not one this version reads"),
        ('{"format_version": 2, "date": "soon"}', "old.json: date: not an ISO date"),
        (
            '{"format_version": 2, "date": "2026-01-01", "institutions": [{"slug": "x", '
            '"groups": [{"code": "A", "description": "", "status": "kept", "enabled": true, '
            '"users": "many", "candidate": false}]}]}',
            "old.json: institutions[0].groups[0].users: expected int",
        ),
    ],
)
def test_a_file_that_is_no_snapshot_is_a_one_line_error(text: str, message: str) -> None:
    """Bad snapshots are named, with where and what is wrong."""
    with pytest.raises(UsageError) as error:
        parse_snapshot(text, "old.json")
    assert str(error.value).startswith(message)


def simulate_apply(root: Path, slug: str, code: str, target: str) -> int:
    """Do over the sandbox's API what apply would: move the users, disable the row."""
    desired = load_desired_state(root / "institutions", [slug])
    institution = desired.institutions[0].institution
    with SandboxServer(root / ".sandbox", root / "institutions") as server:
        env = {"ALMA_API_URL": server.base_url, institution.api_key_env: server.api_keys()[slug]}
        with AlmaClient.for_institution(institution, env) as client:
            members = [
                user
                for user in client.iter_users()
                if (user.get("user_group") or {}).get("value") == code
            ]
            for user in members:
                user["user_group"] = {"value": target}
                client.update_user(user["primary_id"], user)
            table = client.get_code_table("UserGroups")
            for row in table["row"]:
                if row["code"] == code:
                    row["enabled"] = False
            client.put_code_table("UserGroups", table)
    return len(members)


def test_compare_shows_an_applys_effect_over_the_sandbox(workdir: Path) -> None:
    """Snapshot, move ucf's users out of 99 and disable it, compare: both show up."""
    result = runner.invoke(
        app, ["survey", "--sandbox", "--all", "--format", "json", "--out", "before.json"]
    )
    assert result.exit_code == 0, result.output
    moved = simulate_apply(workdir, "ucf", "99", "06")
    assert moved > 0

    result = runner.invoke(
        app, ["survey", "--sandbox", "--all", "--compare", "before.json", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    schema = json.loads((REPO / "schemas" / "survey-comparison.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(document)
    changes = {(c["slug"], c["code"], c["change"]) for c in document["changes"]}
    assert changes == {("ucf", "99", "disabled"), ("ucf", "99", "users moved out")}
    assert document["summary"]["users_moved_out"] == moved
    assert document["institutions"] == ["bc", "ncf", "ucf"]

    table = runner.invoke(app, ["survey", "--sandbox", "-i", "ucf", "--compare", "before.json"])
    assert table.exit_code == 0, table.output
    assert table.stdout.startswith("Since the survey of ")
    assert f"{moved} users moved out of candidate or retired groups" in table.stdout


def test_compare_refuses_formats_it_cannot_write_and_missing_files(workdir: Path) -> None:
    """CSV and HTML cannot hold a comparison; a missing snapshot is named; both exit 1."""
    result = runner.invoke(app, ["survey", "--sandbox", "--compare", "x.json", "--format", "csv"])
    assert result.exit_code == 1
    assert "--compare writes table, markdown or json" in result.output
    result = runner.invoke(app, ["survey", "--sandbox", "--compare", "missing.json"])
    assert result.exit_code == 1
    assert "missing.json: no such file" in result.output
