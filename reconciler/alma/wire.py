"""HTTP/1.1 on an open socket: one request written, one answer read, nothing else.

Design decision, our own few lines of HTTP rather than the standard library's `http.client`:
a census page (100 full users, about 200 KB) cost the client 0.86-1.04 ms of CPU through
`http.client` and 0.43-0.53 ms through this module (101 pages to the local sandbox, one after
another, process CPU; issue 11), about 4.5 µs per user read. `http.client` parses every
answer's headers with the email package and reads the body through two buffered layers; a
census needs a status, a few headers and the body in one piece. What the tool talks to is
narrow: Alma's API gateway (or the sandbox) answering GET, POST, PUT and DELETE with JSON.

What an answer may be, and what this module does with it (RFC 9112):
- a body framed by `Content-Length` (read exactly; fewer bytes before the connection closes
  is a dropped connection, never half a record), by `Transfer-Encoding: chunked` (chunk
  extensions and trailers are read and ignored), or by the connection closing (HTTP/1.0
  style; that connection is not reused);
- no body after a HEAD request and for 1xx, 204 and 304;
- `100 Continue` and other interim 1xx answers before the real one are skipped;
- a kept-alive connection unless the answer says `Connection: close`, is HTTP/1.0 without
  `keep-alive`, or was framed by closing;
- two `Content-Length` headers that disagree, a negative or non-numeric length, a status line
  that is not HTTP/1.x, or a head over 64 KB are `BrokenAnswer`: the connection is closed,
  and the caller reports a failed connection.

Time: `deadline` is absolute (`time.monotonic()`): every receive waits at most what is left of
it, or `read_timeout` between bytes if that is less, so a server that trickles a byte a minute
still ends at the deadline (`TimeoutError`).

What goes out is checked before it is written: a target or header value with a control
character (CR or LF would start a new header line: a key from a badly quoted environment
variable could smuggle one in) raises ValueError, and nothing is sent.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass

MAX_HEAD_BYTES = 64 << 10  # status line and headers; Alma's are well under 2 KB
# A head is read in receives this small, so that a body follows in receives of exactly what
# is missing, straight into the object handed back: a census page (about 200 KB) in one
# receive once it has arrived, with no buffer of 256 KB filled, grown and copied on the way
# (fresh large allocations cost page faults: about 80 µs each on this machine, issue 11).
_HEAD_RECEIVE = 16 << 10
_RECEIVE = 1 << 18  # reading until the server closes
_NO_BODY_STATUSES = frozenset({204, 304})


class BrokenAnswer(ConnectionError):
    """The answer ended early or is not HTTP/1.x: the connection cannot be trusted."""


@dataclass(frozen=True)
class Answer:
    """Status, headers (lower-case names; a repeated header keeps its last value), the body,
    and whether the connection may carry another request."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    reusable: bool


def request_head(
    method: str, target: str, host: str, headers: Mapping[str, str], body_length: int | None
) -> bytes:
    """The request line and headers, ready to write; ValueError for a control character (or a
    space in the target, which would end the request line early)."""
    fields = {"Host": host, "Accept-Encoding": "identity", **headers}
    if body_length is not None:
        fields["Content-Length"] = str(body_length)
    parts = [method, target, *fields, *fields.values()]
    if " " in target or not all(part.isprintable() for part in parts):
        # the offending text is not quoted: it may be the key
        raise ValueError("a request target or header value holds a control character")
    lines = [f"{method} {target} HTTP/1.1", *(f"{k}: {v}" for k, v in fields.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def exchange(
    sock: socket.socket,
    head: bytes,
    body: bytes | None,
    *,
    head_only: bool,
    deadline: float,
    read_timeout: float,
) -> Answer:
    """Write one request and read its answer. Raises OSError (TimeoutError at the deadline)
    and `BrokenAnswer`."""
    reader = _Reader(sock, deadline, read_timeout)
    reader.settle()
    sock.sendall(head + body if body else head)
    while True:
        status, http_10, headers = _read_head(reader)
        if not 100 <= status < 200 or status == 101:
            break  # 101 (a protocol switch) is never asked for; it ends the answer
    # after 101 the connection speaks another protocol: it never carries another request
    reusable = status != 101 and not _closing(headers, http_10)
    if head_only or 100 <= status < 200 or status in _NO_BODY_STATUSES:
        content = b""
    elif "chunked" in headers.get("transfer-encoding", "").lower():
        content = _read_chunked(reader)
    elif "content-length" in headers:
        content = reader.exactly(_content_length(headers["content-length"]))
    else:
        content, reusable = reader.to_close(), False
    if reusable and reader.leftover:
        reusable = False  # bytes nobody asked for: the next answer could not be told apart
    return Answer(status, headers, content, reusable)


def _read_head(reader: _Reader) -> tuple[int, bool, dict[str, str]]:
    """Status, whether the answer is HTTP/1.0, and the headers."""
    lines = reader.head().decode("latin-1").split("\r\n")
    version, _, rest = lines[0].partition(" ")
    code = rest[:3]
    if version not in ("HTTP/1.1", "HTTP/1.0") or not (code.isdigit() and len(code) == 3):
        raise BrokenAnswer("the answer does not start with an HTTP/1.x status line")
    headers: dict[str, str] = {}
    name = ""
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and name:  # an obsolete folded continuation line
            headers[name] = f"{headers[name]} {line.strip()}"
            continue
        name, colon, value = line.partition(":")
        name = name.strip().lower()
        if not colon or not name:
            raise BrokenAnswer("a header line without a name")
        value = value.strip()
        if name == "content-length" and headers.get(name, value) != value:
            raise BrokenAnswer("two Content-Length headers that disagree")
        headers[name] = value
    return int(code), version == "HTTP/1.0", headers


def _closing(headers: Mapping[str, str], http_10: bool) -> bool:
    options = {option.strip().lower() for option in headers.get("connection", "").split(",")}
    return "close" in options or (http_10 and "keep-alive" not in options)


def _content_length(value: str) -> int:
    if not value.isdigit():
        raise BrokenAnswer("a Content-Length that is not a number")
    return int(value)


def _read_chunked(reader: _Reader) -> bytes:
    pieces: list[bytes] = []
    while True:
        size_line = reader.line().split(b";", 1)[0].strip()  # extensions are ignored
        try:
            size = int(size_line, 16)
        except ValueError:
            raise BrokenAnswer("a chunk size that is not a number") from None
        if size < 0:
            raise BrokenAnswer("a negative chunk size")
        if size == 0:
            while reader.line():  # trailers, up to the empty line
                pass
            return b"".join(pieces)
        pieces.append(reader.exactly(size))
        if reader.line():
            raise BrokenAnswer("a chunk longer than its size")


class _Reader:
    """Receives from the socket into one buffer, against the deadline."""

    def __init__(self, sock: socket.socket, deadline: float, read_timeout: float) -> None:
        self._sock = sock
        self._deadline = deadline
        self._read_timeout = read_timeout
        self._buffer = bytearray()

    @property
    def leftover(self) -> int:
        return len(self._buffer)

    def settle(self) -> None:
        """Set the socket's timeout: what is left of the deadline, at most `read_timeout`."""
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the call's deadline has passed")
        self._sock.settimeout(min(self._read_timeout, left))

    def _receive(self, size: int = _HEAD_RECEIVE) -> bool:
        """More bytes into the buffer; False when the server has closed the connection."""
        self.settle()
        chunk = self._sock.recv(size)
        self._buffer += chunk
        return bool(chunk)

    def head(self) -> bytes:
        """Up to the empty line that ends a head (which is consumed, not returned)."""
        return self._until(b"\r\n\r\n", MAX_HEAD_BYTES)

    def line(self) -> bytes:
        """One line without its CRLF (chunk sizes and trailers)."""
        return self._until(b"\r\n", MAX_HEAD_BYTES)

    def _until(self, marker: bytes, limit: int) -> bytes:
        searched = 0
        while (end := self._buffer.find(marker, searched)) < 0:
            if len(self._buffer) > limit:
                raise BrokenAnswer(f"no end of line within {limit:,} bytes")
            searched = max(0, len(self._buffer) - len(marker) + 1)
            if not self._receive():
                raise BrokenAnswer("the connection closed inside the answer's head")
        found = bytes(self._buffer[:end])
        del self._buffer[: end + len(marker)]
        return found

    def exactly(self, length: int) -> bytes:
        """`length` bytes of body.

        Received in pieces of at most what is still missing, and joined: a body that arrives
        in one receive (most census pages) is the very object the socket filled, not a copy.
        """
        have = len(self._buffer)
        if have >= length:
            found = bytes(memoryview(self._buffer)[:length])
            del self._buffer[:length]
            return found
        pieces = [bytes(self._buffer)] if have else []
        self._buffer.clear()
        while have < length:
            self.settle()
            piece = self._sock.recv(length - have)
            if not piece:
                raise BrokenAnswer(f"the connection closed {length - have:,} bytes short")
            pieces.append(piece)
            have += len(piece)
        return b"".join(pieces)

    def to_close(self) -> bytes:
        """Everything until the server closes the connection."""
        while self._receive(_RECEIVE):
            pass
        found = bytes(self._buffer)
        self._buffer.clear()
        return found
