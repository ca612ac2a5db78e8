"""Read-your-writes: how far the read tables behind a query are complete, and waiting for it.

A command returns the outbox position of its last event. A consumer's *watermark* is the
highest position P such that every committed event at or below P that it handles has been
applied (or parked). It is not the checkpoint's position: the drain runs in drain order
(``(txid, position)`` per timeline), so an event below the checkpoint's position may still be
pending. A client holding a command's position N reads its own write once the watermark reaches
N. Every event a client can know of has committed (responses are sent after commit), so events
of transactions still open never count against the watermark.

Cost: one query each for the checkpoints and the timelines, plus one per consumer, an index range of its lag capped at
``LAG_SCAN_LIMIT`` rows.
"""

import time
from collections.abc import Collection

from config.databases import read_alias
from projections.models import Checkpoint
from projections.runtime.checkpoints import position_of
from projections.runtime.registry import consumers
from projections.store import event_store

LAG_SCAN_LIMIT = 10_000
POLL_INTERVAL_SECONDS = 0.02


def watermark(names: Collection[str]) -> int:
    """Return the lowest watermark of the named consumers; the outbox head when none is named."""
    store = event_store()
    if not names:
        return store.head()
    everyone = consumers()
    timelines, _ = store.timelines()
    checkpoints = {
        checkpoint.projection: checkpoint
        for checkpoint in Checkpoint.objects.using(read_alias()).filter(projection__in=list(names))
    }
    return min(
        store.watermark(
            after=position_of(checkpoints.get(name) or Checkpoint(projection=name)),
            event_types=everyone[name].event_types(),
            scan=LAG_SCAN_LIMIT,
            timelines=timelines,
        )
        for name in names
    )


def wait_for_position(names: Collection[str], position: int, *, timeout: float) -> tuple[bool, int]:
    """Wait up to ``timeout`` seconds for the consumers to apply ``position``.

    Return ``(reached, watermark)``: whether every named consumer has applied every committed
    event up to ``position``, and the watermark last seen. It never drains by itself; the worker
    does, nudged by the command that wrote the event.
    """
    deadline = time.monotonic() + timeout
    while True:
        now_at = watermark(names)
        if now_at >= position or time.monotonic() >= deadline:
            return now_at >= position, now_at
        time.sleep(min(POLL_INTERVAL_SECONDS, max(0.0, deadline - time.monotonic())))
