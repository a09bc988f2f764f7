"""Saved plans: JSON round trip, checksum, format version, API-call estimates."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import jsonschema
import pytest

from reconciler.errors import StalePlanError
from reconciler.model import DesiredState, KeptGroup, RetiredGroup, SourceLocation
from reconciler.model.live import LiveGroup
from reconciler.planning import plan_file
from reconciler.planning.plan import build_plan, desired_hash

from .builders import breakdown, desired, live

STATE = desired(
    [KeptGroup("01", "Undergraduate", True), KeptGroup("GUEST", "Guest")],
    [RetiredGroup("15", "Autologin", "Nobody logs in this way.", move_users_to="GUEST")],
)
LIVE = live(
    (
        LiveGroup("01", "Undergraduate", True, True),
        LiveGroup("GUEST", "Guest"),
        LiveGroup("15", "A"),
    ),
    census={"15": breakdown(42, inactive=2)},
)


def make_plan():  # type: ignore[no-untyped-def]
    return build_plan(
        DesiredState((STATE,)),
        {"demo": LIVE},
        {"demo": None},
        today=date(2026, 11, 29),
        commit="abc123",
    )


def test_round_trip_rebuilds_the_same_plan(tmp_path: Path) -> None:
    """A saved plan loads back equal to the one that was saved."""
    plan = make_plan()
    path = tmp_path / "plan.json"
    plan_file.save(plan, path)
    assert plan_file.load(path) == plan


def test_document_has_version_commit_hash_and_checksum() -> None:
    """The JSON names its format, commit, desired-state hash, fingerprints and checksum."""
    document = plan_file.to_document(make_plan())
    assert document["format_version"] == 1
    assert document["commit"] == "abc123"
    assert document["desired_hash"].startswith("sha256:")
    assert document["institutions"][0]["live_fingerprint"].startswith("sha256:")
    assert document["checksum"] == plan_file.checksum(document)
    assert document["summary"]["users_moved"] == 42


def test_edited_plan_is_refused(tmp_path: Path) -> None:
    """Changing a saved plan by hand breaks its checksum and apply refuses it."""
    path = tmp_path / "plan.json"
    plan_file.save(make_plan(), path)
    document = json.loads(path.read_text())
    document["institutions"][0]["changes"][0]["users"] = 1
    path.write_text(json.dumps(document))
    with pytest.raises(StalePlanError, match="checksum does not match"):
        plan_file.load(path)


def test_other_format_and_garbage_are_refused(tmp_path: Path) -> None:
    """A plan of another format version, or not JSON at all, is refused with a reason."""
    path = tmp_path / "plan.json"
    path.write_text(json.dumps({"format_version": 99}))
    with pytest.raises(StalePlanError, match="plan format 99"):
        plan_file.load(path)
    path.write_text("{not json")
    with pytest.raises(StalePlanError, match="not a readable plan file"):
        plan_file.load(path)


def test_desired_hash_ignores_source_positions() -> None:
    """Reformatting the YAML (moving lines) does not change the desired-state hash."""
    moved = desired(
        [
            KeptGroup("01", "Undergraduate", True, SourceLocation("x", 9, 9)),
            KeptGroup("GUEST", "Guest"),
        ],
        STATE.user_groups.retired,
    )
    assert desired_hash(DesiredState((STATE,))) == desired_hash(DesiredState((moved,)))


def test_document_matches_the_published_schema() -> None:
    """The JSON plan validates against schemas/plan.schema.json."""
    schema = json.loads((Path(__file__).parents[2] / "schemas" / "plan.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(plan_file.to_document(make_plan()))
