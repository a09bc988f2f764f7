"""The sandbox's HTTP vocabulary: requests, responses, Alma error bodies and a tiny router.

Kept free of sockets so the Alma behaviour can be reasoned about (and tested) as plain
functions: `server.py` turns bytes into a `Request`, the app returns a `Response`.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from xml.etree import ElementTree as ET

from reconciler.sandbox.xmlin import parse_body
from reconciler.sandbox.xmlout import to_xml

API_PREFIX = "/almaws/v1"
ERROR_NS = "http://com/exlibris/urm/general/xmlbeans"


@dataclass(frozen=True)
class Request:
    """One parsed HTTP request; `query` keeps the last value of each parameter."""

    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: bytes = b""

    @classmethod
    def parse(cls, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Request:
        parts = urlsplit(target)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        lowered = {key.lower(): value for key, value in headers.items()}
        return cls(method.upper(), parts.path, query, lowered, body)

    @property
    def wants_json(self) -> bool:
        """Alma answers XML unless JSON is asked for by header or by `format=json`."""
        if self.query.get("format", "").lower() == "json":
            return True
        return "application/json" in self.headers.get("accept", "").lower()

    def json_body(self) -> Any:
        """The body as JSON-shaped data (JSON, or Alma XML by Content-Type); 400 if unreadable."""
        # RecursionError: a body nested thousands of levels deep is the client's fault (400),
        # not a sandbox crash (500)
        if "xml" in self.headers.get("content-type", "").lower():
            try:
                return parse_body(self.body)
            except (ET.ParseError, RecursionError) as exc:
                raise AlmaError(400, "401676", "No valid XML was given.") from exc
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            raise AlmaError(400, "401676", "No valid JSON was given.") from exc

    def int_param(self, name: str, default: int, *, low: int, high: int) -> int:
        raw = self.query.get(name, "")
        if raw == "":
            return default
        if not raw.isdigit() or not low <= int(raw) <= high:
            raise AlmaError(400, "40166410", f"Parameter value invalid: {name}={raw}")
        return int(raw)


@dataclass
class Response:
    """What a handler returns: a status and a JSON-able payload (or nothing, for 204)."""

    status: int = 200
    payload: Any = None
    root: str = "result"  # the XML root element when the caller did not ask for JSON
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None  # a ready-made body (XML error bodies, analytics XML)
    content_type: str = ""


class AlmaError(Exception):
    """An Alma error answer: HTTP status plus errorCode and errorMessage."""

    def __init__(self, status: int, code: str, message: str, *, xml_only: bool = False) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.code = code
        self.message = message
        # Gateway errors (bad API key) come as XML even when JSON was asked for.
        self.xml_only = xml_only


def tracking_id() -> str:
    """An id shaped like Alma's (E01-ddmmhhmmss-XXXXX-AWAE...), random per error."""
    token = secrets.token_hex(8).upper()
    return f"E01-{token[:10]}-{token[10:15]}-AWAE{secrets.randbelow(10**10):010d}"


def error_response(error: AlmaError, request: Request) -> Response:
    body = {
        "errorsExist": True,
        "errorList": {
            "error": [
                {
                    "errorCode": error.code,
                    "errorMessage": error.message,
                    "trackingId": tracking_id(),
                }
            ]
        },
        "result": None,
    }
    if request.wants_json and not error.xml_only:
        return Response(error.status, body)
    first = body["errorList"]["error"][0]  # type: ignore[index]
    xml = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<web_service_result xmlns="{ERROR_NS}"><errorsExist>true</errorsExist><errorList>'
        f"<error><errorCode>{_esc(first['errorCode'])}</errorCode>"
        f"<errorMessage>{_esc(first['errorMessage'])}</errorMessage>"
        f"<trackingId>{first['trackingId']}</trackingId></error>"
        "</errorList></web_service_result>"
    )
    return Response(error.status, raw=xml.encode(), content_type="application/xml;charset=UTF-8")


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def encode(response: Response, request: Request) -> tuple[bytes, str]:
    """The body bytes and content type, in the format the caller asked for."""
    if response.raw is not None:
        return response.raw, response.content_type or "application/xml;charset=UTF-8"
    if response.payload is None:
        return b"", ""
    if request.wants_json:
        return json.dumps(response.payload).encode(), "application/json;charset=UTF-8"
    return to_xml(response.root, response.payload), "application/xml;charset=UTF-8"


Handler = Callable[..., Response]


@dataclass(frozen=True)
class Route:
    method: str
    template: str  # e.g. "/users/{user_id}", also the request log's key
    pattern: re.Pattern[str]
    handler: Handler


class Router:
    """Maps (method, path) to a handler; path parameters are passed as keyword arguments."""

    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, method: str, template: str, handler: Handler) -> None:
        regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
        self.routes.append(Route(method, template, re.compile(f"^{regex}/?$"), handler))

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        """The route for this call; None when no path matches (a 404, as Alma's gateway does)."""
        if not path.startswith(API_PREFIX):
            return None
        local = path[len(API_PREFIX) :]
        path_matched: Route | None = None
        for route in self.routes:
            found = route.pattern.match(local)
            if found is None:
                continue
            if route.method == method:
                return route, found.groupdict()
            path_matched = route
        if path_matched is not None:
            raise AlmaError(405, "405", f"Method {method} is not supported for this path.")
        return None
