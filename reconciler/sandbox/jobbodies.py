"""What the simulated jobs do: "Update/Notify Users" (M148) and a SIS synchronize run.

Both change users the way the real jobs do: the M148 group change is a manual change (a later
SIS sync leaves the group alone), and a SIS sync replaces the group of EXTERNAL users unless it
was changed manually, rejecting INTERNAL matches.
"""

from __future__ import annotations

import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from reconciler.sandbox.codetables import RECORD_TYPE_MAPPING
from reconciler.sandbox.context import code, loads
from reconciler.sandbox.jobs import Progress
from reconciler.sandbox.records import identifier_rows, unpack, user_row
from reconciler.sandbox.store import Store

GROUP_PREFIX = "UPDATE_User_Information_UserGroup_"


def _counter(kind: str, label: str, value: int) -> dict[str, Any]:
    return {"type": code(kind, label), "value": str(value)}


def _allowed(store: Store, inst: str) -> tuple[dict[str, str], set[tuple[str, str]]]:
    groups = {
        str(c): str(d)
        for c, d in store.all(
            "SELECT code, description FROM groups WHERE inst = ? AND enabled = 1", (inst,)
        )
    }
    pairs = set()
    for (text,) in store.all(
        "SELECT row FROM mapping_rows WHERE inst = ? AND table_name = ?",
        (inst, RECORD_TYPE_MAPPING),
    ):
        row = loads(text)
        if row.get("enabled", True):
            pairs.add((str(row["column0"]), str(row["column1"])))
    return groups, pairs


def _save(conn: Any, inst: str, record: dict[str, Any], row: tuple[Any, ...], manual: str) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO users VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        user_row(inst, record, int(row[1]), int(row[2]), float(row[3]), manual=manual),
    )


def _epoch_ms_date(value: str) -> str:
    """The wizard sends dates as epoch milliseconds; records hold `YYYY-MM-DDZ`."""
    moment = datetime.fromtimestamp(int(value) / 1000, tz=UTC)
    return f"{moment:%Y-%m-%d}Z"


def _other_changes(params: dict[str, str]) -> dict[str, Any]:
    """Field → new value for the switches besides the group that the sandbox simulates."""

    def on(name: str) -> bool:
        return params.get(f"UPDATE_User_Information_{name}_Active", "").lower() == "true"

    def value(name: str) -> str:
        return params.get(f"UPDATE_User_Information_{name}_Value", "")

    changes: dict[str, Any] = {}
    if on("Status"):
        changes["status"] = code(value("Status"), value("Status").title())
    for switch, field in (("Expiry_Date", "expiry_date"), ("Purge_Date", "purge_date")):
        if on(switch) and value(switch).isdigit():
            changes[field] = _epoch_ms_date(value(switch))
    return changes


def update_users(
    store: Store,
    inst: str,
    params: dict[str, str],
    progress: Progress,
    batch_size: int,
    *,
    fails_every: int = 0,
) -> tuple[list[Any], str]:
    """M148: give every set member the target group (when the group change is active), and
    the status, expiry or purge date when those switches are on, as Alma does. The other
    switches (notes, blocks, roles, statistics, notifications, ...) are not simulated; the
    tool's job template refuses them. With `fails_every` N, every Nth member fails, as a
    record Alma's job cannot update does, and is left as it was."""
    members = [
        str(r[0])
        for r in store.all(
            "SELECT member FROM set_members WHERE inst = ? AND set_id = ? ORDER BY position",
            (inst, params.get("set_id", "")),
        )
    ]
    active = params.get(f"{GROUP_PREFIX}Active", "false").lower() == "true"
    target = params.get(f"{GROUP_PREFIX}Value", "")
    other = _other_changes(params)
    groups, pairs = _allowed(store, inst)
    updated = unchanged = failed = 0
    for start in range(0, len(members), batch_size):
        with store.tx() as conn:
            for position, pid in enumerate(members[start : start + batch_size], start + 1):
                if fails_every and position % fails_every == 0:
                    failed += 1
                    continue
                row = conn.execute(
                    "SELECT record, loans, requests, fees, manual FROM users"
                    " WHERE inst = ? AND primary_id = ?",
                    (inst, pid),
                ).fetchone()
                if row is None:
                    failed += 1
                    continue
                record = unpack(row[0])
                move = active and record["user_group"].get("value") != target
                if move and (
                    target not in groups or (record["record_type"]["value"], target) not in pairs
                ):
                    failed += 1  # Alma: "Given user group is not legal" for this user
                    continue
                changed = {k: v for k, v in other.items() if record.get(k) != v}
                if not move and not changed:
                    unchanged += 1
                    continue
                record.update(changed)
                manual = str(row[4])
                if move:
                    record["user_group"] = code(target, groups[target])
                    manual = ",".join(sorted({*manual.split(","), "user_group"} - {""}))
                _save(conn, inst, record, row, manual)
                updated += 1
        if not progress(min(99, (start + batch_size) * 100 // max(len(members), 1))):
            break
    counters = [
        _counter("c.jobs.users.total", "Total users in set", len(members)),
        _counter("c.jobs.users.updated", "Users updated", updated),
        _counter("c.jobs.users.unchanged", "Users not changed", unchanged),
        _counter("c.jobs.users.failed", "Users failed", failed),
    ]
    alert = (
        "alert_general_success"
        if not failed
        else ("alert_general_warning" if updated or unchanged else "alert_general_error")
    )
    return counters, alert


def _latest_file(store: Store, inst: str, job_id: str) -> Path | None:
    for (text,) in store.all(
        "SELECT params FROM job_instances WHERE inst = ? AND job_id = ? ORDER BY submit_time DESC",
        (inst, job_id),
    ):
        name = str(loads(text).get("file") or "")
        if name:
            return store.path.parent / name
    return None


def sis_synchronize(
    store: Store, inst: str, params: dict[str, str], progress: Progress, batch_size: int
) -> tuple[list[Any], str]:
    """Re-run the job's latest patron-load file: external groups follow the SIS unless manual."""
    path = _latest_file(store, inst, params.get("job_id", ""))
    entries: list[tuple[str, str]] = []
    if path is not None and path.exists():
        with zipfile.ZipFile(path) as archive:
            for name in archive.namelist():
                root = ET.fromstring(archive.read(name))  # noqa: S314 - our own generated file
                entries += [
                    (u.findtext("primary_id") or "", u.findtext("user_group") or "")
                    for u in root.iter("user")
                ]
    groups, _ = _allowed(store, inst)
    updated = unchanged = rejected = 0
    with store.tx() as conn:
        for pid, group in entries:
            row = conn.execute(
                "SELECT record, loans, requests, fees, manual FROM users"
                " WHERE inst = ? AND primary_id = ?",
                (inst, pid),
            ).fetchone()
            record = unpack(row[0]) if row else None
            if (
                record is None
                or record["account_type"]["value"] != "EXTERNAL"
                or (group not in groups)
            ):
                rejected += 1
                continue
            if record["user_group"].get("value") == group or "user_group" in str(row[4]):
                unchanged += 1
                continue
            record["user_group"] = code(group, groups[group])
            _save(conn, inst, record, row, str(row[4]))
            conn.executemany(
                "INSERT OR IGNORE INTO identifiers VALUES (?, ?, ?)", identifier_rows(inst, record)
            )
            updated += 1
    progress(99)
    counters = sis_counters(len(entries), rejected, updated, 0, unchanged)
    return counters, "alert_general_success" if not rejected else "alert_general_warning"


def sis_counters(
    processed: int, rejected: int, updated: int, created: int, unchanged: int
) -> list[dict[str, Any]]:
    """The SIS report's counters (Alma gives no per-group breakdown, nor do we)."""
    return [
        _counter("c.jobs.sis.processed", "Total users processed", processed),
        _counter("c.jobs.sis.rejected", "Total users rejected", rejected),
        _counter("c.jobs.sis.updated", "Updated successfully", updated),
        _counter("c.jobs.sis.created", "Created successfully", created),
        _counter("c.jobs.sis.unchanged", "Unchanged", unchanged),
    ]
