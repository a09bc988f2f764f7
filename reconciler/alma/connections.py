"""Keep-alive connections to one Alma host, shared by a client's worker threads.

Design decisions:
- The standard library's `http.client` carries each call; this module only keeps its
  connections between calls. A pool is a stack of idle connections: the one used last is
  handed out first, because it is the least likely to have been closed by the server.
- At most `keep` idle connections are kept. A burst beyond that opens a connection that is
  closed after its call rather than waiting for one to come back (as urllib3's `block=False`
  did before, issue 11).
- A kept connection that has become readable while idle has either been closed by the server
  (keep-alive timeout) or holds bytes nobody asked for; either way it cannot carry a call and
  is closed instead of reused. `poll`, not `select`: with hundreds of connections open, socket
  numbers pass `select`'s limit of 1,024.
- Every connection sends without Nagle's delay (`TCP_NODELAY`), so a request in two writes never
  waits for the server's delayed acknowledgement.
- https is verified against certifi's CA bundle, with host names checked: a slim container's
  system store may be empty or stale.
"""

from __future__ import annotations

import select
import socket
import ssl
import threading
from collections import deque
from functools import cache
from http.client import HTTPConnection, HTTPSConnection

import certifi


@cache
def verifying_context() -> ssl.SSLContext:
    """TLS that checks the certificate chain (certifi's CAs) and the host name.

    One for the process: loading certifi's bundle takes about 36 ms, and every institution's
    transport asks for it as a read of all 40 starts. A context is safe to share between
    threads and connections; `HTTPSConnection` sets the same two options on it (ALPN
    http/1.1, post-handshake auth) for each connection, which changes nothing after the first.
    """
    return ssl.create_default_context(cafile=certifi.where())


class ConnectionPool:
    """Idle keep-alive connections to `host:port`, handed out one caller at a time."""

    def __init__(
        self, host: str, port: int, *, keep: int, tls: ssl.SSLContext | None = None
    ) -> None:
        if keep < 0:
            raise ValueError("keep must be 0 or more")
        self.host = host
        self.port = port
        self.tls = tls
        self._keep = keep
        self._idle: deque[HTTPConnection] = deque()
        self._lock = threading.Lock()
        self._closed = False

    def take(self, connect_timeout: float) -> HTTPConnection:
        """An open connection: a kept one that is still usable, or a new one.

        Raises what `socket` and `ssl` raise when no connection can be made.
        """
        while True:
            with self._lock:
                if not self._idle:
                    break
                connection = self._idle.pop()
            if _usable(connection):
                return connection
            connection.close()
        return self._connect(connect_timeout)

    def give_back(self, connection: HTTPConnection) -> None:
        """Keep a connection whose last answer was read to the end, or close it when full."""
        with self._lock:
            if not self._closed and len(self._idle) < self._keep:
                self._idle.append(connection)
                return
        connection.close()

    def close(self) -> None:
        """Close the idle connections; connections given back later are closed too."""
        with self._lock:
            self._closed = True
            idle, self._idle = list(self._idle), deque()
        for connection in idle:
            connection.close()

    @property
    def idle(self) -> int:
        """Connections kept for reuse right now."""
        return len(self._idle)

    def _connect(self, timeout: float) -> HTTPConnection:
        connection: HTTPConnection
        if self.tls is None:
            connection = HTTPConnection(self.host, self.port, timeout=timeout)
        else:
            connection = HTTPSConnection(self.host, self.port, timeout=timeout, context=self.tls)
        try:
            connection.connect()
            connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except BaseException:
            connection.close()
            raise
        return connection


def _usable(connection: HTTPConnection) -> bool:
    """Still connected and silent, as an idle keep-alive connection should be."""
    sock = connection.sock
    if sock is None:
        return False
    try:
        poller = select.poll()
        poller.register(sock, select.POLLIN | select.POLLERR | select.POLLHUP)
        return not poller.poll(0)
    except (OSError, ValueError):  # closed under us: the descriptor is gone
        return False
