"""Record an institution's census pages from a server once, then replay them without one.

The client's CPU per user is measured on replayed pages so that neither the server's CPU nor
the network blurs it: `RecordingTransport` wraps the real transport (HTTP to the sandbox) and
keeps every answer by request; `ReplayTransport` answers the same requests from memory. The
replayed read runs the client's whole per-user path above the transport (limiter, ledger,
error check, decoding, paging, census), on the same worker threads as a real read; only the
HTTP library's own cost per call is left out, and the survey and plan benchmarks include it.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

from reconciler.alma import Transport, TransportResponse

Key = tuple[str, str, tuple[tuple[str, str], ...]]


def _key(method: str, path: str, params: Mapping[str, str]) -> Key:
    return method, path, tuple(sorted(params.items()))


class RecordingTransport:
    """Passes calls to `inner` and keeps each answer (last one wins) by request."""

    def __init__(self, inner: Transport) -> None:
        self._inner = inner
        self._lock = threading.Lock()
        self.answers: dict[Key, TransportResponse] = {}

    def send(
        self, method: str, path: str, params: Mapping[str, str], json_body: object | None
    ) -> TransportResponse:
        response = self._inner.send(method, path, params, json_body)
        with self._lock:
            self.answers[_key(method, path, params)] = response
        return response


class ReplayTransport:
    """Answers from recorded responses; an unrecorded request is a benchmark bug."""

    def __init__(self, answers: Mapping[Key, TransportResponse]) -> None:
        self._answers = dict(answers)
        self.calls = 0

    def send(
        self, method: str, path: str, params: Mapping[str, str], json_body: object | None
    ) -> TransportResponse:
        self.calls += 1
        return self._answers[_key(method, path, params)]

    @property
    def body_bytes(self) -> int:
        return sum(len(response.body) for response in self._answers.values())
