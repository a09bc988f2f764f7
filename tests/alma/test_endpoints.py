"""Each AlmaClient method sends the right request and reads Alma's answer into typed shapes."""

from __future__ import annotations

import threading

import pytest

from reconciler.alma.payloads import CodeTable
from reconciler.errors import AlmaApiError, AlmaConflictError, AlmaUnexpectedBodyError

from .fakes import Canned, ClientFactory, FakeAlma, json_error

USER_GROUPS: CodeTable = {
    "name": "UserGroups",
    "description": "User Groups",
    "row": [
        {"code": "01", "description": "Undergraduate", "default": True, "enabled": True},
        {"code": "15", "description": "Autologin", "default": False, "enabled": True},
    ],
}


def test_get_code_table_makes_a_single_row_a_list(
    fake_alma: FakeAlma, make_client: ClientFactory
) -> None:
    """A table whose one row came as an object is returned with `row` as a list."""
    one_row = {"name": "UserGroups", "row": {"code": "01", "description": "Undergraduate"}}
    fake_alma.script("GET", "/conf/code-tables/UserGroups", one_row)
    table = make_client().get_code_table("UserGroups")
    assert table["row"] == [{"code": "01", "description": "Undergraduate"}]


def test_put_code_table_sends_the_whole_table(
    fake_alma: FakeAlma, make_client: ClientFactory
) -> None:
    """PUT sends every row back as JSON with lang=en and returns what Alma stored."""
    fake_alma.script("PUT", "/conf/code-tables/UserGroups", dict(USER_GROUPS))
    stored = make_client().put_code_table("UserGroups", USER_GROUPS)
    (seen,) = fake_alma.seen("PUT", "/conf/code-tables/UserGroups")
    assert seen.json() == USER_GROUPS
    assert seen.query == {"lang": ["en"]}
    assert [row["code"] for row in stored["row"]] == ["01", "15"]


def test_list_tables_and_mapping_table_round_trip(
    fake_alma: FakeAlma, make_client: ClientFactory
) -> None:
    """Code and mapping tables list; a mapping table reads and writes whole."""
    fake_alma.script("GET", "/conf/code-tables", {"code_table": {"name": "UserGroups"}})
    fake_alma.script("GET", "/conf/mapping-tables", {"mapping_table": [{"name": "A"}]})
    mapping = {"name": "UserRecordTypeUserGroup", "row": [{"column0": "PUBLIC", "column1": "01"}]}
    fake_alma.script("GET", "/conf/mapping-tables/UserRecordTypeUserGroup", mapping)
    fake_alma.script("PUT", "/conf/mapping-tables/UserRecordTypeUserGroup", mapping)
    client = make_client()
    assert client.list_code_tables() == [{"name": "UserGroups"}]
    assert client.list_mapping_tables() == [{"name": "A"}]
    table = client.get_mapping_table("UserRecordTypeUserGroup")
    assert table["row"][0]["column1"] == "01"
    client.put_mapping_table("UserRecordTypeUserGroup", table)
    (seen,) = fake_alma.seen("PUT", "/conf/mapping-tables/UserRecordTypeUserGroup")
    assert seen.json() == mapping


def test_a_table_answer_of_the_wrong_shape_is_unexpected(
    fake_alma: FakeAlma, make_client: ClientFactory
) -> None:
    """A JSON answer that is not a table is reported, not returned."""
    fake_alma.script("GET", "/conf/code-tables/UserGroups", Canned(body=b"[1, 2]"))
    with pytest.raises(AlmaUnexpectedBodyError):
        make_client().get_code_table("UserGroups")


def test_search_and_count_users(fake_alma: FakeAlma, make_client: ClientFactory) -> None:
    """search_users returns one page; count_users asks for limit=1 and reads the total."""
    fake_alma.script("GET", "/users", {"user": {"primary_id": "u1"}, "total_record_count": "42"})
    client = make_client()
    page = client.search_users("user_group~01", limit=1)
    assert page.users == ({"primary_id": "u1"},)
    assert page.total == 42
    assert client.count_users("user_group~01") == 42
    assert all(seen.query["limit"] == ["1"] for seen in fake_alma.seen("GET", "/users"))


def test_count_users_returns_none_for_minus_one(
    fake_alma: FakeAlma, make_client: ClientFactory
) -> None:
    """A total of -1 (Alma could not count) is None, never a number."""
    fake_alma.script("GET", "/users", {"user": [], "total_record_count": -1})
    assert make_client().count_users("user_group~01 AND user_group~02") is None


def test_get_update_delete_user(fake_alma: FakeAlma, make_client: ClientFactory) -> None:
    """GET with expand, swap-all PUT with override=user_group, DELETE with 204."""
    user = {"primary_id": "u1", "user_group": {"value": "15"}, "loans": {"value": "0"}}
    moved = {**user, "user_group": {"value": "GUEST"}}
    fake_alma.script("GET", "/users/u1", user)
    fake_alma.script("PUT", "/users/u1", moved)
    fake_alma.script("DELETE", "/users/u1", Canned(status=204))
    client = make_client()
    record = client.get_user("u1", expand="loans,requests,fees")
    record["user_group"] = {"value": "GUEST"}
    assert client.update_user("u1", record)["user_group"] == {"value": "GUEST"}
    client.delete_user("u1")
    get, put, delete = fake_alma.requests
    assert get.query == {"expand": ["loans,requests,fees"]}
    assert put.query == {"override": ["user_group"]}
    assert put.json()["loans"] == {"value": "0"}  # every field goes back
    assert delete.method == "DELETE"


def test_delete_user_with_loans_is_a_conflict(
    fake_alma: FakeAlma, make_client: ClientFactory
) -> None:
    """Alma's 401850 (user cannot be deleted) is a conflict, not a generic failure."""
    fake_alma.script(
        "DELETE", "/users/u1", Canned(status=400, body=json_error("401850", "Failed to delete"))
    )
    with pytest.raises(AlmaConflictError):
        make_client().delete_user("u1")


def test_add_set_members_in_chunks_of_1000(fake_alma: FakeAlma, make_client: ClientFactory) -> None:
    """2500 ids go in three calls of 1000, 1000 and 500 with op=add_members."""
    fake_alma.script("POST", "/conf/sets", {"id": "9001", "name": "retire-15"})
    fake_alma.script("POST", "/conf/sets/9001", {"id": "9001"})
    client = make_client()
    created = client.create_set("retire-15", description="users of group 15")
    assert created["id"] == "9001"
    ids = [f"u{i}" for i in range(2500)]
    assert client.add_set_members("9001", ids) == 3
    chunks = fake_alma.seen("POST", "/conf/sets/9001")
    assert [len(c.json()["members"]["member"]) for c in chunks] == [1000, 1000, 500]
    assert chunks[0].query == {"op": ["add_members"], "fail_on_invalid_id": ["true"]}
    assert chunks[2].json()["members"]["member"][-1] == {"id": "u2499"}
    (create,) = fake_alma.seen("POST", "/conf/sets")
    assert create.json()["content"] == {"value": "USER"}
    assert create.json()["type"] == {"value": "ITEMIZED"}


def test_failed_chunk_notes_how_many_ids_went_in(
    fake_alma: FakeAlma, make_client: ClientFactory
) -> None:
    """When the second chunk fails, the error notes that 1000 ids were already added."""
    fake_alma.script(
        "POST",
        "/conf/sets/9001",
        Canned(body={"id": "9001"}),
        Canned(status=400, body=json_error("60115", "A member ID is already in the set.")),
    )
    with pytest.raises(AlmaApiError) as caught:
        make_client().add_set_members("9001", [f"u{i}" for i in range(1500)])
    assert caught.value.__notes__ == ["1000 of 1500 ids were added to set 9001 before this call"]


def test_create_set_without_an_id_is_unexpected(
    fake_alma: FakeAlma, make_client: ClientFactory
) -> None:
    """A set Alma claims to have created but gives no id for is an error."""
    fake_alma.script("POST", "/conf/sets", {"name": "x"})
    with pytest.raises(AlmaUnexpectedBodyError):
        make_client().create_set("x")


def test_run_job_and_read_its_instance(fake_alma: FakeAlma, make_client: ClientFactory) -> None:
    """run_job posts name/value parameters and finds the new instance id in the link."""
    fake_alma.script(
        "POST",
        "/conf/jobs/M148",
        {
            "id": "M148",
            "additional_info": {
                "value": "Job no. 9563643080000561 triggered on Sun, 5 Oct 2025",
                "link": "https://x/almaws/v1/conf/jobs/M148/instances/9563643080000561",
            },
        },
    )
    instance = {"id": "9563643080000561", "status": {"value": "COMPLETED_SUCCESS"}}
    fake_alma.script("GET", "/conf/jobs/M148/instances/9563643080000561", instance)
    client = make_client()
    run = client.run_job("M148", {"set_id": "9001", "UPDATE_User_Information_UserGroup_Value": "G"})
    assert run.instance_id == "9563643080000561"
    assert run.message.startswith("Job no. 9563643080000561")
    (seen,) = fake_alma.seen("POST", "/conf/jobs/M148")
    assert seen.query == {"op": ["run"]}
    assert seen.json()["parameter"][0] == {"name": {"value": "set_id"}, "value": "9001"}
    got = client.get_job_instance("M148", run.instance_id)
    assert got["status"] == {"value": "COMPLETED_SUCCESS"}


def test_job_threshold_is_a_conflict(fake_alma: FakeAlma, make_client: ClientFactory) -> None:
    """402223 (too many runs this hour) is a conflict the caller can wait out."""
    fake_alma.script(
        "POST",
        "/conf/jobs/M148",
        Canned(status=400, body=json_error("402223", "Execution threshold reached")),
    )
    with pytest.raises(AlmaConflictError, match="402223"):
        make_client().run_job("M148", {})


def test_job_listings_and_profiles_page(fake_alma: FakeAlma, make_client: ClientFactory) -> None:
    """Jobs, instances, events and integration profiles are walked with limit=100."""
    fake_alma.script("GET", "/conf/jobs", {"job": {"id": "S1"}, "total_record_count": 1})
    fake_alma.script(
        "GET", "/conf/jobs/S1/instances", {"job_instance": [{"id": "I1"}], "total_record_count": 1}
    )
    fake_alma.script(
        "GET", "/conf/jobs/S1/instances/I1/events", {"event": [], "total_record_count": 0}
    )
    fake_alma.script("GET", "/conf/integration-profiles", {"integration_profile": [{"id": "P1"}]})
    client = make_client()
    assert [job["id"] for job in client.iter_jobs("SCHEDULED", profile_id="P1")] == ["S1"]
    assert [i["id"] for i in client.iter_job_instances("S1")] == ["I1"]
    assert list(client.iter_job_events("S1", "I1")) == []
    assert [p["id"] for p in client.iter_integration_profiles()] == ["P1"]
    (jobs,) = fake_alma.seen("GET", "/conf/jobs")
    assert jobs.query == {
        "type": ["SCHEDULED"],
        "profile_id": ["P1"],
        "limit": ["100"],
        "offset": ["0"],
    }
    (profiles,) = fake_alma.seen("GET", "/conf/integration-profiles")
    assert profiles.query["type"] == ["USER"]
    assert profiles.query["limit"] == ["100"]


def test_map_concurrently_keeps_order_and_overlaps_calls(
    fake_alma: FakeAlma, make_client: ClientFactory
) -> None:
    """Twelve slow GETs on four workers return in order and run side by side."""
    for i in range(12):
        fake_alma.script("GET", f"/users/u{i}", Canned(body={"primary_id": f"u{i}"}, delay=0.05))
    client = make_client()
    in_flight = 0
    peak = 0
    lock = threading.Lock()

    def fetch(user_id: str) -> str:
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        try:
            return client.get_user(user_id)["primary_id"]
        finally:
            with lock:
                in_flight -= 1

    ids = [f"u{i}" for i in range(12)]
    assert client.map_concurrently(fetch, ids, max_workers=4) == ids
    assert peak > 1
    assert client.ledger.total_calls == 12


def test_map_concurrently_raises_the_first_failure(
    fake_alma: FakeAlma, make_client: ClientFactory
) -> None:
    """A failing item raises once all items are done; the others still ran."""
    fake_alma.script("GET", "/users/ok", {"primary_id": "ok"})
    fake_alma.script(
        "DELETE", "/users/bad", Canned(status=400, body=json_error("401850", "has loans"))
    )
    client = make_client()

    def work(user_id: str) -> None:
        if user_id == "bad":
            client.delete_user(user_id)
        else:
            client.get_user(user_id)

    with pytest.raises(AlmaConflictError):
        client.map_concurrently(work, ["ok", "bad", "ok"])
    assert len(fake_alma.seen("GET", "/users/ok")) == 2
