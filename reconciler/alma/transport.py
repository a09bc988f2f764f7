"""The seam between the Alma client and the network; the only module that imports urllib3.

Design decision: `Transport` is a one-method protocol that takes a path and returns plain bytes,
a status and lower-cased headers. Everything above it (limits, retries, error bodies, JSON) is
ours and testable without HTTP, and every urllib3 or socket exception is turned into our
`AlmaNetworkError` here, chained with `from`, so nothing of the HTTP library leaks out of `alma/`.

Design decision, urllib3 rather than requests: a call costs the client about 0.43 ms of CPU
through one urllib3 connection pool and about 1.0 ms through a `requests.Session` (measured on
this 2-core machine, 600 calls to the local sandbox, process CPU). A read of the consortium is
thousands of calls from one interpreter, so requests' per-call layers (hooks, cookie jars,
environment merging, URL re-parsing) were a third of the client's CPU, and the tool uses none
of them. urllib3 is what requests runs on, so the connection handling is the same code.

Secrets: the key goes out only in the Authorization header, and whatever comes back is scrubbed
of it (body and headers) before anything above can quote it, because a misconfigured proxy or
gateway may echo the request's headers in its error page. The URL must be https, except on
loopback (the sandbox): over plain http the key would cross the network readable.

Time: urllib3 knows only a connect timeout and a timeout between bytes, so a server that
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
from http.client import HTTPException
from typing import Protocol
from urllib.parse import quote, urlencode, urlsplit

import certifi
import urllib3

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


class Urllib3Transport:
    """`Transport` over one urllib3 connection pool: JSON in and out, key only in a header."""

    def __init__(
        self,
        api_root: str,
        api_key: ApiKey,
        *,
        timeouts: Timeouts = DEFAULT_TIMEOUTS,
        pool_size: int = 16,
    ) -> None:
        self._api_root = require_safe_url(api_root.rstrip("/"))
        parts = urlsplit(self._api_root)
        self._host = parts.hostname or "?"
        self._base_path = parts.path  # /almaws/v1, or wherever a gateway puts the API
        self._api_key = api_key
        self._scrub = _scrubber(api_key)
        self._timeouts = timeouts
        # One pool slot per worker thread (block=False: a burst beyond it opens a connection
        # that is not kept, rather than waiting). urllib3 never reads proxies or .netrc from
        # the environment, which could add credentials or reroute calls silently: the base
        # URL is explicit (ALMA_API_URL). Retries and redirects are ours to decide (off here:
        # Alma's API does not redirect, so a redirect means a wrong base URL, and following it
        # would hide the mistake).
        # https is verified against certifi's CA bundle, as requests (which this transport
        # replaced) did: a slim container's system store may be empty or stale
        tls = {"ca_certs": certifi.where()} if parts.scheme == "https" else {}
        self._pool = urllib3.connection_from_url(
            self._api_root, maxsize=pool_size, block=False, retries=False, **tls
        )

    def __repr__(self) -> str:
        return f"Urllib3Transport({self._api_root!r})"

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
        # the form encoding a browser (and requests) sends: spaces as "+", "~" left alone
        target = self._base_path + path + (f"?{urlencode(params)}" if params else "")
        timeout = urllib3.Timeout(
            connect=min(self._timeouts.connect, left), read=min(self._timeouts.read, left)
        )
        try:
            response = self._pool.urlopen(
                method,
                target,
                body=data,
                headers=headers,
                retries=False,
                redirect=False,
                timeout=timeout,
                preload_content=False,
                assert_same_host=False,  # the target is a path on this pool's host
            )
            body = self._read_body(response, deadline, method, path)  # inside the try
        except (urllib3.exceptions.HTTPError, HTTPException, OSError) as error:
            raise _network_error(method, path, error, self._host) from error
        return TransportResponse(
            status=response.status,
            headers={name.lower(): self._scrub(value) for name, value in response.headers.items()},
            body=self._scrub_bytes(body),
        )

    def _read_body(
        self, response: urllib3.BaseHTTPResponse, deadline: float, method: str, path: str
    ) -> bytes:
        """The whole body, and the connection back to the pool; cut off at the deadline.

        `read1` returns what has arrived (one receive, up to 64 KB), so a census page takes a
        few reads and the deadline is checked between them even while a server trickles. A
        read that fails (dropped, cut short: urllib3 checks Content-Length) raises urllib3's
        error, which `send` turns into ours. A connection whose body was not read to the end
        is closed, never handed to the next call.
        """
        chunks = []
        complete = False
        try:
            while chunk := response.read1(_CHUNK, decode_content=True):
                chunks.append(chunk)
                if time.monotonic() > deadline:
                    raise self._timed_out(method, path)
            complete = True
        finally:
            if not complete:
                response.close()  # half-read: the connection cannot carry another call
            response.release_conn()
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
        self._pool.close()


_CHUNK = 1 << 18  # a census page (100 full users, about 200 KB) in one read when it has arrived
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
    error: urllib3.exceptions.HTTPError | HTTPException | OSError,
    host: str,
) -> AlmaNetworkError:
    # urllib3's message holds the full URL with its query string (user searches), so only
    # the kind of failure and the host go into our message; the original stays chained.
    # NewConnectionError is a subclass of ConnectTimeoutError, but a refused connection is
    # not a timeout: it is tested first.
    if isinstance(error, urllib3.exceptions.NewConnectionError):
        what = "connection failed or dropped"
    elif isinstance(error, urllib3.exceptions.TimeoutError | TimeoutError):
        what = "timed out"
    elif isinstance(error, urllib3.exceptions.ProtocolError | HTTPException | ConnectionError):
        what = "connection failed or dropped"
    else:
        what = "request failed"
    return AlmaNetworkError(
        AlmaCall(method, path),
        status=None,
        alma_message=f"{what}: {host} ({type(error).__name__})",
    )
