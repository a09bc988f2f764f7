"""The Update/Notify Users job template and bulk_threshold: loaded, checked and modelled.

The broken corpus (job-* cases) shows each refused template's exact message and line; these
tests show what a valid one becomes.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from reconciler.desired import load_desired_state, validate_paths
from reconciler.desired.job_template import parse_job_template
from reconciler.model import (
    FILLED_BY_TOOL,
    GROUP_SWITCH_PARAMETER,
    GROUP_VALUE_PARAMETER,
    UPDATE_USERS_JOB_NAME,
    InstitutionState,
    UpdateUsersJobTemplate,
)

from ..builders import write_institution

VALID = Path(__file__).resolve().parents[1] / "fixtures" / "valid" / "institutions"
TEMPLATE = VALID / "demo" / "update-users-job.json"


def _state(root: Path, slug: str = "demo") -> InstitutionState:
    state = load_desired_state(root).get(slug)
    assert state is not None
    return state


def _template(root: Path, slug: str = "demo") -> UpdateUsersJobTemplate:
    template = _state(root, slug).update_users_job
    assert template is not None
    return template


def _payload(extra: dict[str, str] | None = None) -> dict[str, object]:
    params = {
        "set_id": "1",
        GROUP_SWITCH_PARAMETER: "true",
        GROUP_VALUE_PARAMETER: "STAFF",
        "UPDATE_User_Information_Campus_Active": "false",
        **(extra or {}),
    }
    return {"parameter": [{"name": {"value": k}, "value": v} for k, v in params.items()]}


def test_fixture_template_becomes_the_model(tmp_path: Path) -> None:
    """The wizard paste in the fixtures loads with every parameter, in order, and its line."""
    shutil.copytree(VALID, tmp_path / "institutions")
    template = _template(tmp_path / "institutions")
    assert _state(tmp_path / "institutions", "other").update_users_job is None  # optional file
    wizard = json.loads(TEMPLATE.read_text())["parameter"]
    assert [p.name for p in template.parameters] == [p["name"]["value"] for p in wizard]
    assert template.job_id is None
    assert template.job_name == UPDATE_USERS_JOB_NAME
    assert {p.name for p in template.parameters if p.filled_by_tool} == set(FILLED_BY_TOOL)
    assert template.location.file.endswith("demo/update-users-job.json")
    assert template.parameters[1].location.line == 9


def test_parameters_for_fills_in_only_the_tools_four(tmp_path: Path) -> None:
    """A run's parameters are the wizard's values except set_id, job_name and the group pair."""
    shutil.copytree(VALID, tmp_path / "institutions")
    template = _template(tmp_path / "institutions")
    run = template.parameters_for(set_id="777", target_group="GUEST", run_name="move 15")
    assert list(run) == [p.name for p in template.parameters]
    assert run["set_id"] == "777"
    assert run["job_name"] == "move 15"
    assert run[GROUP_SWITCH_PARAMETER] == "true"
    assert run[GROUP_VALUE_PARAMETER] == "GUEST"
    kept = {p.name: p.value for p in template.parameters if not p.filled_by_tool}
    assert {k: v for k, v in run.items() if k in kept} == kept


def test_job_id_and_name_are_read_when_given(tmp_path: Path) -> None:
    """`id` and `name` added to the paste become the model's job id and job name."""
    folder = write_institution(tmp_path, "demo")
    payload = {"id": "M148", "name": "Update users (FLVC copy)", **_payload()}
    (folder / "update-users-job.json").write_text(json.dumps(payload), encoding="utf-8")
    template = _template(tmp_path)
    assert template.job_id == "M148"
    assert template.job_name == "Update users (FLVC copy)"


def test_tab_indented_json_is_accepted() -> None:
    """JSON indented with tabs (some browsers copy it so) reads like any other JSON."""
    raw = json.dumps(_payload(), indent="\t").encode()
    document = parse_job_template(raw, "t.json")
    assert not isinstance(document, list)
    assert document.source_map.value_position(("parameter", 1, "value"))[0] == 13


def test_a_switch_left_on_is_refused_with_its_line(tmp_path: Path) -> None:
    """An Expiry_Date switch left "true" by the wizard is named, with file, line and key."""
    folder = write_institution(tmp_path, "demo")
    payload = _payload({"UPDATE_User_Information_Expiry_Date_Active": "true"})
    (folder / "update-users-job.json").write_text(json.dumps(payload, indent=1), encoding="utf-8")
    report = validate_paths([tmp_path], cwd=tmp_path)
    assert [str(p) for p in report.problems] == [
        "demo/update-users-job.json:31:13: parameter[4].value: "
        'UPDATE_User_Information_Expiry_Date_Active is "true": the job would change more than '
        'the user group of every moved user (or notify them); set it to "false"'
    ]


def test_bulk_threshold_defaults_to_1000_and_can_be_set(tmp_path: Path) -> None:
    """Without bulk_threshold the model says 1000; a written value is kept."""
    write_institution(tmp_path / "a", "demo")
    assert _state(tmp_path / "a").institution.bulk_threshold == 1000
    folder = write_institution(tmp_path / "b", "demo")
    path = folder / "institution.yaml"
    path.write_text(path.read_text() + "bulk_threshold: 250\n", encoding="utf-8")
    assert _state(tmp_path / "b").institution.bulk_threshold == 250
