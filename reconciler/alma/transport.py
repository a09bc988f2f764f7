"""The seam between the Alma client and the network; the only module that sends HTTP.

Design decision: `Transport` is a one-method protocol that takes a path and returns plain bytes,
a status and lower-cased headers. Everything above it (limits, retries, error bodies, JSON) is
ours and testable without HTTP, and every socket, TLS or HTTP exception is turned into our
`AlmaNetworkError` here, chained with `from`, so nothing of the HTTP library leaks out of `alma/`.

Design decision, HTTP/1.1 of our own (`reconciler.alma.wire`) over a pool of our own
(`reconciler.alma.connections`), rather than urllib3, requests or `http.client`: a census page
(100 full users, about 200 KB) cost the client about 1.5 ms of CPU through urllib3 with our
checks, 0.86-1.04 ms through `http.client` and 0.43-0.53 ms through `wire` (issue 11: 101
pages to the local sandbox, process CPU, 2-core machine). A survey of the consortium is
thousands of such calls from one interpreter. What the libraries added and this tool never
uses (retries, redirects, proxies, decoders, header objects, the email package's header
parser) was most of that; requests, on top of it, costs more still (hooks, cookie jars,
environment merging). Nothing here reads proxies or .netrc from the environment, which could
add credentials or reroute calls silently: the base URL is explicit (ALMA_API_URL). Retries
are ours to decide, and redirects are never followed: Alma's API does not redirect, so a
redirect means a wrong base URL, and following it would hide the mistake.

Secrets: the key goes out only in the Authorization header, and whatever comes back is scrubbed
of it (body and headers) before anything above can quote it, because a misconfigured proxy or
gateway may echo the request's headers in its error page. The URL must be https, except on
loopback (the sandbox): over plain http the key would cross the network readable. Nothing here
logs, so no path with a primary ID reaches a log from here.

Time: a socket knows only a timeout between bytes, so a server that trickles a byte a minute
never times out. Each send therefore takes an absolute deadline (the caller's whole-call
budget, retries included), and every receive waits at most the read timeout or what is left
of the budget, whichever is less.
Network errors name the host they could not reach, never the path or query (user searches).

What the server may send that this transport copes with: what `wire` reads (bodies framed by
`Content-Length`, chunks or the connection closing; `Connection: close`; interim 1xx answers),
and a gzip or deflate body although we ask for none (`Accept-Encoding: identity`; some
gateways compress anyway), inflated up to `MAX_INFLATED_BYTES`.
"""

from __future__ import annotations

import json
import socket
import ssl
import string
import time
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import quote, quote_plus, urlsplit

from reconciler import __version__
from reconciler.alma.connections import ConnectionPool, verifying_context
from reconciler.alma.credentials import ApiKey
from reconciler.alma.regions import require_safe_url
from reconciler.alma.wire import exchange, request_head
from reconciler.errors import AlmaCall, AlmaNetworkError

JSON_TYPE = "application/json"
USER_AGENT = f"alma-groups/{__version__}"


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


class HttpTransport:
    """`Transport` over keep-alive HTTP/1.1 connections: JSON in and out, key in a header."""

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
        https = parts.scheme == "https"
        default_port = 443 if https else 80
        port = parts.port or default_port
        named = f"[{self._host}]" if ":" in self._host else self._host  # an IPv6 literal
        self._host_header = named if port == default_port else f"{named}:{port}"
        # one kept connection per worker thread; a burst beyond it opens one that is not kept
        self._pool = ConnectionPool(
            self._host, port, keep=pool_size, tls=verifying_context() if https else None
        )

    def __repr__(self) -> str:
        return f"HttpTransport({self._api_root!r})"

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
        target = self._base_path + path + (f"?{query_string(params)}" if params else "")
        if data is None and method in ("POST", "PUT", "PATCH"):
            data = b""  # an empty body still says so, as servers expect of these methods
        head = request_head(
            method, target, self._host_header, headers, None if data is None else len(data)
        )
        connection: socket.socket | None = None
        reusable = False
        try:
            connection = self._pool.take(min(self._timeouts.connect, left))
            answer = exchange(
                connection,
                head,
                data,
                head_only=method == "HEAD",
                deadline=deadline,
                read_timeout=self._timeouts.read,
            )
            reusable = answer.reusable
        except TimeoutError as error:
            if time.monotonic() >= deadline:  # the whole call's budget, not one quiet read
                raise self._timed_out(method, path) from error
            raise _network_error(method, path, error, self._host) from error
        except OSError as error:  # BrokenAnswer is a ConnectionError
            raise _network_error(method, path, error, self._host) from error
        finally:
            if connection is not None:
                if reusable:
                    self._pool.give_back(connection)
                else:
                    connection.close()  # half-read or closing: it cannot carry another call
        answer_headers = {name: self._scrub(value) for name, value in answer.headers.items()}
        body = self._inflated(answer.body, answer_headers.get("content-encoding", ""), method, path)
        return TransportResponse(
            status=answer.status, headers=answer_headers, body=self._scrub_bytes(body)
        )

    def _inflated(self, body: bytes, encoding: str, method: str, path: str) -> bytes:
        """The body as sent before a gateway compressed it (we asked for `identity`)."""
        encoding = encoding.strip().lower()
        if encoding in ("", "identity"):
            return body
        if encoding not in ("gzip", "x-gzip", "deflate"):
            raise self._undecodable(method, path, f"an answer encoded as {encoding!r}")
        # 47: a gzip or zlib header, detected; -15: deflate without a header, as some send
        for window in (47, -15):
            inflater = zlib.decompressobj(window)
            try:
                inflated = inflater.decompress(body, MAX_INFLATED_BYTES)
            except zlib.error:
                continue
            if inflater.unconsumed_tail:
                raise self._undecodable(
                    method, path, f"an answer inflating past {MAX_INFLATED_BYTES:,} bytes"
                )
            if inflater.eof:  # a whole stream, not bytes that merely began like one
                return inflated
        raise self._undecodable(method, path, f"a {encoding} answer that does not inflate")

    def _undecodable(self, method: str, path: str, what: str) -> AlmaNetworkError:
        return AlmaNetworkError(
            AlmaCall(method, path), status=None, alma_message=f"{what}: {self._host}"
        )

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


MAX_INFLATED_BYTES = 256 << 20  # a compressed answer larger than this is refused, not inflated
REDACTED = "****"
MIN_SCRUBBED_KEY = 8


_PLAIN = frozenset(string.ascii_letters + string.digits + "_.-~")


def query_string(params: Mapping[str, str]) -> str:
    """`urlencode(params)`: the form encoding a browser (and requests) sends, spaces as "+",
    "~" left alone. Names and values that need no quoting (limit=100, offset=500) are left
    as they are instead of being quoted one by one: about half the cost of a call's query."""
    return "&".join(f"{_quoted(name)}={_quoted(value)}" for name, value in params.items())


def _quoted(text: str) -> str:
    return text if _PLAIN.issuperset(text) else quote_plus(text, safe="")


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


def _network_error(method: str, path: str, error: OSError, host: str) -> AlmaNetworkError:
    # only the kind of failure and the host go into our message, never the path or query
    # (user searches); the original stays chained. A refused connection, a dropped or cut
    # short answer and a name that does not resolve all mean the host could not be reached.
    if isinstance(error, TimeoutError):
        what = "timed out"
    elif isinstance(error, ssl.SSLCertVerificationError):
        what = "certificate not trusted"
    elif isinstance(error, ConnectionError | socket.gaierror):  # BrokenAnswer among them
        what = "connection failed or dropped"
    else:
        what = "request failed"
    return AlmaNetworkError(
        AlmaCall(method, path),
        status=None,
        alma_message=f"{what}: {host} ({type(error).__name__})",
    )
