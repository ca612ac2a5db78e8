"""Read-your-writes: how far the read tables behind a query are complete, and waiting for it.

A command returns the outbox position of its last event. A projection's *watermark* is the
highest position P such that every committed event at or below P that the projection handles
has been applied (or parked). It is not the checkpoint's position: the drain runs in
``(txid, position)`` order, so an event below the checkpoint's position may still be pending.
A client holding a command's position N reads its own write once the watermark reaches N.
Every event a client can know of has committed (responses are sent after commit), so events of
transactions still open never count against the watermark.

Cost: one query for the checkpoints plus one per projection, an index range of the projection's
lag on ``(txid, position)`` (capped at ``LAG_SCAN_LIMIT`` rows; see ``_WATERMARK_SQL``).
"""

import time
from collections.abc import Collection

from django.db import connections

from projections.drain import READ_DB
from projections.models import Checkpoint
from projections.outbox_reader import WRITE_DB
from projections.registry import all_projections

# Beyond this many pending events the watermark is taken from the first ones in drain order. Only
# events of transactions running concurrently ever interleave out of position order, so a lower
# position further along is not a practical concern, and a reader never scans a whole backlog.
LAG_SCAN_LIMIT = 10_000
POLL_INTERVAL_SECONDS = 0.02

_WATERMARK_SQL = {
    "postgresql": """
        SELECT COALESCE(
            (SELECT MIN(position) - 1 FROM (
                SELECT position FROM outbox_event
                WHERE (txid, position) > (%s::text::xid8, %s) AND event_type = ANY(%s)
                ORDER BY txid, position LIMIT %s) AS pending),
            (SELECT COALESCE(MAX(position), 0) FROM outbox_event))
    """,
    "sqlite": """
        SELECT COALESCE(
            (SELECT MIN(position) - 1 FROM (
                SELECT position FROM outbox_event
                WHERE position > %s AND event_type IN ({types})
                ORDER BY position LIMIT %s) AS pending),
            (SELECT COALESCE(MAX(position), 0) FROM outbox_event))
    """,
}
_HEAD_SQL = "SELECT COALESCE(MAX(position), 0) FROM outbox_event"


def watermark(names: Collection[str]) -> int:
    """Return the lowest watermark of the named projections; the outbox head when none is named."""
    connection = connections[WRITE_DB]
    if not names:
        with connection.cursor() as cursor:
            cursor.execute(_HEAD_SQL)
            return cursor.fetchone()[0]
    projections = all_projections()
    checkpoints = {
        checkpoint.projection: checkpoint
        for checkpoint in Checkpoint.objects.using(READ_DB).filter(projection__in=list(names))
    }
    lowest = None
    with connection.cursor() as cursor:
        for name in names:
            checkpoint = checkpoints.get(name) or Checkpoint(projection=name)
            types = sorted(projections[name].event_types())
            if connection.vendor == "postgresql":
                cursor.execute(
                    _WATERMARK_SQL["postgresql"],
                    [str(checkpoint.last_txid), checkpoint.last_position, types, LAG_SCAN_LIMIT],
                )
            else:
                sql = _WATERMARK_SQL["sqlite"].format(types=", ".join(["%s"] * len(types)))
                cursor.execute(sql, [checkpoint.last_position, *types, LAG_SCAN_LIMIT])
            value = cursor.fetchone()[0]
            lowest = value if lowest is None else min(lowest, value)
    return lowest


def wait_for_position(names: Collection[str], position: int, *, timeout: float) -> tuple[bool, int]:
    """Wait up to ``timeout`` seconds for the projections to apply ``position``.

    Return ``(reached, watermark)``: whether every named projection has applied every committed
    event up to ``position``, and the watermark last seen. It never drains by itself; the worker
    does, nudged by the command that wrote the event.
    """
    deadline = time.monotonic() + timeout
    while True:
        current = watermark(names)
        if current >= position or time.monotonic() >= deadline:
            return current >= position, current
        time.sleep(min(POLL_INTERVAL_SECONDS, max(0.0, deadline - time.monotonic())))
