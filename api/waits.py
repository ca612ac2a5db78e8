"""Waits that hold a web thread, bounded in each web process (ADR 0023, ADR 0028).

A query with ``min_position`` the read side has not reached holds a worker thread for up to
``READ_YOUR_WRITES_TIMEOUT`` seconds, and a long-poll of the event feed (``wait``) for up to 25.
Threads are the scarce thing, and they are a process's own, so the caps are per process: one
user may hold at most ``READ_YOUR_WRITES_MAX_WAITS_PER_USER`` read-your-writes waits and
``FEED_MAX_WAITS_PER_USER`` long-polls of a process's threads, and all users together at most
``READ_YOUR_WRITES_MAX_WAITS_PER_PROCESS`` and ``FEED_MAX_WAITS_PER_PROCESS``; waits of both kinds
together never take every thread of a threaded gunicorn worker (``serve_threads``), so the health
checks and other requests always find one. A further wait is
refused at once with 429 ``throttled`` and ``Retry-After``. The counts live in memory, so they
cost no query and cannot leak past the process; the gauge ``orders_waits_in_progress`` shows them.
"""

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

from django.conf import settings
from rest_framework.exceptions import Throttled

from observability.instruments import record_wait_slot

_lock = threading.Lock()
_waiting: Counter = Counter()  # (kind, user) -> waits held
_in_process: Counter = Counter()  # kind -> waits held
_threads: int | None = None  # the worker's request threads, when its server said (``serve_threads``)


def serve_threads(count: int | None) -> None:
    """Record that this process answers requests on ``count`` threads (gunicorn's ``threads``;
    None: not known): long-polls then leave at least one of them free, whatever
    ``FEED_MAX_WAITS_PER_PROCESS`` says."""
    global _threads
    _threads = count


def feed_waits_per_process() -> int:
    """Return how many long-polls this process holds at once (0: a single-threaded worker never waits)."""
    limit = settings.FEED_MAX_WAITS_PER_PROCESS
    return limit if _threads is None else max(0, min(limit, _threads - 1))


def feed_waits_held() -> int:
    """Return how many long-polls wait in this process now."""
    with _lock:
        return _in_process["long-poll"]


def read_your_writes_waits_held() -> int:
    """Return how many read-your-writes waits wait in this process now."""
    with _lock:
        return _in_process["read-your-writes"]


def wait_slot(user_key: object) -> AbstractContextManager[None]:
    """Hold one of ``user_key``'s read-your-writes wait slots, and one of the process's, for the block;
    raise ``Throttled`` when either is full."""
    return _slot(
        "read-your-writes",
        user_key,
        per_user=settings.READ_YOUR_WRITES_MAX_WAITS_PER_USER,
        per_process=settings.READ_YOUR_WRITES_MAX_WAITS_PER_PROCESS,
    )


def feed_wait_slot(user_key: object) -> AbstractContextManager[None]:
    """Hold one of ``user_key``'s long-poll slots, and one of the process's, for the block; raise
    ``Throttled`` when either is full."""
    return _slot("long-poll", user_key, per_user=settings.FEED_MAX_WAITS_PER_USER, per_process=feed_waits_per_process())


@contextmanager
def _slot(kind: str, user_key: object, *, per_user: int, per_process: int) -> Iterator[None]:
    with _lock:
        if _waiting[kind, user_key] >= per_user:
            raise Throttled(wait=1, detail=f"at most {per_user} {kind} waits per user at a time; retry shortly")
        # A single-threaded worker has no thread to keep free: there a read-your-writes wait (a
        # couple of seconds) is still served, and a long-poll never waits (``feed_waits_per_process``).
        every_thread_but_one = _threads is not None and _threads > 1 and sum(_in_process.values()) >= _threads - 1
        if _in_process[kind] >= per_process or every_thread_but_one:
            raise Throttled(wait=1, detail=f"this server is holding all the {kind} waits it can; retry shortly")
        _waiting[kind, user_key] += 1
        _in_process[kind] += 1
        record_wait_slot(kind, 1)
    try:
        yield
    finally:
        with _lock:
            _in_process[kind] -= 1
            _waiting[kind, user_key] -= 1
            if not _waiting[kind, user_key]:
                del _waiting[kind, user_key]
            record_wait_slot(kind, -1)
