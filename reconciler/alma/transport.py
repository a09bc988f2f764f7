"""The seam between the Alma client and the network; the only module that imports `requests`.

Design decision: `Transport` is a one-method protocol that takes a path and returns plain bytes,
a status and lower-cased headers. Everything above it (limits, retries, error bodies, JSON) is
ours and testable without HTTP, and every `requests` exception is turned into our
`AlmaNetworkError` here, chained with `from`, so nothing of `requests` leaks out of `alma/`.

Secrets: the key goes out only in the Authorization header, and whatever comes back is scrubbed
of it (body and headers) before anything above can quote it, because a misconfigured proxy or
gateway may echo the request's headers in its error page. The URL must be https, except on
loopback (the sandbox): over plain http the key would cross the network readable.

Time: `requests` knows only a connect timeout and a timeout between bytes, so a server that
trickles a byte a minute never times out. Each send therefore takes an absolute deadline (the
caller's whole-call budget, retries included) and reads the body in chunks against it.
Network errors name the host they could not reach, never the path or query (user searches).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import quote, urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter

from reconciler import __version__
from reconciler.alma.credentials import ApiKey
from reconciler.alma.regions import require_safe_url
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
        *,
        deadline: float | None = None,
    ) -> TransportResponse:
        """`deadline`: a `time.monotonic()` value by which the whole answer must be in."""
        ...


@dataclass(frozen=True)
class Timeouts:
    """Seconds to connect, between bytes of the answer, and for a whole call with retries."""

    connect: float = 10.0
    read: float = 120.0  # Analytics reports and large code-table PUTs can take a minute
    # every try, back-off and byte of one call; a server that never answers costs this, not
    # 5 tries x 120 s
    call: float = 300.0

    def __post_init__(self) -> None:
        if min(self.connect, self.read, self.call) <= 0:
            raise ValueError("timeouts must be above 0 seconds")


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
        self._api_root = require_safe_url(api_root.rstrip("/"))
        self._host = urlsplit(self._api_root).hostname or "?"
        self._api_key = api_key
        self._scrub = _scrubber(api_key)
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
        *,
        deadline: float | None = None,
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
        deadline = deadline if deadline is not None else time.monotonic() + self._timeouts.call
        left = deadline - time.monotonic()
        if left <= 0:
            raise self._timed_out(method, path)
        try:
            response = self._session.request(
                method,
                self._api_root + path,
                params=dict(params),
                data=data,
                headers=headers,
                timeout=(min(self._timeouts.connect, left), min(self._timeouts.read, left)),
                # Alma's API does not redirect; a redirect means a wrong base URL (the UI host,
                # http instead of https), and following it would hide the mistake.
                allow_redirects=False,
                stream=True,
            )
            body = self._read_body(response, deadline, method, path)  # inside the try
        except (requests.RequestException, urllib3.exceptions.HTTPError) as error:
            raise _network_error(method, path, error, self._host) from error
        return TransportResponse(
            status=response.status_code,
            headers={name.lower(): self._scrub(value) for name, value in response.headers.items()},
            body=self._scrub_bytes(body),
        )

    def _read_body(
        self, response: requests.Response, deadline: float, method: str, path: str
    ) -> bytes:
        """The whole body, and the connection back to the pool; cut off at the deadline.

        urllib3's read1 returns what has arrived (one receive, up to 64 KB), so a census page
        takes a few reads, not response.content's 10 KB generator chunks (CPU), and the
        deadline is checked between them even while a server trickles. A read that fails
        (dropped, cut short: urllib3 checks Content-Length) raises urllib3's error, which
        `send` turns into ours.
        """
        raw = response.raw
        chunks = []
        try:
            while chunk := raw.read1(_CHUNK, decode_content=True):
                chunks.append(chunk)
                if time.monotonic() > deadline:
                    raise self._timed_out(method, path)
        finally:
            raw.release_conn()
        return b"".join(chunks)

    def _timed_out(self, method: str, path: str) -> AlmaNetworkError:
        return AlmaNetworkError(
            AlmaCall(method, path),
            status=None,
            alma_message=(
                f"timed out: no complete answer from {self._host} within the call's "
                f"{self._timeouts.call:g} s"
            ),
        )

    def _scrub_bytes(self, body: bytes) -> bytes:
        secret = self._api_key.secret_bytes()
        if len(secret) >= MIN_SCRUBBED_KEY and secret in body:  # a fast substring search
            return self._scrub(body.decode("utf-8", "replace")).encode("utf-8")
        return body

    def close(self) -> None:
        self._session.close()


_CHUNK = 1 << 16
REDACTED = "****"
MIN_SCRUBBED_KEY = 8


def _scrubber(api_key: ApiKey) -> Callable[[str], str]:
    """A function that replaces the key (as sent, and URL-quoted) in a text from a server."""
    secret = api_key.secret_bytes().decode("utf-8")
    # a real Alma key is dozens of characters; replacing a test key like "k" would mangle
    # every answer, so keys too short to be secret are left alone
    variants = [] if len(secret) < MIN_SCRUBBED_KEY else [secret, quote(secret, safe="")]

    def scrub(text: str) -> str:
        for variant in variants:
            if variant:
                text = text.replace(variant, REDACTED)
        return text

    return scrub


def _network_error(
    method: str,
    path: str,
    error: requests.RequestException | urllib3.exceptions.HTTPError,
    host: str,
) -> AlmaNetworkError:
    # The requests message holds the full URL with its query string (user searches), so only
    # the kind of failure and the host go into our message; the original stays chained.
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
        alma_message=f"{what}: {host} ({type(error).__name__})",
    )
