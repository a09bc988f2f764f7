"""The sandbox over real HTTP on 127.0.0.1: a threading server around `SandboxApp`.

`SandboxServer` is a context manager for tests and for `--sandbox` runs; `serve_forever`
backs `alma-groups sandbox serve`. The database is seeded on first start when it is missing.

Hardening, because `sandbox serve` is a listening socket anyone on the machine can reach:
a request body is refused (413) from its Content-Length before a byte of it is read and before
the key is checked, so nobody can make the sandbox buffer a gigabyte; the listen backlog is 128
(socketserver's default of 5 dropped connections under 200 concurrent clients); a client that
hangs up mid-answer is not an error worth a word, and nothing a handler thread does is written
to `sys.stderr` (socketserver prints tracebacks there, into whatever output a test captures).
`stop()` closes open keep-alive connections and waits for their threads, so no handler of one
test outlives it into the next.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import sys
import threading
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType

from reconciler.sandbox.app import RunningSandbox, SandboxApp, SandboxConfig
from reconciler.sandbox.http import AlmaError, Request, Response, encode, error_response
from reconciler.sandbox.seed import DEFAULT_SCALE, Progress
from reconciler.sandbox.state import open_state

DEFAULT_STATE_DIR = Path(".sandbox")
MAX_BODY_BYTES = 8 * 2**20  # the largest real body, a whole mapping table, is well under 1 MB
# A read of all 40 institutions opens a few hundred connections in its first second. With a
# backlog of 128 the kernel dropped the overflow (ListenOverflows in /proc/net/netstat) and
# each dropped client waited for TCP's SYN retry, a second or more: stalls of 1-1.5 s that
# Alma's load balancers never show and that made benchmark walls swing by a second.
LISTEN_BACKLOG = 1024
SERVE_SWITCH_INTERVAL = 0.0005  # seconds; see serve_forever
JOIN_SECONDS = 5.0

logger = logging.getLogger(__name__)
_DISCONNECTS = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError)


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True  # a hung client must never keep the process alive; stop() joins
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = LISTEN_BACKLOG
    app: SandboxApp

    def __init__(self, address: tuple[str, int]) -> None:
        super().__init__(address, _Handler)
        self._open: dict[socket.socket, threading.Thread] = {}
        self._open_lock = threading.Lock()

    def process_request(self, request: socket.socket, client_address: object) -> None:  # type: ignore[override]
        thread = threading.Thread(
            target=self._serve_one, args=(request, client_address), daemon=True
        )
        with self._open_lock:
            self._open[request] = thread
        thread.start()

    def _serve_one(self, request: socket.socket, client_address: object) -> None:
        try:
            self.process_request_thread(request, client_address)
        finally:
            with self._open_lock:
                self._open.pop(request, None)

    def handle_error(self, request: object, client_address: object) -> None:
        """Never socketserver's traceback on stderr: a hang-up is normal, the rest is logged."""
        logger.debug("sandbox connection ended with an error", exc_info=True)

    def close_connections(self) -> None:
        """Hang up on every client still connected and wait for their handler threads."""
        with self._open_lock:
            open_now = list(self._open.items())
        for connection, _ in open_now:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        for _, thread in open_now:
            thread.join(JOIN_SECONDS)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the client's session expects
    # Headers and body go out in separate writes; without this, Nagle + delayed ACK add ~40 ms.
    disable_nagle_algorithm = True
    server: _HttpServer

    def do_GET(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def _serve(self) -> None:
        headers = dict(self.headers.items())
        refusal = _body_refusal(self.headers)
        if refusal is not None:
            # answered before reading the body or checking the key; the unread body would be
            # taken for the next request, so the connection closes after the answer
            self.close_connection = True
            request = Request.parse(self.command, self.path, headers, b"")
            self._send(error_response(refusal, request), request)
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Request.parse(self.command, self.path, headers, body)
        response = self.server.app.handle(request)
        if response is None:  # injected fault: close the socket without a word
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self._send(response, request)

    def _send(self, response: Response, request: Request) -> None:
        data, content_type = encode(response, request)
        self.send_response(response.status)
        if content_type:
            self.send_header("Content-Type", content_type)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        try:
            self.wfile.write(data)
        except _DISCONNECTS:
            self.close_connection = True  # the client left; nobody is there to tell

    def handle(self) -> None:
        try:
            super().handle()
        except _DISCONNECTS:
            self.close_connection = True  # a client hanging up mid-request is not news

    def log_message(self, format: str, *args: object) -> None:
        """Silent: the request log (no keys, no patron ids) is the record."""


def _body_refusal(headers: Message) -> AlmaError | None:
    """Why a request body must not be read: too large, of unknown length, or a bad length."""
    if "chunked" in (headers.get("Transfer-Encoding") or "").lower():
        return AlmaError(411, "411", "A Content-Length is required; chunked bodies are refused.")
    declared = (headers.get("Content-Length") or "").strip()
    if not declared:
        return None
    if not declared.isdigit():
        return AlmaError(400, "400", "The Content-Length header is not a number.")
    if int(declared) > MAX_BODY_BYTES:
        return AlmaError(
            413, "413", f"The request body is larger than {MAX_BODY_BYTES // 2**20} MB."
        )
    return None


class SandboxServer(RunningSandbox):
    """A running sandbox: `with SandboxServer(state_dir, root) as sandbox: sandbox.base_url`.

    Every knob of the Alma it plays is in `config`; this class only adds where it listens and
    how a missing database is seeded (`scale`, `seed`)."""

    def __init__(
        self,
        state_dir: Path,
        institutions_root: Path,
        config: SandboxConfig | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        scale: float = DEFAULT_SCALE,
        seed: int = 1,
        progress: Progress | None = None,
    ) -> None:
        """`progress` gets the seeding's progress lines when the database must be created."""
        self.state_dir = Path(state_dir)
        self._progress = progress
        self.institutions_root = Path(institutions_root)
        self.config = config or SandboxConfig()
        self.host, self.port = host, port
        self.scale, self.seed = scale, seed
        self._http: _HttpServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """The URL to use as ALMA_API_URL (paths then start with /almaws/v1)."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> SandboxServer:
        store = open_state(
            self.state_dir,
            self.institutions_root,
            api_keys=self.config.api_keys,
            scale=self.scale,
            seed=self.seed,
            progress=self._progress,
        )
        try:
            self._http = _HttpServer((self.host, self.port))
        except OSError:
            store.close()
            raise
        self.port = int(self._http.server_address[1])
        self._app = SandboxApp(store, self.config, self.base_url)
        self._http.app = self._app
        self._thread = threading.Thread(
            target=self._http.serve_forever, args=(0.05,), name="sandbox-http", daemon=True
        )
        self._thread.start()
        self._app.jobs.resume_unfinished()
        return self

    def stop(self) -> None:
        """Stop serving and close the database; safe to call twice. The request log stays."""
        if self._http is None:
            return
        self._http.shutdown()
        self._http.server_close()
        self._http.close_connections()
        if self._thread is not None:
            self._thread.join(JOIN_SECONDS)
        if self._app is not None:
            self._app.close()
        self._http = self._thread = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()


def serve_forever(
    state_dir: Path = DEFAULT_STATE_DIR,
    institutions_root: Path = Path("institutions"),
    config: SandboxConfig | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 8765,
    scale: float = DEFAULT_SCALE,
    seed: int = 1,
    progress: Progress | None = None,
) -> None:
    """Run the sandbox until interrupted (Ctrl-C), printing where it listens and its keys.

    The process is the sandbox's alone, so it tunes the interpreter for its work: hundreds of
    connection threads that each need the GIL for a moment (to start, to answer) while one
    builds a census page. At the default 5 ms switch interval a read of all 40 institutions
    queued its new connections behind that, one thread start at a time, for over a second;
    at 0.5 ms they start as they arrive. (The in-process sandbox of the tests leaves the
    test process's interpreter alone.)
    """
    sys.setswitchinterval(SERVE_SWITCH_INTERVAL)
    server = SandboxServer(
        state_dir,
        institutions_root,
        config,
        host=host,
        port=port,
        scale=scale,
        seed=seed,
        progress=progress,
    )
    with server:
        # The banner is this function's job: a human needs the URL and the keys to use it.
        print(f"Alma sandbox listening on {server.base_url}/almaws/v1")
        print(f"State: {server.state_dir.resolve()}")
        for slug, key in sorted(server.api_keys().items()):
            print(f"  {slug:<10} Authorization: apikey {key}")
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
