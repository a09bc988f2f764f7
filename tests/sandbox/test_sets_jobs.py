"""Itemized USER sets and the Update/Notify Users job: async runs, thresholds, SIS history."""

from __future__ import annotations

import time
import zipfile
from collections.abc import Callable
from typing import Any

from reconciler.sandbox import InProcessSandbox, JobTiming
from reconciler.sandbox.wizard import WIZARD_PARAMETERS, wizard_parameters

from .conftest import Client, error_code, xml_root


def _set(client: Client, name: str, members: list[str]) -> str:
    created = client.post(
        "/conf/sets",
        {
            "name": name,
            "type": {"value": "ITEMIZED"},
            "content": {"value": "USER"},
            "private": {"value": "false"},
        },
    )
    assert created.status_code == 200, created.text
    set_id = str(created.json()["id"])
    if members:
        added = client.post(
            f"/conf/sets/{set_id}",
            {"members": {"member": [{"id": m} for m in members]}},
            op="add_members",
        )
        assert added.status_code == 200, added.text
        assert added.json()["number_of_members"]["value"] == len(members)
    return set_id


def _run(client: Client, set_id: str, target: str) -> Any:
    params = wizard_parameters(set_id, target, "move")
    body = {"parameter": [{"name": {"value": k}, "value": v} for k, v in params.items()]}
    return client.post("/conf/jobs/M148", body, op="run")


def _wait(client: Client, link: str) -> dict[str, Any]:
    path = link.split("/almaws/v1", 1)[1]
    for _ in range(200):
        instance: dict[str, Any] = client.get(path).json()
        if instance["status"]["value"].startswith("COMPLETED"):
            return instance
        time.sleep(0.05)
    raise AssertionError("job did not finish")


def _ids(client: Client, code: str) -> list[str]:
    users = client.get("/users", q=f"user_group~{code}", limit=100, expand="full").json()["user"]
    return [u["primary_id"] for u in users if u["user_group"]["value"] == code]


def test_create_get_delete_set(ucf: Client) -> None:
    """A set is created empty, read back with its member count, and deleted (204)."""
    set_id = _set(ucf, "empty", [])
    assert ucf.get(f"/conf/sets/{set_id}").json()["number_of_members"]["value"] == 0
    assert ucf.delete(f"/conf/sets/{set_id}").status_code == 204
    assert error_code(ucf.get(f"/conf/sets/{set_id}")) == "60107"


def test_duplicate_set_name_is_refused(ucf: Client) -> None:
    """Set names are unique (402263)."""
    _set(ucf, "same", [])
    again = ucf.post(
        "/conf/sets", {"name": "same", "type": {"value": "ITEMIZED"}, "content": {"value": "USER"}}
    )
    assert error_code(again) == "402263"


def test_add_members_caps_at_1000(ucf: Client) -> None:
    """More than 1000 members in one add_members call is 400 60118."""
    set_id = _set(ucf, "big", [])
    members = {"members": {"member": [{"id": f"X{i}"} for i in range(1001)]}}
    response = ucf.post(f"/conf/sets/{set_id}", members, op="add_members")
    assert response.status_code == 400
    assert error_code(response) == "60118"


def test_unknown_member_fails_unless_told_otherwise(ucf: Client) -> None:
    """An unknown id is 60116, or skipped with fail_on_invalid_id=false."""
    set_id = _set(ucf, "strict", [])
    body = {"members": {"member": [{"id": "NOBODY"}]}}
    assert error_code(ucf.post(f"/conf/sets/{set_id}", body, op="add_members")) == "60116"
    lenient = ucf.post(f"/conf/sets/{set_id}", body, op="add_members", fail_on_invalid_id="false")
    assert lenient.json()["number_of_members"]["value"] == 0


def test_jobs_list_has_update_users_and_sis_jobs(ucf: Client) -> None:
    """GET /conf/jobs lists M148 and a SIS synchronize job per profile."""
    jobs = ucf.get("/conf/jobs", limit=100).json()["job"]
    assert any(j["id"] == "M148" and j["name"] == "Update/Notify Users" for j in jobs)
    sis = [j for j in jobs if j["category"]["value"] == "SIS"]
    assert len(sis) == 2
    profiles = ucf.get("/conf/integration-profiles", type="USER", limit=100).json()
    profile_ids = {p["id"] for p in profiles["integration_profile"]}
    assert {j["related_profile"]["value"] for j in sis} == profile_ids


def test_job_runs_async_and_moves_users(make_sandbox: Callable[..., InProcessSandbox]) -> None:
    """M148 answers at once, runs in the background, and moves every set member."""
    # Queued for a whole second, so even a loaded CI machine sees it before it runs.
    ucf = Client(make_sandbox(job_timing=JobTiming(start_delay_s=1.0, batch_size=2)))
    movers = _ids(ucf, "15")
    set_id = _set(ucf, "movers", movers)
    response = _run(ucf, set_id, "GR")
    assert response.status_code == 200, response.text
    link = response.json()["additional_info"]["link"]
    first = ucf.get(link.split("/almaws/v1", 1)[1]).json()
    assert first["status"]["value"] in ("QUEUED", "RUNNING")
    done = _wait(ucf, link)
    assert done["progress"] == 100
    counters = {c["type"]["value"]: c["value"] for c in done["counter"]}
    assert counters["c.jobs.users.updated"] == str(len(movers))
    assert _ids(ucf, "15") == []
    assert all(ucf.get(f"/users/{m}").json()["user_group"]["value"] == "GR" for m in movers)


def test_job_into_disabled_group_fails_per_user(ucf: Client) -> None:
    """Members cannot be moved into a disabled group (GUEST is disabled drift): the run fails."""
    movers = _ids(ucf, "15")
    done = _wait(ucf, _run(ucf, _set(ucf, "m", movers), "GUEST").json()["additional_info"]["link"])
    assert done["status"]["value"] == "COMPLETED_FAILED"
    assert {c["type"]["value"]: c["value"] for c in done["counter"]}["c.jobs.users.failed"] == str(
        len(movers)
    )


def _post_params(client: Client, params: dict[str, str]) -> Any:
    body = {"parameter": [{"name": {"value": k}, "value": v} for k, v in params.items()]}
    return client.post("/conf/jobs/M148", body, op="run")


def _message(response: Any) -> str:
    return str(response.json()["errorList"]["error"][0]["errorMessage"])


def test_every_wizard_parameter_is_mandatory(ucf: Client) -> None:
    """Leaving out any one of the wizard's parameters is 402228 naming it, as in Alma."""
    set_id = _set(ucf, "strict", _ids(ucf, "15")[:1])
    complete = wizard_parameters(set_id, "GR")
    assert len(complete) == len(WIZARD_PARAMETERS) == 72
    for name in complete:
        response = _post_params(ucf, {k: v for k, v in complete.items() if k != name})
        assert response.status_code == 400
        assert error_code(response) == "402228"
        assert _message(response) == f"Mandatory parameter is missing from input: {name}"
    assert error_code(ucf.post("/conf/jobs/M148", {"parameter": []}, op="run")) == "402228"


def test_empty_mandatory_values_are_402229(ucf: Client) -> None:
    """An empty set_id, or an empty value for a switch that is on, is 402229 naming it."""
    set_id = _set(ucf, "empty", _ids(ucf, "15")[:1])
    for params, name in (
        ({**wizard_parameters(set_id, "GR"), "set_id": ""}, "set_id"),
        (wizard_parameters(set_id, ""), "UPDATE_User_Information_UserGroup_Value"),
    ):
        response = _post_params(ucf, params)
        assert error_code(response) == "402229"
        assert _message(response) == f"Mandatory parameter value is empty: {name}"


def test_empty_values_of_switches_that_are_off_are_accepted(ucf: Client) -> None:
    """Campus_Value is empty in the wizard's payload while Campus_Active is off: Alma runs it."""
    set_id = _set(ucf, "ok", _ids(ucf, "15")[:1])
    params = wizard_parameters(set_id, "GR")
    assert params["UPDATE_User_Information_Campus_Value"] == ""
    assert _post_params(ucf, params).status_code == 200


def test_job_changes_the_group_and_nothing_else(ucf: Client) -> None:
    """After the run every member's record equals its old one except user_group; counters add up."""
    movers = _ids(ucf, "15")
    before = {m: ucf.get(f"/users/{m}").json() for m in movers}
    done = _wait(ucf, _run(ucf, _set(ucf, "exact", movers), "GR").json()["additional_info"]["link"])
    assert done["status"]["value"] == "COMPLETED_SUCCESS"
    counters = {c["type"]["value"]: int(c["value"]) for c in done["counter"]}
    assert counters == {
        "c.jobs.users.total": len(movers),
        "c.jobs.users.updated": len(movers),
        "c.jobs.users.unchanged": 0,
        "c.jobs.users.failed": 0,
    }
    for member, old in before.items():
        new = ucf.get(f"/users/{member}").json()
        assert new["user_group"]["value"] == "GR"
        assert {k: v for k, v in new.items() if k != "user_group"} == {
            k: v for k, v in old.items() if k != "user_group"
        }


def test_three_running_api_jobs_at_most(
    make_sandbox: Callable[..., InProcessSandbox],
) -> None:
    """A fourth API-started job while three run is refused with 402222."""
    client = Client(make_sandbox(job_timing=JobTiming(start_delay_s=2.0)))
    set_id = _set(client, "s", _ids(client, "01")[:3])
    for _ in range(3):
        assert _run(client, set_id, "GR").status_code == 200
    refused = _run(client, set_id, "GR")
    assert refused.status_code == 400
    assert error_code(refused) == "402222"


def test_five_runs_per_hour_at_most(make_sandbox: Callable[..., InProcessSandbox]) -> None:
    """The sixth run of one job within an hour is refused with 402223."""
    client = Client(make_sandbox(job_timing=JobTiming(start_delay_s=0.0, batch_delay_s=0.0)))
    set_id = _set(client, "s", [])
    for _ in range(5):
        _wait(client, _run(client, set_id, "GR").json()["additional_info"]["link"])
    assert error_code(_run(client, set_id, "GR")) == "402223"


def test_sis_instances_and_events(ucf: Client) -> None:
    """SIS jobs carry a history of runs with counters; events list rejected records only."""
    sis = next(j for j in ucf.get("/conf/jobs", type="SCHEDULED").json()["job"])
    listing = ucf.get(f"/conf/jobs/{sis['id']}/instances", limit=100).json()
    assert listing["total_record_count"] >= 12
    runs = listing["job_instance"]
    assert runs == sorted(runs, key=lambda r: r["submit_time"], reverse=True)
    counters = {c["type"]["value"]: int(c["value"]) for c in runs[0]["counter"]}
    assert counters["c.jobs.sis.processed"] == (
        counters["c.jobs.sis.rejected"]
        + counters["c.jobs.sis.updated"]
        + counters["c.jobs.sis.created"]
        + counters["c.jobs.sis.unchanged"]
    )
    warned = next((r for r in runs if r["status"]["value"] == "COMPLETED_WARNING"), None)
    if warned is not None:
        events = ucf.get(f"/conf/jobs/{sis['id']}/instances/{warned['id']}/events").json()
        assert events["total_record_count"] == counters_of(warned)["c.jobs.sis.rejected"]


def counters_of(instance: dict[str, Any]) -> dict[str, int]:
    return {c["type"]["value"]: int(c["value"]) for c in instance["counter"]}


def test_events_only_for_sis_jobs(ucf: Client) -> None:
    """Events of a non-SIS job instance are refused with 60332."""
    set_id = _set(ucf, "e", [])
    link = _run(ucf, set_id, "GR").json()["additional_info"]["link"]
    path = link.split("/almaws/v1", 1)[1]
    assert error_code(ucf.get(f"{path}/events")) == "60332"


def test_moved_group_survives_a_sis_rerun(sandbox: InProcessSandbox) -> None:
    """A group changed by override PUT is manual: re-running the SIS load leaves it alone."""
    client = Client(sandbox)
    folder = sandbox.state_dir / "sftp" / "ucf" / "alma" / "student"
    latest = sorted(folder.glob("*.zip"))[-1]
    with zipfile.ZipFile(latest) as archive:
        root = xml_root(archive.read(archive.namelist()[0]))
    loaded = [
        u.findtext("primary_id") for u in root.iter("user") if u.findtext("user_group") == "01"
    ]
    user = client.get(f"/users/{loaded[0]}").json()
    client.put(
        f"/users/{user['primary_id']}",
        {**user, "user_group": {"value": "GR"}},
        override="user_group",
    )
    sis = client.get("/conf/jobs", type="SCHEDULED").json()["job"][0]
    run = client.post(f"/conf/jobs/{sis['id']}", {}, op="run")
    assert run.status_code == 200, run.text
    done = _wait(client, run.json()["additional_info"]["link"])
    assert counters_of(done)["c.jobs.sis.processed"] == len(list(root.iter("user")))
    assert client.get(f"/users/{user['primary_id']}").json()["user_group"]["value"] == "GR"


def test_other_switches_change_more_than_the_group(ucf: Client) -> None:
    """Status and expiry switches left on change every member too, as in Alma (why templates
    with them on are refused)."""
    movers = _ids(ucf, "15")[:3]
    params = {
        **wizard_parameters(_set(ucf, "more", movers), "GR"),
        "UPDATE_User_Information_Status_Active": "true",
        "UPDATE_User_Information_Status_Value": "INACTIVE",
        "UPDATE_User_Information_Expiry_Date_Active": "true",
        "UPDATE_User_Information_Expiry_Date_Value": "1767225600000",  # 2026-01-01 UTC
    }
    done = _wait(ucf, _post_params(ucf, params).json()["additional_info"]["link"])
    assert done["status"]["value"] == "COMPLETED_SUCCESS"
    for member in movers:
        user = ucf.get(f"/users/{member}").json()
        assert user["user_group"]["value"] == "GR"
        assert user["status"]["value"] == "INACTIVE"
        assert user["expiry_date"] == "2026-01-01Z"
