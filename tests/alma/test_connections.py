"""The transport's keep-alive pool: connections reused, stale or closing ones never, and
answers a gateway compressed although we asked it not to."""

from __future__ import annotations

import gzip
import json
import select
import socket
import zlib
from collections.abc import Callable, Iterator

import pytest

from reconciler.alma import transport as transport_module
from reconciler.alma.connections import ConnectionPool
from reconciler.alma.credentials import ApiKey
from reconciler.alma.transport import HttpTransport
from reconciler.errors import AlmaNetworkError

from .fakes import CANARY_KEY, Canned, FakeAlma


@pytest.fixture
def http(fake_alma: FakeAlma) -> Iterator[HttpTransport]:
    """A transport to the fake, keeping at most two idle connections."""
    transport = HttpTransport(fake_alma.url, ApiKey(CANARY_KEY), pool_size=2)
    yield transport
    transport.close()


def wait_until_closed_by_server(pool: ConnectionPool) -> None:
    """Block (up to 5 s) until the server's hang-up reaches the kept connection."""
    (connection,) = pool._idle  # the pool's state is what these tests are about
    readable, _, _ = select.select([connection], [], [], 5)
    assert readable, "the server did not hang up"


def test_a_connection_carries_one_call_after_another(
    fake_alma: FakeAlma, http: HttpTransport
) -> None:
    """Calls in sequence share one kept connection instead of opening one each."""
    fake_alma.script("GET", "/users/u1", {"primary_id": "u1"})
    for _ in range(3):
        assert http.send("GET", "/users/u1", {}, None).status == 200
    ports = {seen.peer_port for seen in fake_alma.seen("GET", "/users/u1")}
    assert len(ports) == 1
    assert http._pool.idle == 1


def test_a_connection_the_server_closed_while_idle_is_not_reused(
    fake_alma: FakeAlma, http: HttpTransport
) -> None:
    """After a keep-alive timeout on the server's side, the next call opens a new connection
    and succeeds on its first try."""
    fake_alma.script("GET", "/users/u1", Canned(body={"primary_id": "u1"}, hang_up=True))
    assert http.send("GET", "/users/u1", {}, None).status == 200
    wait_until_closed_by_server(http._pool)
    assert http.send("GET", "/users/u1", {}, None).status == 200
    first, second = fake_alma.seen("GET", "/users/u1")
    assert first.peer_port != second.peer_port


def test_an_answer_saying_connection_close_is_not_kept(
    fake_alma: FakeAlma, http: HttpTransport
) -> None:
    """`Connection: close` from the server: the connection is closed, never pooled."""
    fake_alma.script("GET", "/users/u1", Canned(body={"id": 1}, headers={"Connection": "close"}))
    assert http.send("GET", "/users/u1", {}, None).body == b'{"id": 1}'
    assert http._pool.idle == 0


def test_a_chunked_answer_is_read_whole_and_the_connection_kept(
    fake_alma: FakeAlma, http: HttpTransport
) -> None:
    """A large answer sent in chunks (as gateways often send) arrives whole, and the
    connection carries the next call."""
    users = {"user": [{"primary_id": f"U{n:05d}"} for n in range(500)], "total_record_count": 500}
    fake_alma.script("GET", "/users", Canned(body=users, chunked=True))
    for _ in range(2):
        assert json.loads(http.send("GET", "/users", {}, None).body) == users
    assert len({seen.peer_port for seen in fake_alma.seen("GET", "/users")}) == 1


def test_a_chunked_answer_cut_short_is_a_network_error(
    fake_alma: FakeAlma, http: HttpTransport
) -> None:
    """A chunked body that stops inside a chunk is a dropped connection, never half a page."""
    fake_alma.script("GET", "/users", Canned(body={"user": []}, chunked=True, truncate=True))
    with pytest.raises(AlmaNetworkError, match="connection failed or dropped"):
        http.send("GET", "/users", {}, None)
    assert http._pool.idle == 0


def test_connections_beyond_the_pool_size_are_closed_not_kept() -> None:
    """A burst opens what it needs; only `keep` connections stay open for reuse."""
    pool = ConnectionPool("127.0.0.1", 9, keep=2)
    connections = [socket.socket() for _ in range(3)]
    for connection in connections:
        pool.give_back(connection)
    assert pool.idle == 2
    assert connections[2].fileno() == -1  # the one beyond `keep` was closed
    pool.close()
    assert pool.idle == 0
    assert all(connection.fileno() == -1 for connection in connections)
    late = socket.socket()
    pool.give_back(late)
    assert pool.idle == 0  # a closed pool keeps nothing given back later
    assert late.fileno() == -1


@pytest.mark.parametrize(
    "encoded",
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda data: zlib.compress(data, wbits=-15)),  # no zlib header, as some send
    ],
    ids=["gzip", "zlib-deflate", "raw-deflate"],
)
def test_a_compressed_answer_is_inflated(
    fake_alma: FakeAlma, http: HttpTransport, encoded: tuple[str, Callable[[bytes], bytes]]
) -> None:
    """A gateway that compresses although we asked for `identity` still gives the JSON."""
    name, compress = encoded
    body = b'{"primary_id": "u1", "user_group": {"value": "01"}}'
    fake_alma.script(
        "GET",
        "/users/u1",
        Canned(body=compress(body), headers={"Content-Encoding": name}),
    )
    answer = http.send("GET", "/users/u1", {}, None)
    assert answer.body == body
    assert (fake_alma.seen()[0].headers["accept-encoding"]) == "identity"


def test_an_answer_in_an_unknown_encoding_is_a_network_error(
    fake_alma: FakeAlma, http: HttpTransport
) -> None:
    """Bytes we cannot decode are refused with the encoding and host named, never parsed."""
    fake_alma.script(
        "GET", "/users/u1", Canned(body=b"\x00\x01", headers={"Content-Encoding": "br"})
    )
    with pytest.raises(AlmaNetworkError, match=r"encoded as 'br': 127\.0\.0\.1"):
        http.send("GET", "/users/u1", {}, None)


def test_a_compressed_answer_too_large_to_inflate_is_refused(
    fake_alma: FakeAlma, http: HttpTransport, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A small gzip that would inflate past the cap is refused, not inflated into memory."""
    monkeypatch.setattr(transport_module, "MAX_INFLATED_BYTES", 1000)
    bomb = gzip.compress(b" " * 100_000)
    fake_alma.script("GET", "/users/u1", Canned(body=bomb, headers={"Content-Encoding": "gzip"}))
    with pytest.raises(AlmaNetworkError, match="inflating past 1,000 bytes"):
        http.send("GET", "/users/u1", {}, None)


def test_a_body_that_is_not_what_it_says_it_is_encoded_as_is_refused(
    fake_alma: FakeAlma, http: HttpTransport
) -> None:
    """`Content-Encoding: gzip` over plain bytes is a network error, not garbage JSON."""
    fake_alma.script("GET", "/users/u1", Canned(body=b"{}", headers={"Content-Encoding": "gzip"}))
    with pytest.raises(AlmaNetworkError, match="does not inflate"):
        http.send("GET", "/users/u1", {}, None)
