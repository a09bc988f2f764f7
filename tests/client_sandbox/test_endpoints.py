"""Every endpoint of the real AlmaClient against the sandbox over real HTTP."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from reconciler.alma import MAX_SET_MEMBERS_PER_CALL, AlmaClient
from reconciler.alma.normalise import code_of
from reconciler.errors import AlmaApiError, AlmaConflictError, AlmaNotFoundError
from reconciler.sandbox import RULES_REPORT_PATH, UPDATE_USERS_JOB, InProcessSandbox
from reconciler.sandbox.wizard import WIZARD_PARAMETERS, wizard_parameters

from ..fixture_tree import ClientFactory, SandboxFactory

SIS = "SIS"


def wait_for_job(client: AlmaClient, job_id: str, instance_id: str) -> str:
    """Poll an instance until Alma reports it COMPLETED_*; returns the final status."""
    deadline = time.monotonic() + 15
    status = ""
    while time.monotonic() < deadline:
        status = code_of(client.get_job_instance(job_id, instance_id)["status"])
        if status.startswith("COMPLETED"):
            return status
        time.sleep(0.05)
    raise AssertionError(f"job {job_id}/{instance_id} still {status} after 15 s")


def users_of(client: AlmaClient, group: str) -> list[dict[str, Any]]:
    """Full records whose group is exactly `group` (the word-match q also finds others)."""
    return [
        dict(u)
        for u in client.iter_users(f"user_group~{group}")
        if code_of(u["user_group"]) == group
    ]


def expanded(client: AlmaClient) -> Iterator[dict[str, Any]]:
    """Users with their loans/requests/fees counts, in Alma's order."""
    for brief in client.iter_users(expand_full=False):
        yield dict(client.get_user(brief["primary_id"], expand="loans,requests,fees"))


def in_use(user: dict[str, Any]) -> bool:
    return any((user.get(k) or {}).get("value") for k in ("loans", "requests", "fees"))


# ---------------------------------------------------------------- code tables


def test_code_tables_list_get_and_put(ucf: AlmaClient) -> None:
    """GET lists tables and reads UserGroups (row always a list); PUT stores a new description."""
    names = {t.get("name") for t in ucf.list_code_tables()}
    assert "UserGroups" in names
    table = ucf.get_code_table("UserGroups")
    assert isinstance(table["row"], list)
    assert sum(1 for row in table["row"] if row["default"]) == 1
    row = next(r for r in table["row"] if r["code"] == "GUEST")
    row["description"] = "Guest borrower (renamed)"
    stored = ucf.put_code_table("UserGroups", table)
    assert {r["code"]: r["description"] for r in stored["row"]}["GUEST"] == row["description"]
    again = ucf.get_code_table("UserGroups")
    assert {r["code"]: r["description"] for r in again["row"]}["GUEST"] == row["description"]


def test_code_table_put_refuses_two_defaults(ucf: AlmaClient) -> None:
    """A second default row is Alma's 90122, surfaced with its code and not retried."""
    table = ucf.get_code_table("UserGroups")
    for row in table["row"]:
        if row["code"] == "02":
            row["default"] = True
    with pytest.raises(AlmaApiError) as caught:
        ucf.put_code_table("UserGroups", table)
    assert caught.value.alma_code == "90122"
    assert caught.value.status == 400
    assert caught.value.tracking_id
    assert ucf.ledger.summary().retries == 0


def test_code_table_put_refuses_no_default(ucf: AlmaClient) -> None:
    """A table without a default row is refused (402119): exactly one default is required."""
    table = ucf.get_code_table("UserGroups")
    for row in table["row"]:
        row["default"] = False
    with pytest.raises(AlmaApiError, match="one default row") as caught:
        ucf.put_code_table("UserGroups", table)
    assert caught.value.alma_code == "402119"


def test_deleted_row_cannot_be_restored(ucf: AlmaClient) -> None:
    """A row left out of the PUT is deleted; putting it back is refused (disable first)."""
    table = ucf.get_code_table("UserGroups")
    dept = next(r for r in table["row"] if r["code"] == "DEPT")
    table["row"] = [r for r in table["row"] if r["code"] != "DEPT"]
    stored = ucf.put_code_table("UserGroups", table)
    assert "DEPT" not in {r["code"] for r in stored["row"]}
    stored["row"].append(dept)
    with pytest.raises(AlmaApiError, match="restoring a deleted row") as caught:
        ucf.put_code_table("UserGroups", stored)
    assert caught.value.alma_code == "402119"


def test_unknown_code_table_is_not_found(ucf: AlmaClient) -> None:
    """GET of a table that does not exist is 90101, read as AlmaNotFoundError."""
    with pytest.raises(AlmaNotFoundError) as caught:
        ucf.get_code_table("NoSuchTable")
    assert caught.value.alma_code == "90101"


# ---------------------------------------------------------------- mapping tables


def test_mapping_tables_list_get_and_put(ucf: AlmaClient) -> None:
    """The record-type mapping lists, reads, and is replaced whole by PUT."""
    assert [t["name"] for t in ucf.list_mapping_tables()] == ["UserRecordTypeUserGroup"]
    table = ucf.get_mapping_table("UserRecordTypeUserGroup")
    before = len(table["row"])
    dropped = next(r for r in table["row"] if r["column1"] == "GUEST")
    table["row"] = [r for r in table["row"] if r is not dropped]
    stored = ucf.put_mapping_table("UserRecordTypeUserGroup", table)
    assert len(stored["row"]) == before - 1
    stored["row"].append(dropped)
    assert len(ucf.put_mapping_table("UserRecordTypeUserGroup", stored)["row"]) == before


def test_mapping_table_put_refuses_unknown_group(ucf: AlmaClient) -> None:
    """A mapping row naming a group that is not in UserGroups is refused by Alma."""
    table = ucf.get_mapping_table("UserRecordTypeUserGroup")
    table["row"].append({"column0": "PUBLIC", "column1": "NOSUCH", "enabled": True})
    with pytest.raises(AlmaApiError, match="does not exist"):
        ucf.put_mapping_table("UserRecordTypeUserGroup", table)


# ---------------------------------------------------------------- users


def test_search_iter_and_count_users(ucf: AlmaClient) -> None:
    """Brief pages carry no group; the full census pages by 100; counts are one call each."""
    page = ucf.search_users(limit=7)
    assert len(page.users) == 7
    total = page.total
    assert total is not None
    assert total > 1000
    assert all("user_group" not in u or not u["user_group"] for u in page.users)
    calls_before = ucf.ledger.total_calls
    everyone = list(ucf.iter_users())
    assert len(everyone) == total
    assert len({u["primary_id"] for u in everyone}) == total
    assert all(u["user_group"]["value"] for u in everyone)  # full records carry the group
    # 100 per page; the walk stops at the first short page (or an empty one after a full one)
    assert ucf.ledger.total_calls - calls_before == total // 100 + 1
    assert len(ucf.search_users(offset=total - 5, limit=100).users) == 5
    exact = users_of(ucf, "15")
    word = ucf.count_users("user_group~15")
    assert word is not None
    assert word >= len(exact) > 0


def test_get_user_with_expand(ucf: AlmaClient) -> None:
    """GET one user, plain and with loans,requests,fees: the counts appear only when asked."""
    first = ucf.search_users(limit=1).users[0]["primary_id"]
    plain = ucf.get_user(first)
    assert plain["primary_id"] == first
    assert not plain.get("loans")
    full = ucf.get_user(first, expand=("loans", "requests", "fees"))
    assert "value" in (full.get("loans") or {})
    assert "value" in (full.get("fees") or {})


def test_update_external_user_with_and_without_override(ucf: AlmaClient) -> None:
    """Swap-all PUT on an EXTERNAL user: the group sticks only with override=user_group."""
    target = next(u for u in users_of(ucf, "01") if code_of(u["account_type"]) == "EXTERNAL")
    user_id = target["primary_id"]
    record = dict(ucf.get_user(user_id))
    record["user_group"] = {"value": "02"}
    kept = ucf.update_user(user_id, record, override=())  # type: ignore[arg-type]
    assert code_of(kept["user_group"]) == "01"
    assert code_of(ucf.get_user(user_id)["user_group"]) == "01"
    moved = ucf.update_user(user_id, record)  # type: ignore[arg-type]
    assert code_of(moved["user_group"]) == "02"
    assert code_of(ucf.get_user(user_id)["user_group"]) == "02"
    assert ucf.ledger.calls_to("PUT /users/{user_id}") == {"200": 2}


def test_delete_user_refused_with_loans_then_ok_without(ucf: AlmaClient) -> None:
    """DELETE of a user with loans/fees is a conflict (401850); an idle user goes, then 401861."""
    busy = next(u for u in expanded(ucf) if in_use(u))
    with pytest.raises(AlmaConflictError) as caught:
        ucf.delete_user(busy["primary_id"])
    assert caught.value.alma_code == "401850"
    assert busy["primary_id"] not in str(caught.value)  # the id is redacted from the message
    idle = next(u for u in expanded(ucf) if not in_use(u))
    ucf.delete_user(idle["primary_id"])
    with pytest.raises(AlmaNotFoundError):
        ucf.get_user(idle["primary_id"])
    assert ucf.count_users(f"primary_id~{idle['primary_id']}") in (0, None)


# ---------------------------------------------------------------- sets and jobs


def test_set_with_more_than_1000_members_in_chunks(ucf: AlmaClient) -> None:
    """create_set → add 1200 members in chunks of 1000 (2 calls) → get → delete → not found."""
    ids = [u["primary_id"] for u in ucf.iter_users(expand_full=False)]
    assert len(ids) > MAX_SET_MEMBERS_PER_CALL
    created = ucf.create_set("contract: all ucf users")
    set_id = created["id"]
    assert ucf.add_set_members(set_id, ids) == 2
    assert ucf.ledger.calls_to("POST /conf/sets/{set_id}") == {"200": 2}
    assert int(str(ucf.get_set(set_id)["number_of_members"]["value"])) == len(ids)
    ucf.delete_set(set_id)
    with pytest.raises(AlmaNotFoundError) as caught:
        ucf.get_set(set_id)
    assert caught.value.alma_code == "60107"


def test_failed_chunk_says_how_many_were_added(ucf: AlmaClient) -> None:
    """A refused add (60115: already a member) is not retried and notes the ids added before."""
    ids = [u["primary_id"] for u in ucf.search_users(limit=30).users]
    set_id = ucf.create_set("contract: repeat add")["id"]
    ucf.add_set_members(set_id, ids[:10])
    with pytest.raises(AlmaApiError) as caught:
        ucf.add_set_members(set_id, ids, chunk_size=20)
    assert caught.value.alma_code == "60115"
    assert "0 of 30 ids were added" in " ".join(getattr(caught.value, "__notes__", []))
    assert ucf.ledger.summary().retries == 0


def idle_run(set_id: str) -> dict[str, str]:
    """Every wizard parameter with every change switched off: a run that changes nobody."""
    return {**dict(WIZARD_PARAMETERS), "set_id": set_id}


def test_bulk_move_job_runs_to_completion(ucf: AlmaClient) -> None:
    """Jobs list → M148 on a set → poll to COMPLETED_SUCCESS → group empty, the run listed."""
    manual = {j["id"]: j for j in ucf.iter_jobs("MANUAL")}
    assert UPDATE_USERS_JOB in manual
    members = [u["primary_id"] for u in users_of(ucf, "15")]
    set_id = ucf.create_set("contract: move 15")["id"]
    ucf.add_set_members(set_id, members)
    run = ucf.run_job(UPDATE_USERS_JOB, wizard_parameters(set_id, "GUEST"))
    assert run.instance_id
    assert run.instance_id in run.message
    assert wait_for_job(ucf, UPDATE_USERS_JOB, run.instance_id) == "COMPLETED_SUCCESS"
    assert users_of(ucf, "15") == []
    runs = list(ucf.iter_job_instances(UPDATE_USERS_JOB))
    assert run.instance_id in {r["id"] for r in runs}
    assert ucf.ledger.calls_to("POST /conf/jobs/{job_id}") == {"200": 1}


def test_sis_job_instances_and_events(ucf: AlmaClient) -> None:
    """A SIS job's runs list newest first; a run with rejections has events; M148 has none."""
    sis = [j for j in ucf.iter_jobs("SCHEDULED") if code_of(j["category"]) == SIS]
    assert sis
    runs = list(ucf.iter_job_instances(sis[0]["id"]))
    assert len(runs) > 10
    submitted = [r["submit_time"] for r in runs]
    assert submitted == sorted(submitted, reverse=True)
    events = next(
        (events for run in runs if (events := list(ucf.iter_job_events(sis[0]["id"], run["id"])))),
        [],
    )
    assert events
    assert code_of(events[0]["type"]) == "USER_REJECTED"
    set_id = ucf.create_set("contract: events")["id"]
    ucf.add_set_members(set_id, [ucf.search_users(limit=1).users[0]["primary_id"]])
    run = ucf.run_job(UPDATE_USERS_JOB, idle_run(set_id))
    wait_for_job(ucf, UPDATE_USERS_JOB, run.instance_id)
    with pytest.raises(AlmaApiError) as caught:
        list(ucf.iter_job_events(UPDATE_USERS_JOB, run.instance_id))
    assert caught.value.alma_code == "60332"


def test_three_running_api_jobs_is_402222(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    """A fourth API job while three run is refused: 402222, a conflict, never retried."""
    from reconciler.sandbox import JobTiming  # noqa: PLC0415 - only this test needs slow jobs

    server = make_sandbox(job_timing=JobTiming(start_delay_s=30))
    client = make_client(server)
    set_id = client.create_set("contract: threshold")["id"]
    client.add_set_members(set_id, [client.search_users(limit=1).users[0]["primary_id"]])
    for _ in range(3):
        client.run_job(UPDATE_USERS_JOB, idle_run(set_id))
    with pytest.raises(AlmaConflictError) as caught:
        client.run_job(UPDATE_USERS_JOB, idle_run(set_id))
    assert caught.value.alma_code == "402222"
    assert client.ledger.calls_to("POST /conf/jobs/{job_id}") == {"200": 3, "400": 1}


def test_five_runs_an_hour_is_402223(ucf: AlmaClient) -> None:
    """A sixth run of one job within the hour is refused: 402223, a conflict."""
    set_id = ucf.create_set("contract: hourly")["id"]
    ucf.add_set_members(set_id, [ucf.search_users(limit=1).users[0]["primary_id"]])
    for _ in range(5):
        run = ucf.run_job(UPDATE_USERS_JOB, idle_run(set_id))
        wait_for_job(ucf, UPDATE_USERS_JOB, run.instance_id)
    with pytest.raises(AlmaConflictError) as caught:
        ucf.run_job(UPDATE_USERS_JOB, idle_run(set_id))
    assert caught.value.alma_code == "402223"


# ---------------------------------------------------------------- profiles and Analytics


def test_integration_profiles(ucf: AlmaClient) -> None:
    """Both SIS profiles come back (type and limit sent, so Alma's default 10 cannot cut them)."""
    profiles = list(ucf.iter_integration_profiles("USER"))
    assert [p["code"] for p in profiles] == ["SIS_STUDENTS", "SIS_STAFF"]
    assert ucf.ledger.calls_to("GET /conf/integration-profiles") == {"200": 1}


def test_analytics_report_pages_with_the_token(sandbox: InProcessSandbox, ucf: AlmaClient) -> None:
    """A 60-row report at limit 25 reads as 3 pages through the first page's token."""
    path = "/shared/Test/Reports/Sixty rows"
    with sandbox.app.store.tx() as conn:
        conn.executemany(
            "INSERT INTO analytics_rows VALUES (?, ?, ?, ?)",
            [
                (
                    "ucf",
                    path,
                    n,
                    f'["Main", "Rule {n}", "Loan", "true", "User Group", "=", "{n:02d}", "TOU"]',
                )
                for n in range(60)
            ],
        )
    rows = list(ucf.iter_report_rows(path, limit=25))
    assert len(rows) == 60
    assert rows[0]["Rule Name"] == "Rule 0"
    assert rows[59]["Parameter Value"] == "59"  # headings carried past the first page
    assert ucf.ledger.calls_to("GET /analytics/reports") == {"200": 3}
    seeded = list(ucf.iter_report_rows(RULES_REPORT_PATH, limit=25))
    assert seeded
    assert {"Rule Name", "Parameter Value"} <= set(seeded[0])
