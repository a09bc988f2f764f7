"""Alma's unknown count (-1) is shown as unknown, never as 0: plans say so, surveys note it."""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from pathlib import Path
from types import MappingProxyType

import jsonschema
import pytest

from reconciler.model import DesiredState, KeptGroup, PatronLoadFile, PatronLoadHistory
from reconciler.model import RetiredGroup as Retired
from reconciler.model.live import LiveGroup
from reconciler.model.plan import Plan
from reconciler.planning.plan import build_plan
from reconciler.render import json_doc, markdown, survey_csv, survey_json, text
from reconciler.survey.report import build_survey

from ..planning.builders import breakdown, desired, live
from ..survey import builders as survey_builders

REPO = Path(__file__).resolve().parents[2]
TODAY = date(2026, 11, 29)


def test_a_survey_never_shows_an_unknown_count_as_a_number() -> None:
    """A group with no census and Alma's -1 for its count cannot become a row with 0 users."""
    state = survey_builders.live_state()
    census = {c: g for c, g in state.census.items() if c != "ODD"}
    unknown = dataclasses.replace(
        state,
        census=MappingProxyType(census),
        estimated_counts=MappingProxyType({**state.estimated_counts, "ODD": None}),
    )
    with pytest.raises(ValueError, match="no census of group 'ODD' and no count from Alma"):
        build_survey(
            DesiredState((survey_builders.DESIRED,)),
            {"demo": unknown},
            {"demo": survey_builders.HISTORY},
            today=TODAY,
        )


def test_survey_notes_a_census_that_is_not_exact() -> None:
    """A group counted by a census that is not exact carries a note with the reason."""
    state = survey_builders.live_state()
    why = "Alma did not say how many users match (total -1); 5 were seen"
    census = dict(state.census)
    census["ODD"] = dataclasses.replace(census["ODD"], exact=False, not_exact_because=why)
    inexact = dataclasses.replace(state, census=MappingProxyType(census))
    survey = build_survey(
        DesiredState((survey_builders.DESIRED,)),
        {"demo": inexact},
        {"demo": survey_builders.HISTORY},
        today=TODAY,
    )
    (odd,) = [r for r in survey.institutions[0].rows if r.code == "ODD"]
    assert f"count not exact: {why}" in odd.notes
    document = json.loads(survey_json.render_survey(survey))
    (groups,) = [i["groups"] for i in document["institutions"]]
    assert any("total -1" in note for g in groups if g["code"] == "ODD" for note in g["notes"])
    assert "count not exact" in survey_csv.render_survey(survey)


def plan_with_unknown_total() -> Plan:
    """A retirement that moves users in an institution whose total Alma gave as -1."""
    state = desired(
        [KeptGroup("01", "U", default=True), KeptGroup("GUEST", "G")],
        [Retired("15", "Autologin", "unused", move_users_to="GUEST")],
    )
    rows = (LiveGroup("01", "U", True, True), LiveGroup("GUEST", "G"), LiveGroup("15", "A"))
    live_state = dataclasses.replace(
        live(rows, {"01": None, "GUEST": 3}, census={"15": breakdown(12)}),  # type: ignore[dict-item]
        total_users=None,
    )
    load = PatronLoadFile(
        "p.xml.zip", "b" * 64, date(2026, 11, 20), 10, ("PUBLIC",), 1, (("01", 1),)
    )
    return build_plan(
        DesiredState((state,)),
        {"demo": live_state},
        {"demo": PatronLoadHistory("demo", (load,))},
        today=TODAY,
    )


def test_plan_formats_say_unknown() -> None:
    """The threshold rule says the share is unknown; JSON's users_total is null, not 0."""
    plan = plan_with_unknown_total()
    shown = text.render_plan(plan)
    assert "share unknown: Alma did not say how many users the institution has" in shown
    assert "users-moved-threshold" in shown  # with the size unknown, a move needs an ack
    assert "share unknown" in "".join(markdown.render_plan_comments(plan))
    document = json.loads(json_doc.render_plan(plan))
    schema = json.loads((REPO / "schemas" / "plan.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(document)
    assert document["institutions"][0]["users_total"] is None
