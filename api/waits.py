"""Read-your-writes waits, capped per user in each web process (ADR 0023).

A query with ``min_position`` the read side has not reached holds a worker thread for up to
``READ_YOUR_WRITES_TIMEOUT`` seconds. Threads are the scarce thing, and they are a process's own,
so the cap is per process: one user may hold at most ``READ_YOUR_WRITES_MAX_WAITS_PER_USER`` of
a process's threads waiting; a further wait is refused at once with 429 ``throttled`` and
``Retry-After``, and the other users' requests keep their threads. The count lives in memory,
so it costs no query and cannot leak past the process.
"""

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from rest_framework.exceptions import Throttled

_lock = threading.Lock()
_waiting: Counter = Counter()


@contextmanager
def wait_slot(user_key: object) -> Iterator[None]:
    """Hold one of ``user_key``'s wait slots for the block; raise ``Throttled`` when none is free."""
    limit = settings.READ_YOUR_WRITES_MAX_WAITS_PER_USER
    with _lock:
        if _waiting[user_key] >= limit:
            raise Throttled(wait=1, detail=f"at most {limit} read-your-writes waits per user at a time; retry shortly")
        _waiting[user_key] += 1
    try:
        yield
    finally:
        with _lock:
            _waiting[user_key] -= 1
            if not _waiting[user_key]:
                del _waiting[user_key]
