"""HTTP for the delivery worker: connections pinned to a vetted address, kept alive per thread.

Every POST re-vets its URL (``targets.resolve``) and goes over a connection to exactly the
address just vetted. A delivery thread keeps its connections open between deliveries, keyed by
(scheme, vetted address, port, host): a kept connection is reused only for the same key, so when
a name starts resolving elsewhere the next POST opens a new connection to the newly vetted
address (or is refused), never the old socket nor a second lookup of the name: no DNS
rebinding. A connection is dropped on any error, when the server says it will close, when its
response was not read to the end (the 64 KiB cap), when it has been idle too long, or when the
server closed it while idle; a reused connection the server closed just as the request went out
is retried once on a new one (the delivery is at-least-once anyway, under the same
``webhook-id``). stdlib ``http.client``; redirects are never followed. See ADR 0020.
"""

import http.client
import select
import socket
import ssl
import time
from collections import OrderedDict

from django.conf import settings

from webhooks.targets import Target, resolve

MAX_RESPONSE_BYTES = 64 * 1024
MAX_IDLE_SECONDS = 30  # older kept connections are closed, not trusted (a silently dropped one costs a timeout)
MAX_KEPT = 16  # per delivery thread; the least recently used goes first
# What a kept-alive connection the server closed meanwhile fails with before any response.
_STALE = (http.client.RemoteDisconnected, ConnectionResetError, ConnectionAbortedError, BrokenPipeError)

Key = tuple[str, str, int, str]


def _pinned_socket(address: str, port: int, timeout: float) -> socket.socket:
    sock = socket.create_connection((address, port), timeout)
    # http.client writes the headers and the body separately: on a kept-alive connection Nagle's
    # algorithm would hold the body back until the receiver's delayed ACK (ADR 0020).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the vetted address, never to a fresh resolution of the host (no DNS rebinding)."""

    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self.address = target.address
        self.auto_open = 0  # a closed connection is never silently reopened: the pool opens new ones

    def connect(self) -> None:
        self.sock = _pinned_socket(self.address, self.port, self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout, context=ssl.create_default_context())
        self.address = target.address
        self.auto_open = 0

    def connect(self) -> None:
        sock = _pinned_socket(self.address, self.port, self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # the certificate is the host's


def _open(target: Target) -> http.client.HTTPConnection:
    connection_class = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(target, timeout=settings.WEBHOOK_TIMEOUT_SECONDS)
    connection.connect()
    return connection


def _closed_by_server(connection: http.client.HTTPConnection) -> bool:
    """Say whether an idle connection is gone: no socket, or readable (EOF, a reset, stray bytes)."""
    if connection.sock is None:
        return True
    poller = select.poll()
    poller.register(connection.sock, select.POLLIN)
    return bool(poller.poll(0))


def _exchange(connection: http.client.HTTPConnection, target: Target, body: bytes, headers: dict[str, str]):
    """POST once; return the status and whether the connection may carry the next request."""
    connection.request("POST", target.path, body=body, headers=headers)
    response = connection.getresponse()
    response.read(MAX_RESPONSE_BYTES)  # at most this much of whatever the receiver says
    # Reusable only if the whole response was read and the server did not say it will close.
    return response.status, connection.sock is not None and response.isclosed()


class ConnectionPool:
    """One delivery thread's kept-alive connections; not to be shared between threads."""

    def __init__(self) -> None:
        self._kept: OrderedDict[Key, tuple[http.client.HTTPConnection, float]] = OrderedDict()

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        """POST ``body`` to ``url`` (re-vetted now); return the status. Redirects are not followed."""
        target = resolve(url)
        key = (target.scheme, target.address, target.port, target.host)
        connection = self._take(key)
        reused = connection is not None
        try:
            connection = connection or _open(target)
            try:
                status, reusable = _exchange(connection, target, body, headers)
            except _STALE:
                if not reused:
                    raise
                connection.close()  # the server closed it as the request went out: once more, anew
                connection = _open(target)
                status, reusable = _exchange(connection, target, body, headers)
        except BaseException:
            if connection is not None:
                connection.close()
            raise
        if reusable:
            self._keep(key, connection)
        else:
            connection.close()
        return status

    def _take(self, key: Key) -> http.client.HTTPConnection | None:
        kept = self._kept.pop(key, None)
        if kept is None:
            return None
        connection, idle_since = kept
        if time.monotonic() - idle_since > MAX_IDLE_SECONDS or _closed_by_server(connection):
            connection.close()
            return None
        return connection

    def _keep(self, key: Key, connection: http.client.HTTPConnection) -> None:
        self._kept[key] = (connection, time.monotonic())
        while len(self._kept) > MAX_KEPT:
            _, (oldest, _) = self._kept.popitem(last=False)
            oldest.close()

    def close(self) -> None:
        while self._kept:
            _, (connection, _) = self._kept.popitem()
            connection.close()

    def __len__(self) -> int:
        return len(self._kept)
