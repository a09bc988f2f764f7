"""Keep-alive connections to one Alma host, shared by a client's worker threads.

Design decisions:
- A connection is a plain socket (TLS-wrapped for https); `reconciler.alma.wire` speaks HTTP
  on it, and this module only opens and keeps it between calls. A pool is a stack of idle
  connections: the one used last is handed out first, because it is the least likely to
  have been closed by the server.
- At most `keep` idle connections are kept. A burst beyond that opens a connection that is
  closed after its call rather than waiting for one to come back (as urllib3's `block=False`
  did before, issue 11).
- A kept connection that has become readable while idle has either been closed by the server
  (keep-alive timeout) or holds bytes nobody asked for; either way it cannot carry a call and
  is closed instead of reused. `poll`, not `select`: with hundreds of connections open, socket
  numbers pass `select`'s limit of 1,024.
- Every connection sends without Nagle's delay (`TCP_NODELAY`): a request goes out in one
  write, and never waits for the server's delayed acknowledgement of the one before.
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

import certifi


@cache
def verifying_context() -> ssl.SSLContext:
    """TLS that checks the certificate chain (certifi's CAs) and the host name.

    One for the process: loading certifi's bundle takes about 36 ms, and every institution's
    transport asks for it as a read of all 40 starts. A context is safe to share between
    threads and connections. ALPN offers http/1.1 alone, the only protocol `wire` speaks.
    """
    context = ssl.create_default_context(cafile=certifi.where())
    context.set_alpn_protocols(["http/1.1"])
    return context


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
        self._idle: deque[socket.socket] = deque()
        self._lock = threading.Lock()
        self._closed = False

    def take(self, connect_timeout: float) -> socket.socket:
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

    def give_back(self, connection: socket.socket) -> None:
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

    def _connect(self, timeout: float) -> socket.socket:
        sock = socket.create_connection((self.host, self.port), timeout=timeout)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.tls is not None:
                # checks the chain and that the certificate names `host`
                sock = self.tls.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise
        return sock


def _usable(sock: socket.socket) -> bool:
    """Still connected and silent, as an idle keep-alive connection should be."""
    if sock.fileno() < 0:
        return False
    try:
        poller = select.poll()
        poller.register(sock, select.POLLIN | select.POLLERR | select.POLLHUP)
        return not poller.poll(0)
    except (OSError, ValueError):  # closed under us: the descriptor is gone
        return False
