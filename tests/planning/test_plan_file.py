"""Saved plans: JSON round trip, checksum, format version, API-call estimates."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import jsonschema
import pytest

from reconciler.errors import PlanFileError, StalePlanError
from reconciler.model import DesiredState, KeptGroup, RetiredGroup, SourceLocation
from reconciler.model.live import LiveGroup
from reconciler.model.plan import PLAN_FORMAT_VERSION
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
    assert document["format_version"] == PLAN_FORMAT_VERSION
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
    with pytest.raises(PlanFileError, match="checksum does not match"):
        plan_file.load(path)


def test_other_format_is_stale_and_garbage_is_damaged(tmp_path: Path) -> None:
    """Another format version means plan again; a file that is not JSON means investigate."""
    path = tmp_path / "plan.json"
    path.write_text(json.dumps({"format_version": 99}))
    with pytest.raises(StalePlanError, match="plan format 99"):
        plan_file.load(path)
    path.write_text("{not json")
    with pytest.raises(PlanFileError, match="not a readable plan file"):
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


def resealed(document: dict[str, object], path: Path) -> Path:
    """Write `document` with a fresh checksum, as a forger who knows the format would."""
    document["checksum"] = plan_file.checksum(document)
    path.write_text(json.dumps(document))
    return path


def test_resealed_plan_with_a_wrong_key_or_summary_is_refused(tmp_path: Path) -> None:
    """A checksummed plan whose keys or totals disagree with its changes is refused as damaged."""
    document = plan_file.to_document(make_plan())
    document["institutions"][0]["changes"][0]["key"] = "demo/move_users/15->01"
    with pytest.raises(PlanFileError, match="do not match its changes"):
        plan_file.load(resealed(document, tmp_path / "key.json"))
    document = plan_file.to_document(make_plan())
    document["summary"]["users_moved"] = 1
    with pytest.raises(PlanFileError, match="do not match its changes"):
        plan_file.load(resealed(document, tmp_path / "summary.json"))


@pytest.mark.parametrize(
    ("edit", "says"),
    [
        (lambda c: c.pop("target"), r"changes\[0\]: missing target"),
        (lambda c: c.update(extra=1), r"changes\[0\]: unknown extra"),
        (lambda c: c.update(users="42"), r"changes\[0\]\.users: expected int, found str"),
        (lambda c: c.update(users=True), r"changes\[0\]\.users: expected int, found bool"),
        (lambda c: c.update(action="teleport_users"), "action 'teleport_users' is not one of"),
        (lambda c: c.update(location="nowhere"), "'nowhere' is not file:line:column"),
    ],
)
def test_malformed_change_is_refused_naming_its_path(
    tmp_path: Path, edit: object, says: str
) -> None:
    """A resealed plan with a change of the wrong shape is refused, naming where it is wrong."""
    document = plan_file.to_document(make_plan())
    edit(document["institutions"][0]["changes"][0])  # type: ignore[operator]
    with pytest.raises(PlanFileError, match=says):
        plan_file.load(resealed(document, tmp_path / "plan.json"))


def test_each_change_is_saved_with_its_key_and_only_its_data() -> None:
    """A move carries its target and counts and its key; a disable carries neither."""
    changes = plan_file.to_document(make_plan())["institutions"][0]["changes"]
    by_action = {change["action"]: change for change in changes}
    assert by_action["move_users"]["key"] == "demo/move_users/15->GUEST"
    assert by_action["move_users"]["target"] == "GUEST"
    assert set(by_action["disable_group"]) == {"action", "key", "code", "why", "location"}


def test_saved_plan_is_readable_by_all_and_replaced_whole(tmp_path: Path) -> None:
    """plan --out writes mode 0644 and leaves no temp file next to the plan."""
    path = tmp_path / "plan.json"
    plan_file.save(make_plan(), path)
    plan_file.save(make_plan(), path)
    assert path.stat().st_mode & 0o777 == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["plan.json"]


def test_loading_a_plan_does_not_import_the_planner() -> None:
    """apply can read a saved plan without deepdiff or the safety rules (a fresh interpreter)."""
    probe = (
        "import sys, reconciler.planning.plan_file, reconciler.model.plan; "
        "print(sorted(m for m in ('deepdiff', 'reconciler.planning.safety', "
        "'reconciler.planning.diff') if m in sys.modules))"
    )
    found = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert found.stdout.strip() == "[]"
