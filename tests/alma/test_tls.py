"""The wire over TLS, as real Alma is reached: a pooled TLS connection carries calls one after
another, and a server whose certificate no trusted authority signed is refused by name."""

from __future__ import annotations

import json
import ssl
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import trustme

from reconciler.alma.connections import ConnectionPool
from reconciler.alma.credentials import ApiKey
from reconciler.alma.transport import HttpTransport
from reconciler.alma.wire import exchange, request_head
from reconciler.errors import AlmaNetworkError

from .fakes import CANARY_KEY

PAGE = {"user": [{"primary_id": f"U{n:05d}"} for n in range(2000)], "total_record_count": 2000}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as Alma's gateway

    def do_GET(self) -> None:
        body = json.dumps(PAGE).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: nothing of a test's server goes to a shared stream."""


@pytest.fixture
def authority() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def tls_server(authority: trustme.CA) -> Iterator[int]:
    """An HTTPS server on 127.0.0.1 whose certificate `authority` signed for localhost; its
    port. Stopped by the test that started it."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("localhost").configure_cert(context)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_a_tls_connection_carries_whole_answers_one_after_another(
    authority: trustme.CA, tls_server: int
) -> None:
    """Over TLS (records of at most 16 KB) a body of 52 KB arrives whole, twice, on one
    kept connection, with the host name checked."""
    trusting = ssl.create_default_context()
    authority.configure_trust(trusting)
    pool = ConnectionPool("localhost", tls_server, keep=1, tls=trusting)
    head = request_head("GET", "/almaws/v1/users", f"localhost:{tls_server}", {}, None)
    try:
        for _ in range(2):
            connection = pool.take(5)
            answer = exchange(
                connection,
                head,
                None,
                head_only=False,
                deadline=time.monotonic() + 10,
                read_timeout=10,
            )
            assert answer.status == 200
            assert json.loads(answer.body) == PAGE
            assert answer.reusable
            pool.give_back(connection)
        assert pool.idle == 1
    finally:
        pool.close()


def test_a_certificate_no_trusted_authority_signed_is_refused(tls_server: int) -> None:
    """The transport trusts certifi's authorities only: a test authority's certificate is
    refused as not trusted, naming the host, and nothing is read."""
    transport = HttpTransport(f"https://localhost:{tls_server}/almaws/v1", ApiKey(CANARY_KEY))
    try:
        with pytest.raises(AlmaNetworkError, match="certificate not trusted: localhost"):
            transport.send("GET", "/users", {}, None)
    finally:
        transport.close()
