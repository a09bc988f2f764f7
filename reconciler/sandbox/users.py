"""The users endpoints, with Alma's quirks kept on purpose.

- `GET /users`: `q=field~value` is a case-insensitive *word* match; `user_group~X` matches the
  words of a group's code *and* description, so it can over-count, and it counts inactive and
  expired users too. Brief items carry no `user_group`; `expand=full` gives whole records.
- With `q`, Alma does not order by primary_id: the matches come in a shuffle of their own,
  fixed per query (the same query pages consistently), whatever `order_by` says. Without `q`
  the order is `order_by`'s, with primary_id as the tiebreak. The fault knobs can make a page
  short while the total still promises more, and the total wrong or -1 (faults.FaultConfig).
- `PUT /users/{id}` is swap-all, except roles (kept when none are sent) and, for EXTERNAL users,
  the protected fields (kept unless `override` names them).
- "Not found" is HTTP 400 with errorCode 401861.
- Harsher than Alma on purpose (`strict_user_put`, on by default): a user PUT whose body is not
  the record as served with only `user_group` changed (and `user_role` left out) is refused with
  401676, so a client that would wipe or alter a field by accident fails loudly in tests.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from typing import Any

from reconciler.sandbox.codetables import RECORD_TYPE_MAPPING, mapping_rows
from reconciler.sandbox.context import Ctx, code, datestamp
from reconciler.sandbox.http import AlmaError, Request, Response, Router
from reconciler.sandbox.records import (
    OVERRIDE_NAMES,
    PROTECTED_FIELDS,
    SEARCH_FIELDS,
    blank_user,
    group_of,
    identifier_rows,
    strict_put_difference,
    unpack,
    unpacked_json,
    user_row,
    words,
)

ORDERS = {
    "": "last_name, first_name, primary_id",
    "last_name": "last_name, primary_id",
    "first_name": "first_name, primary_id",
    "primary_id": "primary_id",
}


def register(router: Router) -> None:
    router.add("GET", "/users", list_users)
    router.add("GET", "/users/{user_id}", get_user)
    router.add("PUT", "/users/{user_id}", put_user)
    router.add("DELETE", "/users/{user_id}", delete_user)


def _not_found(user_id: str) -> AlmaError:
    return AlmaError(400, "401861", f"User with identifier {user_id} was not found.")


def _group_codes_matching(ctx: Ctx, tokens: list[str]) -> list[str]:
    """Codes whose code or description holds every query word (Alma's word match)."""
    wanted = set(tokens)
    return sorted(code for code, known in _group_words(ctx).items() if wanted <= known)


def _group_words(ctx: Ctx) -> dict[str, frozenset[str]]:
    """The words of every group code of the institution (in the table or held by a user) and
    of its description; kept until a row changes, as a plan asks this once per group."""

    def work_out() -> dict[str, frozenset[str]]:
        described = dict(
            ctx.store.all("SELECT code, description FROM groups WHERE inst = ?", (ctx.inst,))
        )
        for (held,) in ctx.store.all(
            "SELECT DISTINCT user_group FROM users WHERE inst = ?", (ctx.inst,)
        ):
            described.setdefault(held, "")
        return {c: frozenset(words(c)) | frozenset(words(d)) for c, d in described.items()}

    return ctx.store.derived(("group-words", ctx.inst), work_out)


def _where(ctx: Ctx, query: str) -> tuple[str, list[Any]] | None:
    """SQL for a brief-search query; None when Alma would answer total_record_count -1."""
    parts = re.split(r"\s+(AND|OR)\s+", query.strip())
    clauses, joins, fields = parts[0::2], parts[1::2], []
    sql: list[str] = []
    args: list[Any] = []
    for clause in clauses:
        field, sep, value = clause.partition("~")
        field = field.strip()
        if not sep or not field:
            raise AlmaError(400, "402119", f"General error: cannot parse query '{query}'.")
        tokens = words(value)
        fields.append(field)
        if not tokens:
            sql.append("0")
        elif field == "user_group":
            codes = _group_codes_matching(ctx, tokens)
            sql.append(f"user_group IN ({', '.join('?' * len(codes))})" if codes else "0")
            args.extend(codes)
        elif field in SEARCH_FIELDS:
            sql.append("(" + " AND ".join("words LIKE ?" for _ in tokens) + ")")
            args.extend(f"% {field}:{t} %" for t in tokens)
        elif field in ("ALL", "general_info"):
            sql.append("(" + " AND ".join("words LIKE ?" for _ in tokens) + ")")
            args.extend(f"%:{t} %" for t in tokens)
        else:
            raise AlmaError(400, "402119", f"General error: search on '{field}' is not supported.")
    # Alma quirk: the same field twice joined by AND gives total_record_count -1.
    if "AND" in joins and len(set(fields)) < len(fields):
        return None
    text = sql[0]
    for join, part in zip(joins, sql[1:], strict=True):
        text = f"({text} {join} {part})"
    return text, args


def list_users(ctx: Ctx, req: Request) -> Response:
    limit = req.int_param("limit", 10, low=0, high=100)
    offset = req.int_param("offset", 0, low=0, high=10**9)
    order = ORDERS.get(req.query.get("order_by", ""))
    if order is None:
        raise AlmaError(400, "40166410", "Parameter value invalid: order_by")
    full = req.query.get("expand", "none") == "full"
    where, args = "inst = ?", [ctx.inst]
    query = req.query.get("q", "")
    if query:
        if req.query.get("modify_date_from"):
            raise AlmaError(400, "402119", "General error: q and modify_date_from are exclusive.")
        found = _where(ctx, query)
        if found is None:
            return Response(payload={"user": [], "total_record_count": -1}, root="users")
        where += f" AND {found[0]}"
        args.extend(found[1])
        count, rows = _shuffled_page(ctx, where, args, query, limit=limit, offset=offset)
    else:
        count, rows = _ordered_page(ctx, where, args, order, limit=limit, offset=offset)
    if ctx.faults is not None:
        dropped = ctx.faults.dropped_from_page(len(rows))
        rows = [row for index, row in enumerate(rows) if index not in dropped]
        count = ctx.faults.reported_total(count)
    if full and req.wants_json:
        # Census pages are most of the sandbox's work: splice the stored JSON instead of
        # decoding and re-encoding a hundred records per page (same bytes on the wire).
        body = _full_items_json(ctx, rows)
        return Response(
            raw=b'{"user":[' + body + b'],"total_record_count":' + str(count).encode() + b"}",
            content_type="application/json;charset=UTF-8",
        )
    items = [_full_item(ctx, unpack(r[0])) if full else _brief(ctx, unpack(r[0])) for r in rows]
    return Response(payload={"user": items, "total_record_count": count}, root="users")


def _shuffled_page(
    ctx: Ctx, where: str, args: Sequence[Any], query: str, *, limit: int, offset: int
) -> tuple[int, list[tuple[Any, ...]]]:
    """The match count and one page of a `q` search, in the query's own fixed shuffle.

    The shuffle of a search is kept until a row changes (Store.derived): every page of a
    census would otherwise hash and sort all of the search's matches again.
    """

    def shuffle() -> list[str]:
        found = [
            str(row[0])
            for row in ctx.store.all(f"SELECT primary_id FROM users WHERE {where}", tuple(args))  # noqa: S608
        ]
        salt = f"{ctx.inst}\n{query}\n".encode()
        found.sort(key=lambda pid: hashlib.blake2b(salt + pid.encode(), digest_size=8).digest())
        return found

    ids = ctx.store.derived(("q-shuffle", ctx.inst, where, tuple(args), query), shuffle)
    return len(ids), _rows_of(ctx, ids[offset : offset + limit])


def _ordered_page(
    ctx: Ctx, where: str, args: Sequence[Any], order: str, *, limit: int, offset: int
) -> tuple[int, list[tuple[Any, ...]]]:
    """The match count and one page of a list without `q`, in `order`.

    The ordered ids are kept until a row changes (Store.derived), as a search's shuffle is:
    a COUNT and an `ORDER BY ... OFFSET` per page stepped over every row before the page
    again and again, and were a third of a census page's CPU.
    """

    def ordered() -> list[str]:
        return [
            str(row[0])
            for row in ctx.store.all(
                f"SELECT primary_id FROM users WHERE {where} ORDER BY {order}",  # noqa: S608
                tuple(args),
            )
        ]

    ids = ctx.store.derived(("ordered", ctx.inst, where, tuple(args), order), ordered)
    return len(ids), _rows_of(ctx, ids[offset : offset + limit])


def _rows_of(ctx: Ctx, wanted: list[str]) -> list[tuple[Any, ...]]:
    """(record, primary_id) of these users of the institution, in the order given."""
    if not wanted:
        return []
    found = {
        str(row[1]): row
        for row in ctx.store.all(
            "SELECT record, primary_id FROM users WHERE inst = ? AND primary_id IN "  # noqa: S608
            f"({', '.join('?' * len(wanted))})",
            (ctx.inst, *wanted),
        )
    }
    return [found[pid] for pid in wanted if pid in found]


def _full_items_json(ctx: Ctx, rows: list[tuple[Any, ...]]) -> bytes:
    """The page's users as JSON, comma-separated, each with its link and null counts.

    Stored records never hold the served-only keys (records.pack drops them), so they are
    appended without a search of the text (that search was a third of a census page's CPU).
    """
    users = ctx.link("/users/")
    return b",".join(
        unpacked_json(blob)[:-1]
        + b',"link":'
        + _json_string(users + primary_id).encode()
        + b',"loans":null,"requests":null,"fees":null}'
        for blob, primary_id in rows
    )


# json.dumps of one string without its argument checks: a hundred links a census page
_json_string = json.encoder.encode_basestring_ascii


def _brief(ctx: Ctx, record: dict[str, Any]) -> dict[str, Any]:
    # Brief items deliberately lack user_group: clients must not trust a group from a list.
    keys = (
        "primary_id",
        "first_name",
        "middle_name",
        "last_name",
        "full_name",
        "gender",
        "password",
        "status",
    )
    item = {k: record.get(k) for k in keys}
    item.update(
        link=ctx.link(f"/users/{record['primary_id']}"), loans=None, requests=None, fees=None
    )
    return item


def _full_item(ctx: Ctx, record: dict[str, Any]) -> dict[str, Any]:
    return {
        **record,
        "link": ctx.link(f"/users/{record['primary_id']}"),
        "loans": None,
        "requests": None,
        "fees": None,
    }


def _find(ctx: Ctx, user_id: str) -> tuple[dict[str, Any], int, int, float, set[str]]:
    row = ctx.store.one(
        "SELECT record, loans, requests, fees, manual FROM users WHERE inst = ? AND primary_id = ?",
        (ctx.inst, user_id),
    )
    if row is None:
        # user_id_type=all_unique: any identifier of the user finds it too.
        alias = ctx.store.one(
            "SELECT primary_id FROM identifiers WHERE inst = ? AND value = ?", (ctx.inst, user_id)
        )
        if alias is not None:
            row = ctx.store.one(
                "SELECT record, loans, requests, fees, manual FROM users"
                " WHERE inst = ? AND primary_id = ?",
                (ctx.inst, alias[0]),
            )
    if row is None:
        raise _not_found(user_id)
    manual = {f for f in str(row[4]).split(",") if f}
    return unpack(row[0]), int(row[1]), int(row[2]), float(row[3]), manual


def get_user(ctx: Ctx, req: Request, user_id: str) -> Response:
    record, loans, requests, fees, _ = _find(ctx, user_id)
    expand = {e.strip() for e in req.query.get("expand", "").split(",")}
    pid = record["primary_id"]
    record["loans"] = (
        {"value": loans, "link": ctx.link(f"/users/{pid}/loans")} if "loans" in expand else None
    )
    record["requests"] = (
        {"value": requests, "link": ctx.link(f"/users/{pid}/requests")}
        if "requests" in expand
        else None
    )
    record["fees"] = (
        {"value": round(fees, 2), "link": ctx.link(f"/users/{pid}/fees")}
        if "fees" in expand
        else None
    )
    return Response(payload=record, root="user")


def _empty(value: Any) -> bool:
    if isinstance(value, dict):
        return not value.get("value")
    return value in (None, "", [])


def _legal_group(ctx: Ctx, group: str, record_type: str) -> dict[str, str]:
    row = ctx.store.one(
        "SELECT description, enabled FROM groups WHERE inst = ? AND code = ?", (ctx.inst, group)
    )
    allowed = any(
        r.get("column0") == record_type and r.get("column1") == group and r.get("enabled", True)
        for r in mapping_rows(ctx, RECORD_TYPE_MAPPING)
    )
    if row is None or not row[1] or not allowed:
        raise AlmaError(400, "401852", "Given user group is not legal.")
    return code(group, str(row[0]))


def _check_account(body: dict[str, Any], old: dict[str, Any], new: dict[str, Any]) -> str:
    """Account type and external_id rules; returns the new account type."""
    old_type = old["account_type"]["value"]
    new_type = str((new.get("account_type") or {}).get("value") or old_type)
    if old_type == "EXTERNAL" and new_type != "EXTERNAL":
        raise AlmaError(400, "401859", "Action currently not supported.")
    if "external_id" not in body or body["external_id"] in ("", None):
        new["external_id"] = old.get("external_id", "")
    elif body["external_id"] != old.get("external_id") and old.get("external_id"):
        raise AlmaError(
            400,
            "401858",
            "The external id in DB does not fit the given value - external id cannot be updated.",
        )
    if new_type == "EXTERNAL" and not new["external_id"]:
        raise AlmaError(400, "401854", "External Id must be given for external user.")
    return new_type


def put_user(ctx: Ctx, req: Request, user_id: str) -> Response:
    body = req.json_body()
    if not isinstance(body, dict):
        raise AlmaError(400, "401676", "No valid JSON was given.")
    old, loans, requests, fees, manual = _find(ctx, user_id)
    if ctx.strict_user_put:
        difference = strict_put_difference(body, old)
        if difference is not None:
            raise AlmaError(
                400,
                "401676",
                f"Invalid user body: {difference}; send the record as read with only "
                "user_group changed (sandbox strict PUT check).",
            )
    new = blank_user()
    new.update({k: v for k, v in body.items() if k not in ("loans", "requests", "fees", "link")})
    new["primary_id"] = old["primary_id"]
    for kept in ("account_type", "record_type"):
        if _empty(body.get(kept)):
            new[kept] = old[kept]
    new_type = _check_account(body, old, new)
    if not new.get("user_role"):
        new["user_role"] = old.get("user_role", [])  # no roles sent: Alma keeps the old ones
    overrides = {
        OVERRIDE_NAMES.get(n.strip(), n.strip()) for n in req.query.get("override", "").split(",")
    }
    for field in PROTECTED_FIELDS:
        keep = _empty(new.get(field)) or (new_type == "EXTERNAL" and field not in overrides)
        if keep:
            if field in old:  # a field the record never had stays absent
                new[field] = old[field]
        elif new.get(field) != old.get(field):
            manual.add(field)  # a manual change: a later SIS sync leaves it alone
    record_type = str((new.get("record_type") or {}).get("value") or "PUBLIC")
    if group_of(new) != group_of(old) or record_type != old["record_type"]["value"]:
        new["user_group"] = _legal_group(ctx, group_of(new), record_type)
    new["full_name"] = " ".join(p for p in (new.get("first_name"), new.get("last_name")) if p)
    if new.get("status") != old.get("status"):
        new["status_date"] = datestamp()
    with ctx.store.tx() as conn:
        conn.execute(
            "DELETE FROM identifiers WHERE inst = ? AND primary_id = ?",
            (ctx.inst, old["primary_id"]),
        )
        conn.execute(
            "INSERT OR REPLACE INTO users VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            user_row(ctx.inst, new, loans, requests, fees, manual=",".join(sorted(manual))),
        )
        conn.executemany(
            "INSERT OR IGNORE INTO identifiers VALUES (?, ?, ?)", identifier_rows(ctx.inst, new)
        )
    return Response(payload={**new, "loans": None, "requests": None, "fees": None}, root="user")


def delete_user(ctx: Ctx, req: Request, user_id: str) -> Response:
    record, loans, requests, fees, _ = _find(ctx, user_id)
    if loans or requests or fees > 0:
        raise AlmaError(
            400, "401850", f"Failed to delete user with identifier {user_id} of type all_unique."
        )
    with ctx.store.tx() as conn:
        conn.execute(
            "DELETE FROM users WHERE inst = ? AND primary_id = ?", (ctx.inst, record["primary_id"])
        )
        conn.execute(
            "DELETE FROM identifiers WHERE inst = ? AND primary_id = ?",
            (ctx.inst, record["primary_id"]),
        )
    return Response(status=204)
