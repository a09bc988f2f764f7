"""The seam between the Alma client and the network; the only module that imports `requests`.

Design decision: `Transport` is a one-method protocol that takes a path and returns plain bytes,
a status and lower-cased headers. Everything above it (limits, retries, error bodies, JSON) is
ours and testable without HTTP, and every `requests` exception is turned into our
`AlmaNetworkError` here, chained with `from`, so nothing of `requests` leaks out of `alma/`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import requests
import urllib3
from requests.adapters import HTTPAdapter

from reconciler import __version__
from reconciler.alma.credentials import ApiKey
from reconciler.errors import AlmaCall, AlmaNetworkError

JSON_TYPE = "application/json"
USER_AGENT = f"alma-groups/{__version__}"

# urllib3 logs every request line at DEBUG, and a user's path holds their primary ID: keep
# its logger quiet whatever level the application sets, so IDs never reach a log.
logging.getLogger("urllib3").setLevel(logging.WARNING)


@dataclass(frozen=True)
class TransportResponse:
    """What came back: status, headers with lower-case names, and the raw body."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()


class Transport(Protocol):
    """Sends one request to Alma. `path` starts with `/` and excludes `/almaws/v1`."""

    def send(
        self,
        method: str,
        path: str,
        params: Mapping[str, str],
        json_body: object | None,
    ) -> TransportResponse: ...


@dataclass(frozen=True)
class Timeouts:
    """Seconds to wait to connect, and between bytes of the answer (not the whole answer)."""

    connect: float = 10.0
    read: float = 120.0  # Analytics reports and large code-table PUTs can take a minute


DEFAULT_TIMEOUTS = Timeouts()


class RequestsTransport:
    """`Transport` over a pooled `requests.Session`: JSON in and out, key only in a header."""

    def __init__(
        self,
        api_root: str,
        api_key: ApiKey,
        *,
        timeouts: Timeouts = DEFAULT_TIMEOUTS,
        pool_size: int = 16,
        session: requests.Session | None = None,
    ) -> None:
        self._api_root = api_root.rstrip("/")
        self._api_key = api_key
        self._timeouts = timeouts
        self._session = session or requests.Session()
        # One pool slot per worker thread; without this, urllib3 keeps 10 connections and
        # discards the rest, so concurrent calls would reconnect (TLS handshakes) every time.
        adapter = HTTPAdapter(pool_connections=2, pool_maxsize=pool_size, max_retries=0)
        self._session.mount("https://", adapter)
        self._session.mount("http://", adapter)
        # Proxies and .netrc from the environment could add credentials or reroute calls
        # silently; the base URL is explicit (ALMA_API_URL), so the environment is ignored.
        self._session.trust_env = False

    def __repr__(self) -> str:
        return f"RequestsTransport({self._api_root!r})"

    def send(
        self,
        method: str,
        path: str,
        params: Mapping[str, str],
        json_body: object | None,
    ) -> TransportResponse:
        headers = {
            "Authorization": self._api_key.header_value(),
            "Accept": JSON_TYPE,
            "User-Agent": USER_AGENT,
        }
        data: bytes | None = None
        if json_body is not None:
            headers["Content-Type"] = JSON_TYPE
            data = json.dumps(json_body, ensure_ascii=False).encode("utf-8")
        try:
            response = self._session.request(
                method,
                self._api_root + path,
                params=dict(params),
                data=data,
                headers=headers,
                timeout=(self._timeouts.connect, self._timeouts.read),
                # Alma's API does not redirect; a redirect means a wrong base URL (the UI host,
                # http instead of https), and following it would hide the mistake.
                allow_redirects=False,
                stream=True,
            )
            body = _read_body(response)  # inside the try, so a dropped body fails here
        except (requests.RequestException, urllib3.exceptions.HTTPError) as error:
            raise _network_error(method, path, error) from error
        return TransportResponse(
            status=response.status_code,
            headers={name.lower(): value for name, value in response.headers.items()},
            body=body,
        )

    def close(self) -> None:
        self._session.close()


def _read_body(response: requests.Response) -> bytes:
    """The whole body in one read, and the connection back to the pool.

    `response.content` reads a body in 10 KB chunks through two layers of generators; on a
    200 KB census page that was about 1 ms of CPU per call more than one read (measured on
    2 shared cores), some 10 µs per user read. A read that fails (dropped, cut short: urllib3
    checks Content-Length) raises urllib3's error, which `send` turns into ours.
    """
    raw = response.raw
    try:
        return bytes(raw.read(decode_content=True))
    finally:
        raw.release_conn()


def _network_error(
    method: str, path: str, error: requests.RequestException | urllib3.exceptions.HTTPError
) -> AlmaNetworkError:
    # The requests message holds the full URL with its query string (user searches), so only
    # the kind of failure goes into our message; the original stays chained for debugging.
    if isinstance(error, requests.Timeout | urllib3.exceptions.TimeoutError):
        what = "timed out"
    elif isinstance(
        error,
        requests.exceptions.ChunkedEncodingError
        | requests.ConnectionError
        | urllib3.exceptions.ProtocolError,
    ):
        what = "connection failed or dropped"
    else:
        what = "request failed"
    return AlmaNetworkError(
        AlmaCall(method, path),
        status=None,
        alma_message=f"{what} ({type(error).__name__})",
    )
