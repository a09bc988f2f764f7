"""Renderers against reviewed golden files: text, Markdown and JSON of several scenarios.

Run with UPDATE_GOLDEN=1 to rewrite the files after an intended change, then read the diff.
"""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

import jsonschema
import pytest

from reconciler.model import (
    DesiredState,
    KeptGroup,
    PatronLoadFile,
    PatronLoadHistory,
    RetiredGroup,
)
from reconciler.model.live import LiveGroup, RuleReference
from reconciler.model.plan import Plan
from reconciler.planning import plan_file
from reconciler.planning.plan import build_plan
from reconciler.render import json_doc, markdown, text

from ..builders import institution
from ..planning.builders import breakdown, desired, live

GOLDEN = Path(__file__).parent / "golden"
TODAY = date(2026, 11, 29)


def history(slug: str, groups: dict[str, int]) -> PatronLoadHistory:
    day = date(2026, 11, 20)
    return PatronLoadHistory(
        slug,
        (
            PatronLoadFile(
                "patrons_20261120.xml.zip",
                "a" * 64,
                day,
                2048,
                ("PUBLIC",),
                sum(groups.values()),
                tuple(sorted(groups.items())),
            ),
        ),
    )


def quiet_plan() -> Plan:
    state = desired([KeptGroup("01", "Undergraduate", True), KeptGroup("GUEST", "Guest")])
    rows = (LiveGroup("01", "Undergraduate", True, True), LiveGroup("GUEST", "Guest"))
    return build_plan(
        DesiredState((state,)), {"demo": live(rows)}, {"demo": None}, today=TODAY, commit="0" * 40
    )


def retirement_plan() -> Plan:
    kept = [
        KeptGroup("01", "Undergraduate", True),
        KeptGroup("02", "Graduate student"),
        KeptGroup("GUEST", "Guest borrower"),
        KeptGroup("CONTED", "Continuing education"),
    ]
    retired = [
        RetiredGroup(
            "15",
            "Autologin",
            "No active users; guests use GUEST (ticket 4711).",
            move_users_to="GUEST",
            acknowledge_users_moved=2400,
        ),
        RetiredGroup(
            "69",
            "UBorrow partner",
            "UBorrow ended in 2023 (ticket 5034).",
            move_users_to="GUEST",
            purge_inactive_users=True,
        ),
        RetiredGroup("99", "Mango", "Mango catalogue retired in 2021 (ticket 4800)."),
    ]
    state = desired(kept, retired, max_users_moved=2000)
    rows = (
        LiveGroup("01", "Undergraduate", True, True),
        LiveGroup("02", "Graduate"),
        LiveGroup("GUEST", "Guest borrower"),
        LiveGroup("15", "Autologin"),
        LiveGroup("69", "UBorrow partner"),
        LiveGroup("99", "Mango", False),
        LiveGroup("ODD", "Aleph leftover"),
    )
    live_state = live(
        rows,
        {"ODD": 4},
        census={
            "15": breakdown(2500, inactive=300, purgeable=200, loans=12),
            "69": breakdown(40, inactive=30, purgeable=25, loans=5),
            "99": breakdown(0),
        },
        mappings=[("PUBLIC", "01"), ("STAFF", "01"), ("PUBLIC", "15"), ("PUBLIC", "69")],
        total_users=60_000,
        references=(RuleReference("fulfillment rules (Analytics)", "Main: Loan 69", "69"),),
        daily_calls_left=250_000,
    )
    other = desired([KeptGroup("01", "Student", True)])
    other = type(other)(institution("other"), other.user_groups)
    return build_plan(
        DesiredState((state, other)),
        {"demo": live_state, "other": live((LiveGroup("01", "Student", True, True),))},
        {"demo": history("demo", {"01": 900, "69": 3}), "other": None},
        today=TODAY,
        commit="4f2a9c0e5d7b6a1f3e8d2c9b0a7f4f2a9c0e5d7b",
    )


SCENARIOS = {"quiet": quiet_plan, "retirement": retirement_plan}
RENDERERS = {
    "txt": text.render_plan,
    "md": lambda plan: "\n<!-- next comment -->\n".join(markdown.render_plan_comments(plan)),
    "json": json_doc.render_plan,
}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
@pytest.mark.parametrize("extension", sorted(RENDERERS))
def test_renderer_matches_golden_file(scenario: str, extension: str) -> None:
    """Each renderer's output for each scenario equals its reviewed golden file."""
    rendered = RENDERERS[extension](SCENARIOS[scenario]())
    path = GOLDEN / f"{scenario}.{extension}"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(rendered, encoding="utf-8")
    assert rendered == path.read_text(encoding="utf-8")


def test_colour_only_when_asked() -> None:
    """Plain text has no escape codes; colour=True paints symbols and violations."""
    plan = retirement_plan()
    assert "\033[" not in text.render_plan(plan)
    assert "\033[31m-\033[0m" in text.render_plan(plan, colour=True)


def test_long_plans_split_below_githubs_limit() -> None:
    """A plan too long for one comment is split into marked parts under the size limit."""
    plan = retirement_plan()
    many = Plan(plan.institutions * 200, plan.commit, plan.desired_hash)
    comments = markdown.render_plan_comments(many)
    assert len(comments) > 1
    for number, body in enumerate(comments, 1):
        assert body.startswith(markdown.MARKER)
        assert f"(part {number}/{len(comments)})" in body
        assert len(body) < markdown.GITHUB_COMMENT_LIMIT


def test_an_empty_plan_says_so() -> None:
    """A plan of no institutions (nothing changed, or none could be read) says exactly that."""
    empty = Plan((), None, "sha256:" + "0" * 64)
    assert text.render_plan(empty) == "Plan: no institutions to plan.\n"


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_json_golden_files_match_the_published_schema(scenario: str) -> None:
    """Every kind of change in the golden plans validates against schemas/plan.schema.json."""
    schema = json.loads((Path(__file__).parents[2] / "schemas" / "plan.schema.json").read_text())
    document = json.loads((GOLDEN / f"{scenario}.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(document)


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_saved_plans_load_back_equal(scenario: str, tmp_path: Path) -> None:
    """Every kind of change in the golden plans survives plan --out and loading it again."""
    plan = SCENARIOS[scenario]()
    plan_file.save(plan, tmp_path / "plan.json")
    assert plan_file.load(tmp_path / "plan.json") == plan
