"""A fake NATS server on 127.0.0.1: it sends one INFO line, then records every byte it is sent.

Enough of the protocol to see what a client sends before the server has proved anything: the
INFO line is whatever the test gives (by default no ``tls_required``, as a server, or anyone in
the middle, that wants the CONNECT line in clear would send), and ``PING`` gets a ``PONG`` so
a client's connect completes when nothing stops it.
"""

import json
import socket
import threading
from typing import Any


class FakeNats:
    def __init__(self, info: dict[str, Any] | None = None) -> None:
        self.info = {"server_id": "FAKE", "version": "2.9.10", "proto": 1, "max_payload": 1048576,
                     "auth_required": True, "headers": True, **(info or {})}  # fmt: skip
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._received = bytearray()
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._threads = [threading.Thread(target=self._accept, name="fake-nats", daemon=True)]
        self._threads[0].start()

    @property
    def received(self) -> bytes:
        with self._lock:
            return bytes(self._received)

    def _accept(self) -> None:
        self._listener.settimeout(0.1)
        while not self._stopped.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            thread = threading.Thread(target=self._serve, args=(connection,), name="fake-nats-client", daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, connection: socket.socket) -> None:
        with connection:
            connection.sendall(b"INFO " + json.dumps(self.info).encode() + b"\r\n")
            connection.settimeout(0.1)
            while not self._stopped.is_set():
                try:
                    data = connection.recv(65536)
                except TimeoutError:
                    continue
                except OSError:
                    return
                if not data:
                    return
                with self._lock:
                    self._received += data
                if b"PING\r\n" in data:
                    connection.sendall(b"PONG\r\n")

    def close(self) -> None:
        self._stopped.set()
        for thread in self._threads:
            thread.join(5)
        self._listener.close()
