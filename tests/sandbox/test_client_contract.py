"""Contract: the project's own AlmaClient works against the sandbox end to end."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from reconciler.alma import AlmaClient
from reconciler.sandbox import RULES_REPORT_PATH, InProcessSandbox
from reconciler.sandbox.wizard import wizard_parameters

from ..builders import institution


@pytest.fixture
def client(sandbox: InProcessSandbox) -> Iterator[AlmaClient]:
    """The project's client for ucf, calling the sandbox in-process."""
    transport = sandbox.transport("ucf")
    with AlmaClient.for_institution(institution("ucf"), {}, transport) as opened:
        yield opened


def test_client_reads_tables_users_and_reports(client: AlmaClient) -> None:
    """Code table, counts, full census, one user and the Analytics report all parse."""
    table = client.get_code_table("UserGroups")
    assert any(row["code"] == "15" for row in table["row"])
    count = client.count_users("user_group~15")
    census = [u for u in client.iter_users("user_group~15") if u["user_group"]["value"] == "15"]
    assert count is not None
    assert count >= len(census) > 0
    user = client.get_user(census[0]["primary_id"], expand="loans,requests,fees")
    assert user["primary_id"] == census[0]["primary_id"]
    rows = list(client.iter_report_rows(RULES_REPORT_PATH, limit=25))
    assert rows
    assert client.api_remaining is not None


def test_client_bulk_move_through_set_and_job(client: AlmaClient) -> None:
    """create_set → add_set_members → run_job(M148) → poll: the users end up in the target."""
    members = [
        u["primary_id"]
        for u in client.iter_users("user_group~15")
        if u["user_group"]["value"] == "15"
    ]
    created = client.create_set("contract move")
    client.add_set_members(created["id"], members)
    run = client.run_job("M148", wizard_parameters(created["id"], "GR"))
    for _ in range(200):
        status = client.get_job_instance("M148", run.instance_id)["status"]["value"]
        if status.startswith("COMPLETED"):
            break
        time.sleep(0.05)
    assert status == "COMPLETED_SUCCESS"
    assert client.count_users("user_group~15") == 0


def test_client_per_user_move(client: AlmaClient) -> None:
    """GET → change user_group → PUT with override: an EXTERNAL user's group sticks."""
    user = next(
        u
        for u in client.iter_users("user_group~01")
        if u["account_type"]["value"] == "EXTERNAL" and u["user_group"]["value"] == "01"
    )
    record = client.get_user(user["primary_id"])
    record["user_group"] = {"value": "GR"}
    stored = client.update_user(user["primary_id"], record)
    assert stored["user_group"]["value"] == "GR"
    assert client.get_user(user["primary_id"])["user_group"]["value"] == "GR"
