"""The sandbox over real HTTP on 127.0.0.1: a threading server around `SandboxApp`.

`SandboxServer` is a context manager for tests and for `--sandbox` runs; `serve_forever`
backs `alma-groups sandbox serve`. The database is seeded on first start when it is missing.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType

from reconciler.sandbox.app import SandboxApp, SandboxConfig
from reconciler.sandbox.faults import RequestLog
from reconciler.sandbox.http import Request, encode
from reconciler.sandbox.seed import DEFAULT_SCALE, Progress
from reconciler.sandbox.state import open_state

DEFAULT_STATE_DIR = Path(".sandbox")


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    app: SandboxApp


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
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Request.parse(self.command, self.path, dict(self.headers.items()), body)
        response = self.server.app.handle(request)
        if response is None:  # injected fault: close the socket without a word
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        data, content_type = encode(response, request)
        self.send_response(response.status)
        if content_type:
            self.send_header("Content-Type", content_type)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        """Silent: the request log (no keys, no patron ids) is the record."""


class SandboxServer:
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
        self._app: SandboxApp | None = None
        self._http: _HttpServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """The URL to use as ALMA_API_URL (paths then start with /almaws/v1)."""
        return f"http://{self.host}:{self.port}"

    @property
    def app(self) -> SandboxApp:
        if self._app is None:
            raise RuntimeError("the sandbox is not running")
        return self._app

    @property
    def request_log(self) -> RequestLog:
        return self.app.log

    def api_keys(self) -> dict[str, str]:
        """slug → the API key the sandbox accepts for it."""
        return self.app.api_keys()

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
            self._http = _HttpServer((self.host, self.port), _Handler)
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
    """Run the sandbox until interrupted (Ctrl-C), printing where it listens and its keys."""
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
