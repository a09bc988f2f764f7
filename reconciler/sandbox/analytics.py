"""Analytics reports, integration profiles and general configuration.

Fulfillment rules and terms of use have no REST API; Alma exposes them through Analytics
("Configurations (Limited)"). The report answers as Alma does: XML with `QueryResult`,
`ResumptionToken`, `IsFinished` and `rowset/Row/Column0..N`, or, for JSON callers, the same
XML as a string inside `{"anies": [...]}`.
"""

from __future__ import annotations

import secrets
import threading
from typing import Any
from xml.sax.saxutils import escape

from reconciler.sandbox.context import Ctx, code, loads
from reconciler.sandbox.http import AlmaError, Request, Response, Router

RULES_REPORT_PATH = "/shared/Florida Virtual Campus/Reports/Configurations/User group rules"
RULE_COLUMNS = (
    "Fulfillment Unit Name",
    "Rule Name",
    "Rule Type",
    "Rule Active",
    "Parameter",
    "Operator",
    "Parameter Value",
    "Terms of Use Name",
)
ROWSET_NS = "urn:schemas-microsoft-com:xml-analysis:rowset"


def register(router: Router) -> None:
    router.add("GET", "/analytics/reports", get_report)
    router.add("GET", "/conf/integration-profiles", list_profiles)
    router.add("GET", "/conf/integration-profiles/{profile_id}", get_profile)
    router.add("GET", "/conf/general", get_general)


class _Cursors:
    """Alma keeps a report's position server-side: the first token is reused for every page."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[str, tuple[str, str, int]] = {}

    def open(self, inst: str, path: str, offset: int) -> str:
        token = secrets.token_hex(16).upper()
        with self._lock:
            self._open[token] = (inst, path, offset)
        return token

    def take(self, inst: str, token: str, limit: int) -> tuple[str, int]:
        """The path and offset of this page; moves the cursor past it."""
        with self._lock:
            found = self._open.get(token)
            if found is None or found[0] != inst:
                raise AlmaError(400, "402119", "General error - invalid resumption token.")
            self._open[token] = (inst, found[1], found[2] + limit)
            return found[1], found[2]


CURSORS = _Cursors()


def _schema() -> str:
    columns = "".join(
        f'<xsd:element minOccurs="0" maxOccurs="1" name="Column{i}" type="xsd:string"'
        f' saw-sql:columnHeading="{escape(title)}"/>'
        for i, title in enumerate(("0", *RULE_COLUMNS))
    )
    return (
        '<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema"'
        ' xmlns:saw-sql="urn:saw-sql"'
        f' targetNamespace="{ROWSET_NS}">'
        f'<xsd:complexType name="Row"><xsd:sequence>{columns}</xsd:sequence></xsd:complexType>'
        "</xsd:schema>"
    )


def get_report(ctx: Ctx, req: Request) -> Response:
    limit = req.int_param("limit", 25, low=25, high=1000)
    token = req.query.get("token", "")
    if token:
        path, offset = CURSORS.take(ctx.inst, token, limit)
    else:
        path, offset = req.query.get("path", ""), 0
        if not path:
            raise AlmaError(400, "402119", "General error - either path or token is required.")
    rows = ctx.store.all(
        "SELECT columns FROM analytics_rows WHERE inst = ? AND path = ? ORDER BY seq",
        (ctx.inst, path),
    )
    if not rows and path != RULES_REPORT_PATH:
        raise AlmaError(400, "402119", f"General error - no report at path {path}.")
    finished = offset + limit >= len(rows)
    body = "".join(
        "<Row><Column0>0</Column0>"
        + "".join(
            f"<Column{i}>{escape(str(v))}</Column{i}>" for i, v in enumerate(loads(r[0]), start=1)
        )
        + "</Row>"
        for r in rows[offset : offset + limit]
    )
    # The token comes with the first page only (with the column schema); later pages reuse it.
    head = ""
    if not token:
        head = f"<ResumptionToken>{CURSORS.open(ctx.inst, path, limit)}</ResumptionToken>"
    result = (
        f"<QueryResult>{head}"
        f"<IsFinished>{'true' if finished else 'false'}</IsFinished>"
        f'<ResultXml><rowset xmlns="{ROWSET_NS}">{"" if token else _schema()}{body}</rowset>'
        "</ResultXml></QueryResult>"
    )
    if req.wants_json:
        return Response(payload={"anies": [result]})
    xml = f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><report>{result}</report>'
    return Response(raw=xml.encode(), content_type="application/xml;charset=UTF-8")


def list_profiles(ctx: Ctx, req: Request) -> Response:
    # Alma's default limit is 10 and it cuts the list silently; keep that trap.
    limit = req.int_param("limit", 10, low=0, high=100)
    offset = req.int_param("offset", 0, low=0, high=10**9)
    wanted_type = req.query.get("type", "")
    profiles = [
        loads(r[0])
        for r in ctx.store.all(
            "SELECT record FROM profiles WHERE inst = ? ORDER BY id", (ctx.inst,)
        )
    ]
    if wanted_type:
        profiles = [p for p in profiles if p["type"]["value"] == wanted_type]
    for profile in profiles:
        profile["link"] = ctx.link(f"/conf/integration-profiles/{profile['id']}")
    return Response(
        payload={
            "integration_profile": profiles[offset : offset + limit],
            "total_record_count": len(profiles),
        },
        root="integration_profiles",
    )


def get_profile(ctx: Ctx, req: Request, profile_id: str) -> Response:
    row = ctx.store.one(
        "SELECT record FROM profiles WHERE inst = ? AND id = ?", (ctx.inst, profile_id)
    )
    if row is None:
        raise AlmaError(400, "60304", f"Invalid profile ID: {profile_id}")
    profile: dict[str, Any] = loads(row[0])
    profile["link"] = ctx.link(f"/conf/integration-profiles/{profile_id}")
    return Response(payload=profile, root="integration_profile")


def get_general(ctx: Ctx, req: Request) -> Response:
    payload = {
        "institution": code(ctx.alma_code, ctx.inst_name),
        "alma_url": f"{ctx.base_url}/",
        "environment_type": "sandbox",
    }
    return Response(payload=payload, root="general")
