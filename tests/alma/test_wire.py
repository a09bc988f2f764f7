"""HTTP/1.1 on a socket (`reconciler.alma.wire`): every framing an answer may use, the answers
that must not be trusted, the deadline, and requests that cannot smuggle a header."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from reconciler.alma.wire import MAX_HEAD_BYTES, Answer, BrokenAnswer, exchange, request_head

HEAD = request_head("GET", "/almaws/v1/users?limit=100", "alma.test", {"Accept": "x"}, None)


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    """Our end and the server's end of one connection."""
    ours, theirs = socket.socketpair()
    yield ours, theirs
    ours.close()
    theirs.close()


def answer_with(
    pair: tuple[socket.socket, socket.socket],
    raw: bytes,
    *,
    close: bool = False,
    head_only: bool = False,
) -> Answer:
    """The answer read after the server wrote `raw` (and, with `close`, hung up)."""
    ours, theirs = pair
    theirs.sendall(raw)
    if close:
        theirs.shutdown(socket.SHUT_WR)
    return exchange(
        ours, HEAD, None, head_only=head_only, deadline=time.monotonic() + 5, read_timeout=5
    )


def test_a_length_framed_answer_is_read_exactly_and_the_connection_kept(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    """Status, lower-cased headers and the body; the connection may carry the next call."""
    answer = answer_with(
        pair, b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
    )
    assert (answer.status, answer.body, answer.reusable) == (200, b"{}", True)
    assert answer.headers["content-type"] == "application/json"


def test_the_request_goes_out_whole_in_one_piece(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    """Request line, Host, identity encoding, the caller's headers and the body's length."""
    ours, theirs = pair
    theirs.sendall(b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n")
    head = request_head("PUT", "/x?a=1", "alma.test:8443", {"Authorization": "apikey k"}, 2)
    exchange(ours, head, b"{}", head_only=False, deadline=time.monotonic() + 5, read_timeout=5)
    assert theirs.recv(4096) == (
        b"PUT /x?a=1 HTTP/1.1\r\nHost: alma.test:8443\r\nAccept-Encoding: identity\r\n"
        b"Authorization: apikey k\r\nContent-Length: 2\r\n\r\n{}"
    )


def test_a_chunked_answer_with_extensions_and_trailers_is_read_whole(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    """Chunk extensions and trailers are read past; the pieces join into the body."""
    raw = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b'4;name=value\r\n{"a"\r\n3\r\n: 1\r\nA\r\n, "b": 22}\r\n0\r\nX-Trailer: t\r\n\r\n'
    )
    answer = answer_with(pair, raw)
    assert answer.body == b'{"a": 1, "b": 22}'
    assert answer.reusable


@pytest.mark.parametrize(
    ("head", "reusable"),
    [
        (b"HTTP/1.1 200 OK\r\nConnection: close\r\n", False),
        (b"HTTP/1.1 200 OK\r\nConnection: Keep-Alive, Close\r\n", False),
        (b"HTTP/1.0 200 OK\r\n", False),
        (b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n", True),
        (b"HTTP/1.1 200 OK\r\n", True),
    ],
)
def test_only_a_connection_kept_alive_on_both_sides_is_reused(
    pair: tuple[socket.socket, socket.socket], head: bytes, reusable: bool
) -> None:
    """`Connection: close`, and HTTP/1.0 without keep-alive, end the connection."""
    assert answer_with(pair, head + b"Content-Length: 1\r\n\r\nx").reusable is reusable


def test_an_answer_without_a_length_runs_until_the_server_closes(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    """The old framing: the body is all that comes before the close; no reuse after it."""
    answer = answer_with(pair, b"HTTP/1.1 200 OK\r\n\r\nall of it", close=True)
    assert (answer.body, answer.reusable) == (b"all of it", False)


def test_interim_answers_are_skipped(pair: tuple[socket.socket, socket.socket]) -> None:
    """`100 Continue` before the real answer is not the answer."""
    raw = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    answer = answer_with(pair, raw)
    assert (answer.status, answer.body) == (200, b"ok")


@pytest.mark.parametrize(
    ("raw", "head_only"),
    [
        (b"HTTP/1.1 204 No Content\r\n\r\n", False),
        (b"HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n", False),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n", True),
    ],
    ids=["204", "304", "HEAD"],
)
def test_answers_that_carry_no_body_read_none(
    pair: tuple[socket.socket, socket.socket], raw: bytes, head_only: bool
) -> None:
    """204, 304 and the answer to HEAD have no body, whatever their length says."""
    answer = answer_with(pair, raw, head_only=head_only)
    assert (answer.body, answer.reusable) == (b"", True)


def test_a_protocol_switch_ends_the_connection(pair: tuple[socket.socket, socket.socket]) -> None:
    """101 is never asked for; after it the connection is not HTTP and is not reused."""
    answer = answer_with(pair, b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n")
    assert (answer.status, answer.body, answer.reusable) == (101, b"", False)


def test_a_folded_header_line_continues_the_one_before(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    """An obsolete continuation line is joined to its header, not read as a new one."""
    raw = b"HTTP/1.1 200 OK\r\nX-Long: one\r\n  two\r\nContent-Length: 0\r\n\r\n"
    assert answer_with(pair, raw).headers["x-long"] == "one two"


def test_bytes_after_the_body_keep_the_connection_from_reuse(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    """More than the length promised: the next answer on it could not be told apart."""
    answer = answer_with(pair, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA")
    assert (answer.body, answer.reusable) == (b"ok", False)


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        # not HTTP/1.x, or breaking its rules
        (b"SSH-2.0-OpenSSH\r\n\r\n", "status line"),
        (b"HTTP/2 200\r\n\r\n", "status line"),
        (b"HTTP/1.1 20 OK\r\n\r\n", "status line"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok", "disagree"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "not a number"),
        (b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "without a name"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "chunk size"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokay\r\n", "longer"),
        # cut short: the connection closes inside the head or the body
        (b"HTTP/1.1 200 OK\r\nContent-Le", "inside the answer's head"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf", "6 bytes short"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n9\r\nhalf", "5 bytes short"),
    ],
)
def test_an_answer_that_breaks_the_protocol_or_ends_early_is_broken(
    pair: tuple[socket.socket, socket.socket], raw: bytes, why: str
) -> None:
    """Nothing is guessed from an answer that breaks the protocol, and a connection that
    closes inside the head or the body gives no answer at all, never half a body."""
    with pytest.raises(BrokenAnswer, match=why):
        answer_with(pair, raw, close=True)


def test_a_head_without_end_is_refused_at_its_limit(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    """Headers that never end are cut off at `MAX_HEAD_BYTES`, not read without bound."""
    _, theirs = pair
    theirs.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 * MAX_HEAD_BYTES)  # one write
    endless = b"HTTP/1.1 200 OK\r\nX: " + b"a" * (MAX_HEAD_BYTES + 1024)
    with pytest.raises(BrokenAnswer, match="within"):
        answer_with(pair, endless)


def test_a_silent_server_ends_at_the_deadline_not_the_read_timeout(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    """The deadline is absolute: a 0.3 s budget ends after about 0.3 s, though a read may
    wait 60 s between bytes."""
    ours, _ = pair
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        exchange(ours, HEAD, None, head_only=False, deadline=started + 0.3, read_timeout=60)
    assert time.monotonic() - started < 5


def test_a_deadline_already_past_sends_nothing(pair: tuple[socket.socket, socket.socket]) -> None:
    """No request leaves when there is no time left to read its answer."""
    ours, theirs = pair
    with pytest.raises(TimeoutError):
        exchange(ours, HEAD, None, head_only=False, deadline=time.monotonic() - 1, read_timeout=5)
    theirs.setblocking(False)
    with pytest.raises(BlockingIOError):
        theirs.recv(10)


@pytest.mark.parametrize(
    ("target", "headers"),
    [
        ("/users?q=a\r\nX-Injected: 1", {}),
        ("/users", {"Authorization": "apikey k\r\nX-Injected: 1"}),
        ("/users", {"Authorization": "apikey k\n"}),
        ("/users", {"X": "\x00"}),
        ("/users?q=a b HTTP/1.0", {}),
    ],
)
def test_a_control_character_in_a_request_is_refused_before_sending(
    target: str, headers: dict[str, str]
) -> None:
    """CR or LF in a target or header value would start a header of its own: refused, and
    the message does not quote the line (it may hold the key)."""
    with pytest.raises(ValueError, match="control character") as refused:
        request_head("GET", target, "alma.test", headers, None)
    assert "apikey" not in str(refused.value)
