"""State outlives the server: what one command changes, the next command sees."""

from __future__ import annotations

import sqlite3
import zlib
from collections.abc import Callable
from typing import Any

from reconciler.sandbox import InProcessSandbox, SandboxConfig
from reconciler.sandbox.records import PACKED_TAG, SERVED_ONLY_KEYS, pack, unpack
from reconciler.sandbox.store import DB_NAME, dumps

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


def test_records_stored_before_the_preset_dictionary_are_still_served(
    make_sandbox: Callable[..., InProcessSandbox],
) -> None:
    """A state folder seeded when records were plain zlib serves them unchanged, beside new ones."""
    server = make_sandbox()
    client = Client(server)
    page = client.get("/users", limit=3, offset=0, expand="full", order_by="primary_id").json()
    old_style = page["user"][0]["primary_id"]
    record = client.get(f"/users/{old_style}").json()
    stored = {k: v for k, v in record.items() if k not in SERVED_ONLY_KEYS}
    with sqlite3.connect(server.state_dir / DB_NAME) as db:  # as an earlier version wrote it
        changed = db.execute(
            "UPDATE users SET record = ? WHERE primary_id = ?",
            (zlib.compress(dumps(stored).encode(), 1), old_style),
        ).rowcount
    db.close()
    assert changed == 1
    again = client.get("/users", limit=3, offset=0, expand="full", order_by="primary_id").json()
    assert again == page
    assert client.get(f"/users/{old_style}").json() == record


def test_a_packed_record_comes_back_exactly() -> None:
    """pack/unpack keep every value, non-ASCII text included, and tag the new format."""
    record = {
        "primary_id": "ÉTUDIANT-001",
        "first_name": "Zoë",
        "user_group": {"value": "GR", "desc": "Graduate — 研究生"},
        "contact_info": {"email": [{"email_address": "zoe@example.edu", "preferred": True}]},
        "user_note": [],
        "is_researcher": False,
    }
    blob = pack(record)
    assert blob[:1] == PACKED_TAG
    assert unpack(blob) == record
    assert len(blob) < len(dumps(record).encode()) / 2  # the dictionary carries the keys
