"""An asyncio loop on a thread of its own, for the life of the process.

The runtime calls a relay's ``apply`` synchronously, from a drain thread that lives for one
drain. The NATS connection must outlive those threads (one connection per relay and process,
its pings and reads running between batches), so it lives on this loop and each batch is handed
to it (``run``). After a fork (django-q2's workers) the thread is gone: the child starts its own.
"""

import asyncio
import os
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class BackgroundLoop:
    def __init__(self, name: str) -> None:
        self._name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pid: int | None = None
        self._started = threading.Lock()

    def loop(self) -> asyncio.AbstractEventLoop:
        with self._started:
            if self._loop is None or self._pid != os.getpid():
                self._loop, self._pid = asyncio.new_event_loop(), os.getpid()
                threading.Thread(target=self._loop.run_forever, name=self._name, daemon=True).start()
            return self._loop

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float) -> T:
        """Run ``coroutine`` on the loop and return its result; cancel it after ``timeout`` seconds."""
        future = asyncio.run_coroutine_threadsafe(coroutine, self.loop())
        try:
            return future.result(timeout)
        except TimeoutError:
            future.cancel()
            raise
