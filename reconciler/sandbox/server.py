"""The sandbox over real HTTP on 127.0.0.1: `SandboxApp` behind the event-loop listener.

`SandboxServer` is a context manager for tests and for `--sandbox` runs; `serve_forever`
backs `alma-groups sandbox serve`. The database is seeded on first start when it is missing.
How connections are served, and what the listening socket refuses, is `listener.py`'s.
"""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path
from types import TracebackType

from reconciler.sandbox.app import RunningSandbox, SandboxApp, SandboxConfig
from reconciler.sandbox.listener import Listener, listening_socket
from reconciler.sandbox.seed import DEFAULT_SCALE, Progress
from reconciler.sandbox.state import open_state

DEFAULT_STATE_DIR = Path(".sandbox")


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
        self._listener: Listener | None = None

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
            sock = listening_socket(self.host, self.port)
        except OSError:
            store.close()
            raise
        self.port = int(sock.getsockname()[1])
        self._app = SandboxApp(store, self.config, self.base_url)
        self._listener = Listener(self._app, sock)
        self._listener.start()
        self._app.jobs.resume_unfinished()
        return self

    def stop(self) -> None:
        """Stop serving and close the database; safe to call twice. The request log stays."""
        if self._listener is None:
            return
        self._listener.stop()
        if self._app is not None:
            self._app.close()
        self._listener = None

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
