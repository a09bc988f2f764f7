"""Code-table and mapping-table writes: read the whole table, change only our rows, write back.

Alma's PUT replaces a table whole (rows left out are dropped; a deleted row cannot be restored
by API), so every write starts from a fresh GET and sends every other row back exactly as read.
Each write is journaled with the rows as they were before (what rollback restores), and is
idempotent: a row already as wanted is left alone, and a table with nothing to change is not
written at all, so a resumed run repeats nothing. Alma's refusals (90122 multiple defaults,
90123 not customizable, ...) become one `TableWriteError` naming the table and the rows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, assert_never

from reconciler.alma import AlmaClient
from reconciler.apply.journal import Journal
from reconciler.errors import AlmaApiError, AlmaDailyLimitError, TableWriteError
from reconciler.model.changes import (
    CreateGroup,
    DeleteGroup,
    DisableGroup,
    EnableGroup,
    UpdateGroup,
)
from reconciler.reading.references import RECORD_TYPE_TABLE

USER_GROUPS = "UserGroups"

Row = dict[str, Any]


@dataclass(frozen=True)
class TableWrite:
    """What one table write changed: the codes touched, by action."""

    table: str
    codes: Mapping[str, tuple[str, ...]]  # action -> codes changed (empty when nothing to do)


def _enabled(row: Mapping[str, Any]) -> bool:
    value = row.get("enabled", True)
    if isinstance(value, Mapping):
        value = value.get("value")
    return value is True or str(value).lower() == "true"


def apply_group_changes(
    client: AlmaClient, journal: Journal, changes: Sequence[GroupRowChange]
) -> TableWrite:
    """Create, enable, update, disable or delete UserGroups rows, in one read and one write."""
    if not changes:
        return TableWrite(USER_GROUPS, {})
    table = client.get_code_table(USER_GROUPS)
    rows: list[Row] = [dict(r) for r in table.get("row", [])]
    before = {str(r.get("code")): dict(r) for r in rows}
    done: dict[str, list[str]] = {}
    for change in changes:
        if _apply_group_change(rows, change):
            done.setdefault(change.action.value, []).append(change.code)
    if not done:
        return TableWrite(USER_GROUPS, {})
    touched = sorted({c for codes in done.values() for c in codes})
    op_id = f"table:{USER_GROUPS}:{'+'.join(sorted(done))}:{','.join(touched)}"
    journal.intent(
        op_id,
        "group_rows",
        table=USER_GROUPS,
        actions=done,
        rows_before={c: before.get(c) for c in touched},
    )
    _put(
        client,
        journal,
        op_id=op_id,
        op="group_rows",
        name=USER_GROUPS,
        codes=touched,
        body=lambda: {**table, "row": rows},
    )
    return TableWrite(USER_GROUPS, {k: tuple(v) for k, v in done.items()})


GroupRowChange = CreateGroup | EnableGroup | UpdateGroup | DisableGroup | DeleteGroup


def _wanted(change: GroupRowChange) -> dict[str, Any] | None:
    """The row fields a change sets; None for a deletion."""
    match change:
        case CreateGroup():
            return {"description": change.description, "default": change.default, "enabled": True}
        case EnableGroup():
            return {"enabled": True}
        case UpdateGroup():
            return {f.name: f.after for f in change.fields}
        case DisableGroup():
            return {"enabled": False}
        case DeleteGroup():
            return None
        case _:
            assert_never(change)


def _apply_group_change(rows: list[Row], change: GroupRowChange) -> bool:
    """Change `rows` in place for one change; False when the table already shows it."""
    row = next((r for r in rows if str(r.get("code")) == change.code), None)
    wanted = _wanted(change)
    if wanted is None:
        if row is None:
            return False
        rows.remove(row)
        return True
    if row is None:
        if not isinstance(change, CreateGroup):
            return False  # the row is gone: nothing left to enable, update or disable
        row = {"code": change.code, "enabled": True, "default": False}
        rows.append(row)
    changed = False
    for name, value in wanted.items():
        current = _enabled(row) if name == "enabled" else row.get(name)
        if current != value:
            row[name] = value
            changed = True
    if wanted.get("default") is True:
        for other in rows:  # one default row: Alma answers 90122 otherwise
            if other is not row and other.get("default") in (True, "true"):
                other["default"] = False
    return changed


def change_mapping_rows(
    client: AlmaClient,
    journal: Journal,
    *,
    add: Mapping[str, Sequence[str]] = {},
    remove: Sequence[str] = (),
    restore: Sequence[Row] = (),
) -> TableWrite:
    """Add record-type rows for new groups, remove a retired group's rows, or restore rows."""
    if not (add or remove or restore):
        return TableWrite(RECORD_TYPE_TABLE, {})
    table = client.get_mapping_table(RECORD_TYPE_TABLE)
    rows: list[Row] = [dict(r) for r in table.get("row", [])]
    present = {(str(r.get("column0")), str(r.get("column1"))) for r in rows}
    done: dict[str, list[str]] = {}
    for code, record_types in add.items():
        for record_type in record_types:
            if (record_type, code) not in present:
                rows.append({"column0": record_type, "column1": code, "enabled": True})
                done.setdefault("add_mapping", []).append(code)
    removed = [r for r in rows if str(r.get("column1")) in set(remove)]
    if removed:
        rows = [r for r in rows if r not in removed]
        done["remove_mapping"] = sorted({str(r.get("column1")) for r in removed})
    for row in restore:
        if (str(row.get("column0")), str(row.get("column1"))) not in present:
            rows.append(dict(row))
            done.setdefault("restore_mapping", []).append(str(row.get("column1")))
    if not done:
        return TableWrite(RECORD_TYPE_TABLE, {})
    touched = sorted({c for codes in done.values() for c in codes})
    op_id = f"table:{RECORD_TYPE_TABLE}:{'+'.join(sorted(done))}:{','.join(touched)}"
    journal.intent(
        op_id, "mapping_rows", table=RECORD_TYPE_TABLE, actions=done, rows_removed=removed
    )
    _put(
        client,
        journal,
        op_id=op_id,
        op="mapping_rows",
        name=RECORD_TYPE_TABLE,
        codes=touched,
        body=lambda: {**table, "row": rows},
    )
    return TableWrite(RECORD_TYPE_TABLE, {k: tuple(sorted(set(v))) for k, v in done.items()})


def _put(
    client: AlmaClient,
    journal: Journal,
    *,
    op_id: str,
    op: str,
    name: str,
    codes: Sequence[str],
    body: Callable[[], Any],
) -> None:
    try:
        if name == USER_GROUPS:
            client.put_code_table(name, body())
        else:
            client.put_mapping_table(name, body())
    except AlmaDailyLimitError:
        raise
    except AlmaApiError as error:
        journal.outcome(
            op_id, op, "failed", alma_code=error.alma_code, tracking_id=error.tracking_id
        )
        raise TableWriteError(
            f"Alma refused the {name} table with row(s) {', '.join(codes)} changed: {error}"
        ) from error
    journal.outcome(op_id, op, "done")
