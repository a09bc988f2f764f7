"""`sandbox serve` as a listening socket: bounded bodies, a deep backlog, 400 for silly JSON,
and not a word on stderr when a client hangs up."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time

import pytest
import requests

from reconciler.sandbox.listener import LISTEN_BACKLOG, MAX_BODY_BYTES, listening_socket

from ..fixture_tree import HttpSandboxFactory

CODE_TABLE = "/almaws/v1/conf/code-tables/UserGroups"


def _raw_request(port: int, head: str, body: bytes = b"") -> bytes:
    """Send `head` (and `body`) on a fresh socket; return everything the server answered."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(head.encode("ascii") + body)
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_an_oversized_body_is_refused_unread_and_before_the_key(
    make_http_sandbox: HttpSandboxFactory,
) -> None:
    """A 1 GB Content-Length without a key gets 413 at once; not a byte of the body is sent."""
    server = make_http_sandbox()
    head = (
        f"PUT {CODE_TABLE} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {2**30}\r\n\r\n"
    )
    answer = _raw_request(server.port, head)
    assert answer.startswith(b"HTTP/1.1 413")
    assert f"{MAX_BODY_BYTES // 2**20} MB".encode() in answer
    assert server.request_log.entries == ()  # the app (and its key check) never saw it


def test_a_chunked_body_is_refused(make_http_sandbox: HttpSandboxFactory) -> None:
    """A body of unknown length (chunked) is refused with 411 rather than read."""
    server = make_http_sandbox()
    head = f"PUT {CODE_TABLE} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    assert _raw_request(server.port, head).startswith(b"HTTP/1.1 411")


def test_a_body_within_the_limit_still_reaches_the_key_check(
    make_http_sandbox: HttpSandboxFactory,
) -> None:
    """A small body without a key is read and refused by Alma's key check (400 UNAUTHORIZED)."""
    server = make_http_sandbox()
    reply = requests.put(server.base_url + CODE_TABLE, data=b"{}", timeout=10)
    assert reply.status_code == 400
    assert "UNAUTHORIZED" in reply.text


def test_deeply_nested_json_is_a_400_not_a_500(make_http_sandbox: HttpSandboxFactory) -> None:
    """A JSON body nested 100,000 levels deep is "No valid JSON" (400), not a sandbox crash."""
    server = make_http_sandbox()
    key = next(iter(server.api_keys().values()))
    depth = 100_000
    reply = requests.put(
        server.base_url + CODE_TABLE,
        data=b"[" * depth + b"]" * depth,
        headers={
            "Authorization": f"apikey {key}",
            "Accept": "application/json",
            "Content-Type": "application/json",
        },
        timeout=30,
    )
    assert reply.status_code == 400
    assert reply.json()["errorList"]["error"][0]["errorCode"] == "401676"


def test_deeply_nested_xml_is_a_400_not_a_500(make_http_sandbox: HttpSandboxFactory) -> None:
    """The same for an XML body: Alma's "No valid XML was given", status 400."""
    server = make_http_sandbox()
    key = next(iter(server.api_keys().values()))
    depth = 50_000
    reply = requests.put(
        server.base_url + CODE_TABLE,
        data=b"<a>" * depth + b"</a>" * depth,
        headers={
            "Authorization": f"apikey {key}",
            "Accept": "application/json",
            "Content-Type": "application/xml",
        },
        timeout=30,
    )
    assert reply.status_code == 400


def test_the_listen_backlog_holds_a_burst_of_connections() -> None:
    """With nobody accepting yet, 100 connections still complete their handshake (backlog 128)."""
    assert LISTEN_BACKLOG >= 128
    server = listening_socket("127.0.0.1", 0)
    port = int(server.getsockname()[1])
    opened: list[socket.socket] = []
    try:
        for _ in range(100):
            # with socketserver's default backlog of 5 the seventh handshake is never answered
            opened.append(socket.create_connection(("127.0.0.1", port), timeout=3))
    finally:
        for conn in opened:
            conn.close()
        server.close()
    assert len(opened) == 100


def test_a_client_hanging_up_mid_answer_writes_nothing_to_stderr(
    make_http_sandbox: HttpSandboxFactory, capfd: pytest.CaptureFixture[str]
) -> None:
    """A reset connection while the sandbox answers leaves stderr empty, and stop() ends the
    listener's thread."""
    server = make_http_sandbox(latency_ms=150)
    key = next(iter(server.api_keys().values()))
    for _ in range(3):
        conn = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        conn.sendall(
            f"GET /almaws/v1/users?limit=100 HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: apikey {key}\r\nAccept: application/json\r\n\r\n".encode()
        )
        # SO_LINGER 0: close with a reset, so the sandbox's write fails (broken pipe / reset)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()
    time.sleep(0.5)  # let the handlers try to answer the vanished clients
    server.stop()
    assert not [t for t in threading.enumerate() if t.name == "sandbox-http"]
    assert capfd.readouterr().err == ""


def test_stop_closes_idle_keep_alive_connections(make_http_sandbox: HttpSandboxFactory) -> None:
    """A client that keeps its connection open is hung up on by stop(), which ends the
    listener's thread; the client's next call on that connection fails instead of hanging."""
    server = make_http_sandbox()
    conn = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    conn.sendall(b"GET /almaws/v1/conf/code-tables HTTP/1.1\r\nHost: x\r\n\r\n")
    assert conn.recv(65536).startswith(b"HTTP/1.1 400")  # no key; the connection stays open
    server.stop()
    assert not [t for t in threading.enumerate() if t.name == "sandbox-http"]
    with conn, contextlib.suppress(ConnectionResetError):  # reset: nobody is left serving it
        assert conn.recv(65536) == b""  # or closed by the sandbox


def test_a_head_that_is_not_http_gets_400_and_a_hang_up(
    make_http_sandbox: HttpSandboxFactory,
) -> None:
    """A request line that is not `METHOD TARGET HTTP/1.x` gets 400 and the connection closes."""
    server = make_http_sandbox()
    assert _raw_request(server.port, "HELLO\r\n\r\n").startswith(b"HTTP/1.1 400")
    assert server.request_log.entries == ()


def test_an_oversized_head_gets_431(make_http_sandbox: HttpSandboxFactory) -> None:
    """Headers past 64 KB are refused (431) before the app sees the request."""
    server = make_http_sandbox()
    head = f"GET {CODE_TABLE} HTTP/1.1\r\nX-Filler: {'a' * 70_000}\r\n\r\n"
    assert _raw_request(server.port, head).startswith(b"HTTP/1.1 431")
    assert server.request_log.entries == ()


def test_keep_alive_serves_several_requests_and_connection_close_ends_it(
    make_http_sandbox: HttpSandboxFactory,
) -> None:
    """Two requests on one connection get two answers; `Connection: close` is honoured."""
    server = make_http_sandbox()
    first = f"GET {CODE_TABLE} HTTP/1.1\r\nHost: x\r\n\r\n"
    last = f"GET {CODE_TABLE} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    answer = _raw_request(server.port, first + last)
    assert answer.count(b"HTTP/1.1 400") == 2
    assert answer.rstrip().endswith(b"</web_service_result>")
    assert b"Connection: close" in answer
