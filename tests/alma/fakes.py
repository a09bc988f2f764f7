"""Helpers for the Alma client tests: a scripted fake Alma server and canned error bodies.

The fake is deliberately dumb: a test says "the next GET /users/abc answers 429 with this
body", and the fake replays that and records what it was sent. Behaviour under test is our
client's, not the fake's; the full Alma simulation lives in reconciler/sandbox.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from reconciler.alma import AlmaClient

CANARY_KEY = "CANARY-KEY-7f3a9"
KEY_ENV = "ALMA_API_KEY_TEST"
PREFIX = "/almaws/v1"
FIXTURES = Path(__file__).parent / "fixtures"
# real public Alma payloads copied into the repository (tests/fixtures/alma-samples/SOURCES.md)
SHARED_SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "alma-samples"

ClientFactory = Callable[..., AlmaClient]  # the `make_client` fixture


@dataclass
class Canned:
    """One scripted answer; `drop` closes the socket instead, `delay` answers late, `hang_up`
    closes the connection after a whole answer without saying so (a keep-alive timeout),
    `chunked` sends the body in chunks of 1,000 bytes (with `truncate`: stops inside one)."""

    status: int = 200
    body: Any = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False
    truncate: bool = False
    delay: float = 0.0
    hang_up: bool = False
    chunked: bool = False

    def payload(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode("utf-8")
        return json.dumps(self.body).encode("utf-8")


@dataclass(frozen=True)
class Seen:
    """A request the fake received."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    raw_target: str
    peer_port: int = 0  # the client's end of the connection: which connection carried it

    def json(self) -> Any:
        return json.loads(self.body)


class FakeAlma:
    """Scripted answers by method and path (without /almaws/v1); the last answer repeats."""

    def __init__(self) -> None:
        self._scripts: defaultdict[tuple[str, str], deque[Canned]] = defaultdict(deque)
        self._lock = threading.Lock()
        self.requests: list[Seen] = []
        self.url = ""

    def script(self, method: str, path: str, *answers: Canned | dict[str, Any]) -> None:
        with self._lock:
            queue = self._scripts[(method, path)]
            for answer in answers:
                queue.append(answer if isinstance(answer, Canned) else Canned(body=answer))

    def seen(self, method: str | None = None, path: str | None = None) -> list[Seen]:
        with self._lock:
            return [
                r
                for r in self.requests
                if (method is None or r.method == method) and (path is None or r.path == path)
            ]

    def answer_for(self, seen: Seen) -> Canned:
        with self._lock:
            self.requests.append(seen)
            queue = self._scripts.get((seen.method, seen.path))
            if not queue:
                return Canned(status=599, body=b"unscripted call", content_type="text/plain")
            return queue.popleft() if len(queue) > 1 else queue[0]


class QuietServer(ThreadingHTTPServer):
    """A test server whose handler threads never write to sys.stderr and never outlive it.

    socketserver prints a traceback banner to sys.stderr when a client hangs up mid-answer
    (a client timing out on a `delay` answer); printed from a thread after the test ended, it
    landed in a later test's captured output. Here errors are kept on the server instead, and
    `server_close()` waits for every handler thread (handlers time out idle connections).
    """

    daemon_threads = False
    block_on_close = True

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self.handler_errors: list[str] = []

    def handle_error(self, request: Any, client_address: Any) -> None:
        self.handler_errors.append(repr(sys.exc_info()[1]))


def handler_for(fake: FakeAlma) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = 10  # an idle keep-alive connection must not hold server_close() forever

        def log_message(self, format: str, *args: Any) -> None:
            """Keep test output quiet."""

        def _handle(self) -> None:
            target = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            path = target.path.removeprefix(PREFIX)
            seen = Seen(
                method=self.command,
                path=path,
                query=parse_qs(target.query, keep_blank_values=True),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
                raw_target=self.path,
                peer_port=self.client_address[1],
            )
            canned = fake.answer_for(seen)
            if canned.delay:
                time.sleep(canned.delay)
            if canned.drop:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            payload = canned.payload()
            self.send_response(canned.status)
            self.send_header("Content-Type", canned.content_type)
            if canned.chunked:
                self._send_chunked(canned, payload)
                return
            self.send_header("Content-Length", str(len(payload) + (50 if canned.truncate else 0)))
            for name, value in canned.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
            if canned.truncate or canned.hang_up:
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)

        def _send_chunked(self, canned: Canned, payload: bytes) -> None:
            for name, value in canned.headers.items():
                self.send_header(name, value)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for start in range(0, len(payload), 1000):
                piece = payload[start : start + 1000]
                self.wfile.write(b"%x\r\n" % len(piece))
                if canned.truncate:
                    self.wfile.write(piece[: len(piece) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.wfile.write(piece + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")

        do_GET = do_PUT = do_POST = do_DELETE = _handle

    return Handler


@dataclass
class SleepRecorder:
    """Stands in for time.sleep: remembers the delays instead of waiting."""

    calls: list[float] = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def json_error(code: str | int, message: str, tracking: str = "E01-TRACK-1") -> dict[str, Any]:
    """An Alma JSON error body with a one-element error list."""
    return {
        "errorsExist": True,
        "errorList": {
            "error": [{"errorCode": code, "errorMessage": message, "trackingId": tracking}]
        },
        "result": None,
    }


def xml_error(code: str, message: str, tracking: str = "E01-TRACK-X") -> str:
    """An Alma XML error body in the web_service_result namespace."""
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<web_service_result xmlns="http://com/exlibris/urm/general/xmlbeans">'
        "<errorsExist>true</errorsExist><errorList><error>"
        f"<errorCode>{code}</errorCode><errorMessage>{message}</errorMessage>"
        f"<trackingId>{tracking}</trackingId>"
        "</error></errorList></web_service_result>"
    )
