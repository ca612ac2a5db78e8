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

A POST has a wall-clock deadline (``WEBHOOK_DEADLINE_SECONDS``) for the whole exchange: connect,
TLS handshake, sending, the status line, headers and body. ``http.client``'s socket timeout is
per read, so a receiver trickling a byte at a time could hold a POST for ever; here every
socket call is given only the time left before the deadline, and none starts after it
(``DeadlineExceeded``). See ADR 0027.
"""

import http.client
import ipaddress
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


class DeadlineExceeded(TimeoutError):
    """The receiver did not complete its answer before the POST's deadline."""


class _DeadlineMixin:
    """A socket whose every blocking call gets only the time left before ``deadline`` (ADR 0027).

    CPython bounds one ``connect``, ``sendall`` or TLS read/handshake call by the socket timeout
    in total; it is the *sequence* of reads that the per-call timeout leaves unbounded, hence a
    fresh timeout, the time left, before each call. ``http.client`` reads through ``makefile``
    (``recv_into``) and writes with ``sendall``; ``ssl.SSLSocket`` routes both through these too.
    """

    deadline: float = float("inf")  # time.monotonic(); set per POST

    def _arm(self) -> None:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise DeadlineExceeded("the deadline passed")
        self.settimeout(left)

    def connect(self, address):
        self._arm()
        return super().connect(address)

    def recv(self, *args):
        self._arm()
        return super().recv(*args)

    def recv_into(self, *args):
        self._arm()
        return super().recv_into(*args)

    def send(self, *args):
        self._arm()
        return super().send(*args)

    def sendall(self, *args):
        self._arm()
        return super().sendall(*args)


class _DeadlineSocket(_DeadlineMixin, socket.socket):
    pass


class _DeadlineSSLSocket(_DeadlineMixin, ssl.SSLSocket):
    pass


def _pinned_socket(address: str, port: int, deadline: float) -> socket.socket:
    family = socket.AF_INET6 if ipaddress.ip_address(address.split("%", 1)[0]).version == 6 else socket.AF_INET
    sock = _DeadlineSocket(family, socket.SOCK_STREAM)
    sock.deadline = deadline
    try:
        sock.connect((address, port))
        # http.client writes the headers and the body separately: on a kept-alive connection Nagle's
        # algorithm would hold the body back until the receiver's delayed ACK (ADR 0020).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except BaseException:
        sock.close()
        raise
    return sock


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the vetted address, never to a fresh resolution of the host (no DNS rebinding)."""

    def __init__(self, target: Target, deadline: float) -> None:
        super().__init__(target.host, target.port)
        self.address = target.address
        self.deadline = deadline
        self.auto_open = 0  # a closed connection is never silently reopened: the pool opens new ones

    def connect(self) -> None:
        self.sock = _pinned_socket(self.address, self.port, self.deadline)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, target: Target, deadline: float) -> None:
        context = ssl.create_default_context()
        context.sslsocket_class = _DeadlineSSLSocket
        super().__init__(target.host, target.port, context=context)
        self.address = target.address
        self.deadline = deadline
        self.auto_open = 0

    def connect(self) -> None:
        sock = _pinned_socket(self.address, self.port, self.deadline)
        sock.settimeout(max(self.deadline - time.monotonic(), 0.001))  # the handshake: one call, bounded
        # The certificate is the host's.
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)
        self.sock.deadline = self.deadline


def _open(target: Target, deadline: float) -> http.client.HTTPConnection:
    connection_class = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(target, deadline)
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
        """POST ``body`` to ``url`` (re-vetted now); return the status. Redirects are not followed.

        Raise ``DeadlineExceeded`` when the exchange is not over ``WEBHOOK_DEADLINE_SECONDS`` after
        the call (the name lookup is the resolver's to bound; what is left of the deadline after it
        is the exchange's).
        """
        seconds = settings.WEBHOOK_DEADLINE_SECONDS
        deadline = time.monotonic() + seconds
        target = resolve(url)
        key = (target.scheme, target.address, target.port, target.host)
        connection = self._take(key)
        reused = connection is not None
        try:
            try:
                if connection is None:
                    connection = _open(target, deadline)
                else:
                    connection.sock.deadline = deadline
                try:
                    status, reusable = _exchange(connection, target, body, headers)
                except _STALE:
                    if not reused:
                        raise
                    connection.close()  # the server closed it as the request went out: once more, anew
                    connection = _open(target, deadline)
                    status, reusable = _exchange(connection, target, body, headers)
            except TimeoutError:  # a socket timeout here is the deadline's: no call got more than what was left
                raise DeadlineExceeded(f"no complete answer within the {seconds:g} s deadline") from None
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
