"""Code tables (`UserGroups`) and mapping tables (`UserRecordTypeUserGroup`).

Both are replaced whole by PUT, as in Alma. The rules that bite a reconciler are enforced:
exactly one default row, codes alphanumeric and unique, and a deleted row can never come back
through the API (Alma: "doesn't currently support restoring a row").
"""

from __future__ import annotations

from typing import Any

from reconciler.sandbox.context import Ctx, code, datestamp, loads
from reconciler.sandbox.http import AlmaError, Request, Response, Router
from reconciler.sandbox.store import dumps

USER_GROUPS = "UserGroups"
RECORD_TYPE_MAPPING = "UserRecordTypeUserGroup"
RECORD_TYPES = {"STAFF": "Staff", "PUBLIC": "Public", "CONTACT": "Contact"}

# Read-only tables a client may look up; rows are (code, description).
STATIC_TABLES: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "systemJobStatus": (
        "System Job Status",
        [
            ("QUEUED", "Queued"),
            ("PENDING", "Pending"),
            ("INITIALIZING", "Initializing"),
            ("RUNNING", "Running"),
            ("COMPLETED_SUCCESS", "Completed Successfully"),
            ("COMPLETED_NO_BULKS", "Completed without bulks"),
            ("COMPLETED_WARNING", "Completed with warnings"),
            ("COMPLETED_FAILED", "Completed with errors"),
            ("FAILED", "Failed"),
            ("ABORTED", "Aborted"),
        ],
    ),
    "UserRecordTypes": ("User Record Types", list(RECORD_TYPES.items())),
    "IntegrationTypes": ("Integration Types", [("USER", "Users")]),
}


def register(router: Router) -> None:
    router.add("GET", "/conf/code-tables", list_code_tables)
    router.add("GET", "/conf/code-tables/{name}", get_code_table)
    router.add("PUT", "/conf/code-tables/{name}", put_code_table)
    router.add("GET", "/conf/mapping-tables", list_mapping_tables)
    router.add("GET", "/conf/mapping-tables/{name}", get_mapping_table)
    router.add("PUT", "/conf/mapping-tables/{name}", put_mapping_table)


def _scope(ctx: Ctx) -> dict[str, Any]:
    return {"institution_id": code(ctx.alma_code, ctx.inst_name), "library_id": code("", "")}


def list_code_tables(ctx: Ctx, req: Request) -> Response:
    names = [(USER_GROUPS, "User Groups"), *((n, t[0]) for n, t in STATIC_TABLES.items())]
    items = [
        {"name": n, "description": d, "link": ctx.link(f"/conf/code-tables/{n}")} for n, d in names
    ]
    return Response(
        payload={"code_table": items, "total_record_count": len(items)}, root="code_tables"
    )


def group_rows(ctx: Ctx) -> list[dict[str, Any]]:
    """The live UserGroups rows in table order, shaped as the GET shows them."""
    rows = ctx.store.all(
        "SELECT code, description, is_default, enabled, update_date FROM groups"
        " WHERE inst = ? ORDER BY position",
        (ctx.inst,),
    )
    return [
        {
            "code": c,
            "description": d,
            "default": bool(df),
            "enabled": bool(en),
            "updated_by": "exl_api",
            "update_date": up,
        }
        for c, d, df, en, up in rows
    ]


def _table(ctx: Ctx, name: str, description: str, rows: list[dict[str, Any]]) -> Response:
    payload = {
        "link": ctx.link(f"/conf/code-tables/{name}"),
        "name": name,
        "description": description,
        "sub_system": code("USERS", "Users"),
        "patron_facing": name == USER_GROUPS,
        "language": code("en", "English"),
        "scope": _scope(ctx),
        "row": rows,
    }
    return Response(payload=payload, root="code_table")


def get_code_table(ctx: Ctx, req: Request, name: str) -> Response:
    if name == USER_GROUPS:
        return _table(ctx, name, "User Groups", group_rows(ctx))
    if name in STATIC_TABLES:
        title, rows = STATIC_TABLES[name]
        body = [{"code": c, "description": d, "default": False, "enabled": True} for c, d in rows]
        return _table(ctx, name, title, body)
    raise AlmaError(400, "90101", f"Table does not exist: {name}")


def _flag(raw: Any, default: bool) -> bool:
    """Booleans as Alma accepts them on write: true/false, "true"/"false", {"value": …}."""
    if isinstance(raw, dict):
        raw = raw.get("value")
    if raw is None or raw == "":
        return default
    if isinstance(raw, bool):
        return raw
    return str(raw).strip().lower() == "true"


def as_list(raw: Any) -> list[Any]:
    """Alma sends a one-member list as a bare object; accept both."""
    if raw is None:
        return []
    return raw if isinstance(raw, list) else [raw]


def _parse_group_rows(body: Any) -> list[tuple[str, str, bool, bool]]:
    if not isinstance(body, dict) or "row" not in body:
        raise AlmaError(400, "402119", "General Error - the code table has no rows.")
    parsed: list[tuple[str, str, bool, bool]] = []
    seen: set[str] = set()
    for raw in as_list(body["row"]):
        if not isinstance(raw, dict):
            raise AlmaError(400, "402119", "General Error - a row is not an object.")
        row_code = str(raw.get("code") or "").strip()
        description = str(raw.get("description") or "").strip()
        if not row_code or not description:
            raise AlmaError(400, "402119", "General Error - code and description are required.")
        if not (row_code.isascii() and row_code.isalnum()):
            raise AlmaError(400, "402119", f"General Error - '{row_code}' is not alphanumeric.")
        if row_code in seen:
            raise AlmaError(400, "402119", f"General Error - code '{row_code}' appears twice.")
        seen.add(row_code)
        flags = (_flag(raw.get("default"), False), _flag(raw.get("enabled"), True))
        parsed.append((row_code, description, *flags))
    return parsed


def put_code_table(ctx: Ctx, req: Request, name: str) -> Response:
    if name in STATIC_TABLES:
        raise AlmaError(400, "90123", f"Table is not customizable: {name}")
    if name != USER_GROUPS:
        raise AlmaError(400, "90101", f"Table does not exist: {name}")
    rows = _parse_group_rows(req.json_body())
    defaults = [r for r in rows if r[2]]
    if len(defaults) > 1:
        codes = ", ".join(r[0] for r in defaults)
        raise AlmaError(400, "90122", f"Multiple default codes: {codes}")
    if not defaults:
        raise AlmaError(400, "402119", "General Error - the table must have one default row.")
    if not defaults[0][3]:
        raise AlmaError(400, "402119", f"General Error - default '{defaults[0][0]}' is disabled.")
    today = datestamp()
    with ctx.store.tx() as conn:
        deleted = {
            r[0]
            for r in conn.execute("SELECT code FROM deleted_groups WHERE inst = ?", (ctx.inst,))
        }
        restored = sorted(deleted & {r[0] for r in rows})
        if restored:
            raise AlmaError(
                400,
                "402119",
                f"General Error - restoring a deleted row is not supported: {', '.join(restored)}",
            )
        before = {
            r[0]: r[1:]
            for r in conn.execute(
                "SELECT code, description, is_default, enabled, update_date FROM groups"
                " WHERE inst = ?",
                (ctx.inst,),
            )
        }
        for gone in sorted(set(before) - {r[0] for r in rows}):
            conn.execute("DELETE FROM groups WHERE inst = ? AND code = ?", (ctx.inst, gone))
            conn.execute("INSERT INTO deleted_groups VALUES (?, ?, ?)", (ctx.inst, gone, today))
        for position, (row_code, description, is_default, enabled) in enumerate(rows):
            old = before.get(row_code)
            changed = old is None or tuple(old[:3]) != (description, int(is_default), int(enabled))
            stamp = today if changed or old is None else old[3]
            conn.execute(
                "INSERT OR REPLACE INTO groups VALUES (?, ?, ?, ?, ?, ?, ?)",
                (ctx.inst, row_code, description, int(enabled), int(is_default), position, stamp),
            )
    return _table(ctx, name, "User Groups", group_rows(ctx))


MAPPING_TABLES = {RECORD_TYPE_MAPPING: "User Record Type to User Group"}


def list_mapping_tables(ctx: Ctx, req: Request) -> Response:
    items = [
        {
            "name": n,
            "description": d,
            "sub_system": code("USERS", "Users"),
            "link": ctx.link(f"/conf/mapping-tables/{n}"),
        }
        for n, d in MAPPING_TABLES.items()
    ]
    return Response(
        payload={"mapping_table": items, "total_record_count": len(items)}, root="mapping_tables"
    )


def mapping_rows(ctx: Ctx, name: str) -> list[dict[str, Any]]:
    rows = ctx.store.all(
        "SELECT row FROM mapping_rows WHERE inst = ? AND table_name = ? ORDER BY position",
        (ctx.inst, name),
    )
    return [loads(r[0]) for r in rows]


def _mapping(ctx: Ctx, name: str) -> Response:
    payload = {
        "link": ctx.link(f"/conf/mapping-tables/{name}"),
        "name": name,
        "description": MAPPING_TABLES[name],
        "sub_system": code("USERS", "Users"),
        "scope": _scope(ctx),
        "row": mapping_rows(ctx, name),
    }
    return Response(payload=payload, root="mapping_table")


def get_mapping_table(ctx: Ctx, req: Request, name: str) -> Response:
    if name not in MAPPING_TABLES:
        raise AlmaError(400, "402119", f"General error - mapping table {name} does not exist.")
    return _mapping(ctx, name)


def put_mapping_table(ctx: Ctx, req: Request, name: str) -> Response:
    if name not in MAPPING_TABLES:
        raise AlmaError(400, "90101", f"Table does not exist: {name}")
    body = req.json_body()
    if not isinstance(body, dict):
        raise AlmaError(400, "402119", "General error - the body is not a mapping table.")
    live_groups = {
        r[0] for r in ctx.store.all("SELECT code FROM groups WHERE inst = ?", (ctx.inst,))
    }
    rows: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for raw in as_list(body.get("row")):
        record_type = str((raw or {}).get("column0") or "").strip()
        group = str((raw or {}).get("column1") or "").strip()
        if record_type not in RECORD_TYPES:
            raise AlmaError(400, "402119", f"General error - illegal record type '{record_type}'.")
        if group not in live_groups:
            raise AlmaError(400, "402119", f"General error - user group '{group}' does not exist.")
        if (record_type, group) in seen:
            raise AlmaError(400, "402119", f"General error - duplicate row {record_type}/{group}.")
        seen.add((record_type, group))
        rows.append(
            {"column0": record_type, "column1": group, "enabled": _flag(raw.get("enabled"), True)}
        )
    with ctx.store.tx() as conn:
        conn.execute("DELETE FROM mapping_rows WHERE inst = ? AND table_name = ?", (ctx.inst, name))
        conn.executemany(
            "INSERT INTO mapping_rows VALUES (?, ?, ?, ?)",
            [(ctx.inst, name, i, dumps(row)) for i, row in enumerate(rows)],
        )
    return _mapping(ctx, name)
