"""Itemized USER sets, the input of the bulk "Update/Notify Users" job."""

from __future__ import annotations

from typing import Any

from reconciler.sandbox.codetables import as_list
from reconciler.sandbox.context import Ctx, code, loads, timestamp
from reconciler.sandbox.http import AlmaError, Request, Response, Router
from reconciler.sandbox.store import dumps

MAX_MEMBERS_PER_CALL = 1000


def register(router: Router) -> None:
    router.add("GET", "/conf/sets", list_sets)
    router.add("POST", "/conf/sets", create_set)
    router.add("GET", "/conf/sets/{set_id}", get_set)
    router.add("POST", "/conf/sets/{set_id}", manage_members)
    router.add("DELETE", "/conf/sets/{set_id}", delete_set)
    router.add("GET", "/conf/sets/{set_id}/members", list_members)


def _value(raw: Any) -> str:
    return str(raw.get("value") if isinstance(raw, dict) else raw or "")


def _render(ctx: Ctx, set_id: str) -> dict[str, Any]:
    row = ctx.store.one("SELECT record FROM sets WHERE inst = ? AND id = ?", (ctx.inst, set_id))
    if row is None:
        raise AlmaError(400, "60107", f"Invalid set ID: {set_id}")
    count = ctx.store.one(
        "SELECT COUNT(*) FROM set_members WHERE inst = ? AND set_id = ?", (ctx.inst, set_id)
    )
    record: dict[str, Any] = loads(row[0])
    record["number_of_members"] = {
        "value": int(count[0]) if count else 0,
        "link": ctx.link(f"/conf/sets/{set_id}/members"),
    }
    record["link"] = ctx.link(f"/conf/sets/{set_id}")
    return record


def list_sets(ctx: Ctx, req: Request) -> Response:
    limit = req.int_param("limit", 10, low=0, high=100)
    offset = req.int_param("offset", 0, low=0, high=10**9)
    ids = [
        r[0] for r in ctx.store.all("SELECT id FROM sets WHERE inst = ? ORDER BY id", (ctx.inst,))
    ]
    items = [_render(ctx, i) for i in ids[offset : offset + limit]]
    return Response(payload={"set": items, "total_record_count": len(ids)}, root="sets")


def create_set(ctx: Ctx, req: Request) -> Response:
    body = req.json_body()
    if not isinstance(body, dict) or not str(body.get("name") or "").strip():
        raise AlmaError(400, "402228", "Mandatory parameter is missing from input: name")
    if _value(body.get("type")) != "ITEMIZED":
        raise AlmaError(400, "402262", "Set type is invalid. The sandbox supports ITEMIZED sets.")
    if _value(body.get("content")) != "USER":
        raise AlmaError(400, "402262", "Set content is invalid. The sandbox supports USER sets.")
    name = str(body["name"]).strip()
    if ctx.store.one("SELECT 1 FROM sets WHERE inst = ? AND name = ?", (ctx.inst, name)):
        raise AlmaError(
            400, "402263", "The set name already exists. Please choose a different name."
        )
    set_id = f"{ctx.store.next_id('set', 9100000000000561)}"
    record = {
        "id": set_id,
        "name": name,
        "description": str(body.get("description") or ""),
        "type": code("ITEMIZED", "Itemized"),
        "content": code("USER", "User"),
        "private": code(_value(body.get("private")) or "false", ""),
        "status": code("ACTIVE", "Active"),
        "origin": code("UI", "Institution only"),
        "created_by": code("exl_api", "API, Ex Libris"),
        "created_date": timestamp(),
    }
    with ctx.store.tx() as conn:
        conn.execute(
            "INSERT INTO sets VALUES (?, ?, ?, ?)", (ctx.inst, set_id, name, dumps(record))
        )
    return Response(payload=_render(ctx, set_id), root="set")


def get_set(ctx: Ctx, req: Request, set_id: str) -> Response:
    return Response(payload=_render(ctx, set_id), root="set")


def delete_set(ctx: Ctx, req: Request, set_id: str) -> Response:
    with ctx.store.tx() as conn:
        gone = conn.execute("DELETE FROM sets WHERE inst = ? AND id = ?", (ctx.inst, set_id))
        if gone.rowcount == 0:
            raise AlmaError(400, "402264", f"Invalid Set ID: {set_id}")
        conn.execute("DELETE FROM set_members WHERE inst = ? AND set_id = ?", (ctx.inst, set_id))
    return Response(status=204)


def _member_ids(body: Any) -> list[str]:
    if not isinstance(body, dict):
        raise AlmaError(400, "60113", "Input set with no members.")
    # JSON nests members.member[]; an XML body read by xmlin gives member[] directly.
    members = body.get("members", body)
    raw = as_list(members.get("member") if isinstance(members, dict) else members)
    if not raw:
        raise AlmaError(400, "60113", "Input set with no members.")
    ids = [str(m.get("id") or "").strip() if isinstance(m, dict) else str(m) for m in raw]
    if any(not i for i in ids):
        raise AlmaError(400, "60114", "Input set with no member ID.")
    if len(ids) > MAX_MEMBERS_PER_CALL:
        raise AlmaError(400, "60118", "Input set member list exceeds limit.")
    if len(set(ids)) < len(ids):
        raise AlmaError(400, "60119", "Input set with duplicate member.")
    return ids


def manage_members(ctx: Ctx, req: Request, set_id: str) -> Response:
    op = req.query.get("op", "")
    if op not in ("add_members", "delete_members", "replace_members"):
        raise AlmaError(400, "60111", f"Invalid operation: {op}")
    _render(ctx, set_id)  # 60107 for an unknown set
    ids = _member_ids(req.json_body())
    strict = req.query.get("fail_on_invalid_id", "true").lower() != "false"
    with ctx.store.tx() as conn:
        known = {
            r[0]
            for r in conn.execute(
                f"SELECT primary_id FROM users WHERE inst = ? AND primary_id IN "  # noqa: S608
                f"({', '.join('?' * len(ids))})",
                (ctx.inst, *ids),
            )
        }
        unknown = [i for i in ids if i not in known]
        if unknown and strict:
            raise AlmaError(400, "60116", f"A member ID is not valid for the content: {unknown[0]}")
        ids = [i for i in ids if i in known]
        current = {
            r[0]
            for r in conn.execute(
                "SELECT member FROM set_members WHERE inst = ? AND set_id = ?", (ctx.inst, set_id)
            )
        }
        if op == "delete_members":
            missing = [i for i in ids if i not in current]
            if missing and strict:
                raise AlmaError(400, "60117", f"Input set member ID is not in set: {missing[0]}")
            conn.executemany(
                "DELETE FROM set_members WHERE inst = ? AND set_id = ? AND member = ?",
                [(ctx.inst, set_id, i) for i in ids],
            )
        else:
            if op == "replace_members":
                conn.execute(
                    "DELETE FROM set_members WHERE inst = ? AND set_id = ?", (ctx.inst, set_id)
                )
                current = set()
            already = [i for i in ids if i in current]
            if already:
                raise AlmaError(400, "60115", f"A member ID is already in the set: {already[0]}")
            start = conn.execute(
                "SELECT COALESCE(MAX(position), 0) FROM set_members WHERE inst = ? AND set_id = ?",
                (ctx.inst, set_id),
            ).fetchone()
            conn.executemany(
                "INSERT INTO set_members VALUES (?, ?, ?, ?)",
                [(ctx.inst, set_id, start[0] + n + 1, i) for n, i in enumerate(ids)],
            )
    return Response(payload=_render(ctx, set_id), root="set")


def list_members(ctx: Ctx, req: Request, set_id: str) -> Response:
    _render(ctx, set_id)
    limit = req.int_param("limit", 10, low=0, high=100)
    offset = req.int_param("offset", 0, low=0, high=10**9)
    total = ctx.store.one(
        "SELECT COUNT(*) FROM set_members WHERE inst = ? AND set_id = ?", (ctx.inst, set_id)
    )
    rows = ctx.store.all(
        "SELECT member FROM set_members WHERE inst = ? AND set_id = ?"
        " ORDER BY position LIMIT ? OFFSET ?",
        (ctx.inst, set_id, limit, offset),
    )
    items = [{"id": r[0], "description": r[0], "link": ctx.link(f"/users/{r[0]}")} for r in rows]
    return Response(
        payload={"member": items, "total_record_count": int(total[0]) if total else 0},
        root="members",
    )


def member_ids(ctx: Ctx, set_id: str) -> list[str]:
    return [
        r[0]
        for r in ctx.store.all(
            "SELECT member FROM set_members WHERE inst = ? AND set_id = ? ORDER BY position",
            (ctx.inst, set_id),
        )
    ]
