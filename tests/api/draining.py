"""Drain until the read side has applied every committed event.

One ``drain_all()`` reads only events below the oldest transaction open anywhere on the
PostgreSQL cluster (ADR 0008), so on a server shared with other test runs it may stop short.
Query tests assert exact read-side contents, so they drain again until no projection lags.
"""

import time
from collections import Counter

from projections.runtime.loop import drain_all
from projections.runtime.status import consumer_health

SETTLE_TIMEOUT_SECONDS = 20.0


def drain_settled(timeout: float = SETTLE_TIMEOUT_SECONDS) -> dict[str, int]:
    """Drain every projection until none lags; return how many events each read in all."""
    deadline = time.monotonic() + timeout
    applied: Counter[str] = Counter()
    while True:
        applied.update(drain_all())
        lagging = {row.name: row.lag_events for row in consumer_health() if row.lag_events}
        if not lagging:
            return dict(applied)
        if time.monotonic() > deadline:
            raise AssertionError(f"projections still lag after {timeout} s of draining: {lagging}")
        time.sleep(0.05)
