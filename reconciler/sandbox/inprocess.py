"""The sandbox inside the caller's process: a client `Transport` with no socket and no thread.

`InProcessSandbox` opens a state directory as `SandboxServer` does (seeding it on first use)
but listens nowhere; `sandbox.transport("ucf")` is an `alma.Transport` that hands each call
straight to the `SandboxApp`. Tests that only care what Alma answers (crash, resume and
rollback scenarios above all) then need no port, no server thread and no shutdown dance:

    with InProcessSandbox(state_dir, institutions_root) as sandbox:
        client = AlmaClient.for_institution(ucf, transport=sandbox.transport("ucf"))

Design decisions:
- The app sees exactly what it sees over HTTP. The call becomes a `Request` through the same
  `Request.parse` (target with query string, headers, body bytes) and the answer goes through
  the same `encode`, so keys, thresholds, injected faults and XML-or-JSON bodies behave alike.
- An injected dropped connection becomes the `AlmaNetworkError` that `HttpTransport`
  raises for a real one, so retry code is exercised the same way.
- What only a socket can show stays on `SandboxServer`: connection pooling, keep-alive, time-
  outs, a closed socket, the transport's error mapping.
- The app answers in the calling thread, and the client's worker threads call it
  concurrently (the HTTP listener calls it from its one event loop instead). Latency and slow
  answers sleep in the calling thread, so they never serialise the calls.
- The core never imports this module (import-linter); it imports the client's `Transport`
  vocabulary, never the other way round.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from urllib.parse import urlencode

from reconciler.alma import TransportResponse
from reconciler.alma.credentials import ApiKey
from reconciler.errors import AlmaCall, AlmaNetworkError
from reconciler.sandbox.app import RunningSandbox, SandboxApp, SandboxConfig
from reconciler.sandbox.http import API_PREFIX, Request, encode
from reconciler.sandbox.seed import DEFAULT_SCALE
from reconciler.sandbox.state import open_state

# Links in answers (`link` fields) point here; nothing listens, and the client never follows them.
IN_PROCESS_URL = "http://in-process.sandbox.invalid"
JSON_TYPE = "application/json"


class InProcessTransport:
    """`Transport` for one API key: each call is answered by the app in the calling thread."""

    def __init__(self, app: SandboxApp, api_key: ApiKey) -> None:
        self._app = app
        self._api_key = api_key

    def __repr__(self) -> str:
        return "InProcessTransport()"

    def send(
        self,
        method: str,
        path: str,
        params: Mapping[str, str],
        json_body: object | None,
        *,
        deadline: float | None = None,  # nothing to wait for in-process: answers come at once
    ) -> TransportResponse:
        headers = {"Authorization": self._api_key.header_value(), "Accept": JSON_TYPE}
        body = b""
        if json_body is not None:
            headers["Content-Type"] = JSON_TYPE
            body = json.dumps(json_body, ensure_ascii=False).encode("utf-8")
        target = API_PREFIX + path + (f"?{urlencode(dict(params))}" if params else "")
        request = Request.parse(method, target, headers, body)
        response = self._app.handle(request)
        if response is None:
            raise AlmaNetworkError(
                AlmaCall(method, path),
                status=None,
                alma_message="connection failed or dropped (in-process sandbox)",
            )
        data, content_type = encode(response, request)
        answer = {name.lower(): value for name, value in response.headers.items()}
        if content_type:
            answer["content-type"] = content_type
        answer["content-length"] = str(len(data))
        return TransportResponse(status=response.status, headers=answer, body=data)


class InProcessSandbox(RunningSandbox):
    """A sandbox answering in this process: `with InProcessSandbox(state, root) as sandbox:`."""

    def __init__(
        self,
        state_dir: Path,
        institutions_root: Path,
        config: SandboxConfig | None = None,
        *,
        scale: float = DEFAULT_SCALE,
        seed: int = 1,
    ) -> None:
        self.state_dir = Path(state_dir)
        self.institutions_root = Path(institutions_root)
        self.config = config or SandboxConfig()
        self.scale, self.seed = scale, seed
        self._running = False

    def transport(self, slug: str, *, key: str | None = None) -> InProcessTransport:
        """A transport calling as `slug` (with its own key, or `key`: a wrong one, say)."""
        if not self._running:
            raise RuntimeError("the sandbox is not started")
        chosen = key if key is not None else self.api_keys()[slug]
        return InProcessTransport(self.app, ApiKey(chosen))

    def start(self) -> InProcessSandbox:
        store = open_state(
            self.state_dir,
            self.institutions_root,
            api_keys=self.config.api_keys,
            scale=self.scale,
            seed=self.seed,
        )
        self._app = SandboxApp(store, self.config, IN_PROCESS_URL)
        self._running = True
        self._app.jobs.resume_unfinished()
        return self

    def stop(self) -> None:
        """Stop the job threads and close the database; safe to call twice. The log stays."""
        if self._running and self._app is not None:
            self._app.close()
        self._running = False

    def __enter__(self) -> InProcessSandbox:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()
