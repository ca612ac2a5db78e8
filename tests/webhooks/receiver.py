"""A real webhook receiver on 127.0.0.1 (``http.server`` in a thread) that records what it got.

It verifies nothing itself: tests check the recorded requests with the Standard Webhooks
reference library. ``failing`` aggregate ids get a 500; ``redirect_to`` answers every request
with a 302 there; ``stop()`` and ``start()`` take it down and bring it back on the same port.
It speaks HTTP/1.0 (a connection per request) unless ``keep_alive``; ``connections`` counts the
client connections it accepted. ``SlowLoris`` answers a byte a second, for ever.
"""

import contextlib
import json
import select
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    status: int

    @property
    def event(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    port: int = 0
    host: str = "127.0.0.1"
    keep_alive: bool = False
    failing: set[int] = field(default_factory=set)
    redirect_to: str | None = None
    delay: float = 0.0
    requests: list[Received] = field(default_factory=list)
    max_in_flight_per_order: int = 0
    max_in_flight: int = 0
    connections: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._in_flight: dict[int, int] = {}
        self._open: list[socket.socket] = []
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/hooks"

    def start(self) -> "Receiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1" if self.keep_alive else "HTTP/1.0"

            def setup(self) -> None:
                super().setup()
                with receiver._lock:
                    receiver.connections += 1
                    receiver._open.append(self.connection)

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver._handle(self, body)

            def log_message(self, *args) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        with self._lock:  # kept-alive connections too: their clients see the close
            for sock in self._open:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            self._open.clear()

    def _handle(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        event = json.loads(body)
        order = event["aggregate_id"] if event["aggregate_type"] == "order" else None
        with self._lock:
            self._in_flight[order] = self._in_flight.get(order, 0) + 1
            if order is not None:
                self.max_in_flight_per_order = max(self.max_in_flight_per_order, self._in_flight[order])
            self.max_in_flight = max(self.max_in_flight, sum(self._in_flight.values()))
        try:
            if self.delay:
                time.sleep(self.delay)
            if self.redirect_to:
                status = 302
            elif order in self.failing:
                status = 500
            else:
                status = 204
            with self._lock:
                self.requests.append(Received({k.lower(): v for k, v in handler.headers.items()}, body, status))
        finally:
            with self._lock:
                self._in_flight[order] -= 1
        handler.send_response(status)
        if self.redirect_to:
            handler.send_header("Location", self.redirect_to)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    def accepted(self) -> list[Received]:
        """The requests answered 2xx (not the failing orders' nor redirected ones)."""
        with self._lock:
            return [request for request in self.requests if 200 <= request.status < 300]


@dataclass
class Held:
    """One connection to a ``SlowLoris``: when it was accepted and when the client let go of it."""

    opened: float
    closed: float | None = None


@dataclass
class SlowLoris:
    """A receiver that reads the request, then sends its answer a byte every ``interval`` s, never ending.

    It notices at once when the client closes the connection (``Held.closed``, monotonic time).
    """

    interval: float = 1.0
    held: list[Held] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def start(self) -> "SlowLoris":
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        self._server.close()

    def in_flight(self) -> int:
        with self._lock:
            return sum(held.closed is None for held in self.held)

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            held = Held(time.monotonic())
            with self._lock:
                self.held.append(held)
            threading.Thread(target=self._trickle, args=(client, held), daemon=True).start()

    def _trickle(self, client: socket.socket, held: Held) -> None:
        answer = b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 100_000
        with client:
            try:
                client.recv(1 << 20)  # the request (small: one read holds it)
                for byte in answer:
                    client.sendall(bytes([byte]))
                    readable, _, _ = select.select([client], [], [], self.interval)
                    if readable and not client.recv(1 << 16):
                        break  # the client closed its end
                    if self._stopped.is_set():
                        break
            except OSError:
                pass
        held.closed = time.monotonic()
