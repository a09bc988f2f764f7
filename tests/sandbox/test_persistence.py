"""State outlives the server: what one command changes, the next command sees."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reconciler.sandbox import InProcessSandbox, SandboxConfig

from .conftest import Client


def _restart(sandbox: InProcessSandbox, **knobs: Any) -> InProcessSandbox:
    """Stop the sandbox and open its state again, as the next command would."""
    sandbox.stop()
    return InProcessSandbox(
        sandbox.state_dir, sandbox.institutions_root, SandboxConfig(**knobs)
    ).start()


def test_changes_survive_a_restart(make_sandbox: Callable[..., InProcessSandbox]) -> None:
    """A code-table change and a user move made before a restart are there after it."""
    server = make_sandbox()
    client = Client(server)
    table = client.get("/conf/code-tables/UserGroups").json()
    table["row"].append({"code": "KEEP", "description": "Kept across restarts"})
    assert client.put("/conf/code-tables/UserGroups", table).status_code == 200
    user = client.get("/users", limit=1, expand="full").json()["user"][0]
    client.put(
        f"/users/{user['primary_id']}",
        {**user, "user_group": {"value": "GR"}},
        override="user_group",
    )
    again = _restart(server)
    try:
        after = Client(again)
        codes = {r["code"] for r in after.get("/conf/code-tables/UserGroups").json()["row"]}
        assert "KEEP" in codes
        assert after.get(f"/users/{user['primary_id']}").json()["user_group"]["value"] == "GR"
    finally:
        again.stop()


def test_daily_quota_survives_a_restart(make_sandbox: Callable[..., InProcessSandbox]) -> None:
    """Calls spent today stay spent when the next command starts the sandbox again."""
    server = make_sandbox(daily_limit=5)
    for _ in range(3):
        Client(server).get("/conf/jobs")
    again = _restart(server, daily_limit=5)
    try:
        assert Client(again).get("/conf/jobs").headers["X-Exl-Api-Remaining"] == "1"
    finally:
        again.stop()
