"""A nats-server with JetStream of the harness's own: a free port, a throw-away file store.

The machine's NATS (127.0.0.1:4222) is shared with test runs, and a drill restarts its server:
each harness starts its own, as a child like the rest of the stack (``bench/stack.py``).
"""

from __future__ import annotations

import shutil
import socket
import tempfile
import time
from pathlib import Path

from bench import stack

NATS_SERVER = shutil.which("nats-server") or "/usr/sbin/nats-server"


class NatsServer:
    def __init__(self, name: str = "nats") -> None:
        self.port = stack.free_port()
        self.store = Path(tempfile.mkdtemp(prefix=f"bench-{name}-"))
        self.url = f"nats://127.0.0.1:{self.port}"
        args = [NATS_SERVER, "-a", "127.0.0.1", "-p", str(self.port), "-js", "-sd", str(self.store)]
        self.child = stack.Child(f"{name}-{self.port}", args, {})

    def start(self, timeout: float = 20) -> NatsServer:
        self.child.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"nats-server did not answer on {self.port}:\n{self.child.log_text()[-2000:]}")

    def stop(self) -> None:
        """A clean shutdown (SIGTERM): JetStream flushes its file store first."""
        self.child.stop()

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.store, ignore_errors=True)

    def env(self) -> dict[str, str]:
        """The settings that point the stack at this server (its own: the default stream and subjects)."""
        return {"NATS_URL": self.url}
