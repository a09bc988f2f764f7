"""The sandbox's HTTP/1.1 listener: every connection on one asyncio event loop, in one thread.

Design decision, an event loop rather than a thread per connection: a read of all 40
institutions keeps five hundred connections open, and with `http.server`'s thread per
connection each request passed the GIL between threads several times (read, sleep for the
latency, answer, write). At scale 0.1 the sandbox spent 3-10 s of its 9-20 s of CPU in the
kernel, in GIL futexes (strace: 29 million futex calls in one survey), and it shared two cores
with the client it served. On one loop nothing waits for the GIL: latency and slow answers are
timers, and the app's work (SQLite, a census page) runs in the loop's thread between them.
The app's gateway (`admit`, with the per-second threshold) judges a request when the loop
reads it, so a loop held up by a long run of answers would read the requests that came
meanwhile together, and count a burst no client sent. asyncio runs every callback that is ready
before it looks at the sockets again, and fifty latency timers that expire together are fifty
census pages (about 4 ms each) in one run. So answers are made by one task, one per turn of the
loop (`_answer_in_turn`), and the sockets are read between any two of them. Answering on
worker threads instead kept the arrivals exact too but made plans 20-40 % slower (GIL
hand-overs), and the app keeps each answer's work small (`Store.derived` keeps orders and
searches, so no answer rescans every user).

What the listener enforces, because `sandbox serve` is a socket anyone on the machine can
reach: a request head over 64 KB gets 431; a body is refused (413) from its Content-Length
before a byte of it is read and before the key is checked, so nobody can make the sandbox
buffer a gigabyte; chunked bodies get 411; the listen backlog is deep (LISTEN_BACKLOG); a
client that hangs up mid-answer is not an error worth a word, and nothing reaches `sys.stderr`
(asyncio's own complaints go to this module's logger at DEBUG). `stop()` hangs up on every
open connection and waits for the loop's thread, so nothing of one test outlives it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from reconciler.sandbox.app import Admission, SandboxApp
from reconciler.sandbox.http import AlmaError, Request, Response, encode, error_response

MAX_BODY_BYTES = 8 * 2**20  # the largest real body, a whole mapping table, is well under 1 MB
MAX_HEAD_BYTES = 64 * 1024  # request line and headers; Alma's gateway refuses far less
# A read of all 40 institutions opens a few hundred connections in its first second. With a
# backlog of 128 the kernel dropped the overflow (ListenOverflows in /proc/net/netstat) and
# each dropped client waited for TCP's SYN retry, a second or more: stalls of 1-1.5 s that
# Alma's load balancers never show and that made benchmark walls swing by a second.
LISTEN_BACKLOG = 1024
JOIN_SECONDS = 5.0

logger = logging.getLogger(__name__)


_Pending = tuple[Request, Admission, "asyncio.Future[Response | None]"]


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to `host:port` (0: any free port) and listening with a deep backlog."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(LISTEN_BACKLOG)
    except OSError:
        sock.close()
        raise
    return sock


class _Closing(Exception):
    """The connection ends after what was just answered (or without an answer)."""


class Listener:
    """Serves `app` on a listening socket from an event loop in a thread of its own."""

    def __init__(self, app: SandboxApp, sock: socket.socket) -> None:
        self._app = app
        self._sock = sock
        self.port = int(sock.getsockname()[1])
        self._loop = asyncio.new_event_loop()
        self._loop.set_exception_handler(_quietly)
        self._writers: set[asyncio.StreamWriter] = set()
        self._to_answer: asyncio.Queue[_Pending] = asyncio.Queue()
        self._server: asyncio.Server | None = None
        self._thread = threading.Thread(target=self._run, name="sandbox-http", daemon=True)

    def start(self) -> None:
        ready = threading.Event()
        self._loop.call_soon(ready.set)
        self._thread.start()
        ready.wait(JOIN_SECONDS)

    def stop(self) -> None:
        """Stop accepting, hang up on every client, and wait for the loop's thread."""
        if not self._thread.is_alive():
            self._sock.close()
            return
        future = asyncio.run_coroutine_threadsafe(self._shut_down(), self._loop)
        with contextlib.suppress(Exception):
            future.result(JOIN_SECONDS)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(JOIN_SECONDS)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.create_task(self._answer_in_turn())
        self._server = self._loop.run_until_complete(
            asyncio.start_server(
                self._connection, sock=self._sock, limit=MAX_HEAD_BYTES, backlog=LISTEN_BACKLOG
            )
        )
        try:
            self._loop.run_forever()
        finally:
            tasks = asyncio.all_tasks(self._loop)
            for task in tasks:
                task.cancel()
            self._loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            self._loop.close()

    async def _shut_down(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        if self._server is not None:
            await self._server.wait_closed()

    async def _answer_in_turn(self) -> None:
        """Make the answers one per turn of the loop, so requests are read (and counted by
        the gateway) as they arrive, not in a clump after a run of answers."""
        while True:
            request, admission, reply = await self._to_answer.get()
            if not reply.cancelled():  # the client's connection was closed meanwhile
                try:
                    reply.set_result(self._app.complete(request, admission))
                except Exception as error:  # the connection's task raises it and ends
                    reply.set_exception(error)
            await asyncio.sleep(0)  # one turn of the loop: the sockets are read in between

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        # ends when the client leaves or an answer was the connection's last
        hang_up = contextlib.suppress(_Closing, ConnectionError, asyncio.IncompleteReadError)
        try:
            with hang_up:
                while True:
                    await self._exchange(reader, writer)
        except Exception:  # a listener bug must end one connection, never the loop
            logger.debug("sandbox connection ended with an error", exc_info=True)
        finally:
            self._writers.discard(writer)
            writer.transport.close()

    async def _exchange(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Read one request, answer it; raise _Closing when the connection must end."""
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.LimitOverrunError:
            await _send_status(writer, HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE)
            raise _Closing from None
        parsed = _parse_head(head)
        if parsed is None:
            await _send_status(writer, HTTPStatus.BAD_REQUEST)
            raise _Closing
        method, target, headers, keep_alive = parsed
        refusal = _body_refusal(headers)
        if refusal is not None:
            # answered before reading the body or checking the key; the unread body would be
            # taken for the next request, so the connection closes after the answer
            request = Request.parse(method, target, headers, b"")
            await _send(writer, error_response(refusal, request), request, keep_alive=False)
            raise _Closing
        length = int(headers.get("content-length") or 0)
        body = await reader.readexactly(length) if length else b""
        request = Request.parse(method, target, headers, body)
        admission = self._app.admit(request)
        if admission.wait:
            await _pause(admission.wait)
        reply: asyncio.Future[Response | None] = self._loop.create_future()
        self._to_answer.put_nowait((request, admission, reply))
        response = await reply
        if response is None:  # injected fault: hang up without a word
            raise _Closing
        await _send(writer, response, request, keep_alive=keep_alive)
        if not keep_alive:
            raise _Closing


async def _pause(seconds: float) -> None:
    """Latency and slow answers: a timer on the loop, so other requests go on meanwhile."""
    await asyncio.sleep(seconds)


def _parse_head(head: bytes) -> tuple[str, str, dict[str, str], bool] | None:
    """Method, target, headers (lower-case names, last one wins) and keep-alive; None when the
    head is not HTTP/1.x."""
    lines = head.decode("iso-8859-1").split("\r\n")  # every byte is a latin-1 character
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        return None
    method, target, version = parts
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip():
            return None
        headers[name.lower()] = value.strip()
    connection = headers.get("connection", "").lower()
    keep_alive = connection != "close" and (version == "HTTP/1.1" or connection == "keep-alive")
    return method, target, headers, keep_alive


def _body_refusal(headers: Mapping[str, str]) -> AlmaError | None:
    """Why a request body must not be read: too large, of unknown length, or a bad length."""
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return AlmaError(411, "411", "A Content-Length is required; chunked bodies are refused.")
    declared = headers.get("content-length", "").strip()
    if not declared:
        return None
    if not declared.isdigit():
        return AlmaError(400, "400", "The Content-Length header is not a number.")
    if int(declared) > MAX_BODY_BYTES:
        return AlmaError(
            413, "413", f"The request body is larger than {MAX_BODY_BYTES // 2**20} MB."
        )
    return None


async def _send(
    writer: asyncio.StreamWriter, response: Response, request: Request, *, keep_alive: bool
) -> None:
    data, content_type = encode(response, request)
    head = [f"HTTP/1.1 {response.status} {_reason(response.status)}"]
    if content_type:
        head.append(f"Content-Type: {content_type}")
    head.extend(f"{name}: {value}" for name, value in response.headers.items())
    head.append(f"Content-Length: {len(data)}")
    if not keep_alive:
        head.append("Connection: close")
    await _write(writer, ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + data)


async def _send_status(writer: asyncio.StreamWriter, status: HTTPStatus) -> None:
    body = status.phrase.encode()
    await _write(
        writer,
        f"HTTP/1.1 {status.value} {status.phrase}\r\nContent-Type: text/plain\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
        + body,
    )


async def _write(writer: asyncio.StreamWriter, data: bytes) -> None:
    if writer.transport.is_closing():
        raise _Closing  # the client hung up while its answer was being made
    writer.write(data)
    await writer.drain()


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _quietly(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """asyncio's complaints (a reset socket, a task that failed) go to the debug log, never
    to stderr, where they would land in a test's captured output."""
    logger.debug(
        "sandbox event loop: %s", context.get("message"), exc_info=context.get("exception")
    )
