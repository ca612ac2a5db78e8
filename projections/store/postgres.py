"""The event store on PostgreSQL: commit order from ``(txid, position)``, across timelines.

Positions come from a sequence and are taken before commit, so reading ``position > N`` would
skip a late commit. Each row records its writing transaction (``txid``, xid8): rows below the
horizon (``projections.store.horizon``, ADR 0015) can no longer be joined by a late commit, so
reading them in ``(txid, position)`` order after a checkpoint never skips one (ADR 0008).

Transaction ids belong to one cluster. A dump restored into another cluster (or a promoted
logical replica) keeps the rows' old ``txid`` values while new rows get the new cluster's,
which may be lower. ``outbox_timeline`` records each cluster the outbox has lived on: the
first connection to a new cluster registers it (``orders_write.timelines``) before anything
is written there, with the highest position then stored. A timeline's events are therefore the
positions above its boundary and up to the next timeline's, and a consumer reads them timeline
by timeline (ADR 0017). Every statement against the outbox on PostgreSQL is in this module.
"""

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from config.limits import MAX_BIGINT
from projections.store.base import COLUMNS, EventStoreBase
from projections.store.events import Batch, Position, StoredEvent, stored_event
from projections.store.horizon import HORIZON, horizon, lock_key_parameters
from projections.store.timelines import Timeline, span_of

_BINARY_COLUMNS = COLUMNS.replace("payload", "payload::text")

# ORDER BY names the table's columns: a bare ``txid`` would mean the bigint output column of that
# name, which no index serves, so every batch would sort the whole backlog (ADR 0012;
# tests/projections/test_outbox_plan.py keeps the index range scan).
_BATCH = f"""
    SELECT txid::text::bigint, event_id, {_BINARY_COLUMNS}
    FROM outbox_event
    WHERE (txid, position) > (%(txid)s::text::xid8, %(position)s)
      AND txid < %(horizon)s::text::xid8
      AND position > %(low)s AND position <= %(high)s
      AND event_type = ANY(%(types)s)
    ORDER BY outbox_event.txid, outbox_event.position
    LIMIT %(limit)s
"""
_TIMELINES = """
    SELECT (SELECT system_identifier FROM pg_control_system()), id, system_identifier, first_position, first_txid
    FROM outbox_timeline RIGHT JOIN (SELECT 1) AS always_one_row ON true ORDER BY id
"""
_FIRST_TXID_ABOVE = "SELECT MIN(txid)::text::bigint FROM outbox_event WHERE position > %s AND position <= %s"
# Counted up to ``scan`` events per span (the health endpoints' cost stays bounded however long the
# backlog; ADR 0023), the first ones in drain order, so the oldest pending event is among them.
_LAG = """
    SELECT COUNT(*), MIN(occurred_at) FROM (
        (SELECT occurred_at FROM outbox_event
        WHERE (txid, position) > (%(txid)s::text::xid8, %(position)s)
          AND position > %(low)s AND position <= %(high)s AND event_type = ANY(%(types)s)
        ORDER BY txid, position LIMIT %(scan)s)
        UNION ALL
        (SELECT occurred_at FROM outbox_event WHERE position > %(high)s AND event_type = ANY(%(types)s)
        ORDER BY position LIMIT %(scan)s)
    ) AS pending
"""
# Beyond ``scan`` pending events the watermark is taken from the first ones in drain order: only
# events of concurrent transactions interleave out of position order, and a reader never scans a
# whole backlog.
_WATERMARK = """
    SELECT LEAST(
        (SELECT MIN(position) - 1 FROM (
            SELECT position FROM outbox_event
            WHERE (txid, position) > (%(txid)s::text::xid8, %(position)s)
              AND position > %(low)s AND position <= %(high)s AND event_type = ANY(%(types)s)
            ORDER BY txid, position LIMIT %(scan)s) AS pending),
        (SELECT MIN(position) - 1 FROM outbox_event WHERE position > %(high)s AND event_type = ANY(%(types)s)),
        (SELECT COALESCE(MAX(position), 0) FROM outbox_event))
"""

# The feed's waiters ask once per tick, however many they are (projections.store.feed, ADR 0028):
# the horizon now, and whether an outbox row lies between the horizon they last saw and this one.
# A row becomes readable exactly when the horizon passes its txid, so the rows that became readable
# since are those rows, however their commits interleaved (one index range probe).
_BECAME_READABLE = f"""
    SELECT current.horizon, EXISTS (
        SELECT FROM outbox_event
        WHERE txid >= %(since)s::text::xid8 AND txid < current.horizon::text::xid8
    )
    FROM ({HORIZON}) AS current(horizon)
"""


class PostgresEventStore(EventStoreBase):
    def _cursor(self) -> Any:
        return self.connection.cursor()

    # --- timelines ------------------------------------------------------------------------------

    def timelines(self) -> tuple[list[Timeline], int]:
        """Return the registered timelines (oldest first) and the system identifier of this cluster.

        Read once per connection: the list changes only when a connection to another cluster
        registers it, and a connection registers its own cluster as it opens, before this read.
        """
        self.connection.ensure_connection()
        raw = self.connection.connection
        cached = getattr(self.connection, "_outbox_timelines", None)
        if cached is not None and cached[0] is raw:
            return cached[1]
        with self._cursor() as cursor:
            cursor.execute(_TIMELINES)
            rows = cursor.fetchall()
        found = ([Timeline(*row[1:]) for row in rows if row[1] is not None], rows[0][0])
        self.connection._outbox_timelines = (raw, found)
        return found

    # --- reading in commit order ----------------------------------------------------------------

    def read_batch(self, *, after: Position, event_types: Collection[str], limit: int) -> Batch:
        """Return up to ``limit`` committed events of ``event_types`` strictly after ``after``.

        Reads only ``after``'s timeline; once it is exhausted (and, on this cluster, no command
        that could still write into it is running), the batch ends at the start of the next one
        (``Batch.more``).
        """
        from projections.sql import server_side_cursor

        timelines, cluster = self.timelines()
        span = span_of(after.timeline, timelines, cluster)
        with self._cursor() as cursor:
            current_horizon = horizon(cursor)
        params = {
            "txid": str(after.txid),
            "position": after.position,
            "horizon": str(current_horizon if span.same_cluster else MAX_BIGINT),
            "low": span.low,
            "high": span.high if span.high is not None else MAX_BIGINT,
            "types": sorted(event_types),
            "limit": limit,
        }
        # Binary results: timestamps arrive as numbers, not ISO text to parse (a drain reads thousands).
        with server_side_cursor(self.connection) as cursor:
            cursor.execute(_BATCH, params, binary=True)
            events = [stored_event(after.timeline, row[0], row[1], row[2:]) for row in cursor.fetchall()]
        end = events[-1].drain_position if events else after
        if len(events) == limit or span.next is None or (span.same_cluster and current_horizon <= span.next.first_txid):
            return Batch(events, end)
        return Batch(events, self._start_of(span.next, span.after_next, current_horizon, cluster))

    def _start_of(self, timeline: Timeline, following: Timeline | None, current_horizon: int, cluster: int) -> Position:
        """Return the position just before ``timeline``'s first event in drain order.

        A command that got its transaction id before the timeline was registered may still have
        written into it (a registration on a live cluster), so the start is the lowest ``txid``
        among its stored rows, the registration's own, and (on this cluster) the horizon.
        """
        high = following.first_position if following else MAX_BIGINT
        with self._cursor() as cursor:
            cursor.execute(_FIRST_TXID_ABOVE, [timeline.first_position, high])
            lowest = cursor.fetchone()[0]
        candidates = [timeline.first_txid] + ([lowest] if lowest is not None else [])
        if timeline.system_identifier == cluster:
            candidates.append(current_horizon)
        return Position(timeline.id, max(0, min(candidates) - 1), timeline.first_position)

    def readable_since(self, *, since: int | None) -> tuple[int, bool]:
        """Return a mark of how far the log is readable now, and whether an event became readable
        since ``since`` (a mark this returned before; None: not known, so yes)."""
        with self._cursor() as cursor:
            if since is None:
                return horizon(cursor), True
            cursor.execute(_BECAME_READABLE, {**lock_key_parameters(), "since": str(since)})
            mark, found = cursor.fetchone()
        # A lower horizon than before: another cluster (a restore, a failover); wake and start again.
        return mark, found or mark < since

    def read_stream(
        self, *, aggregate_type: str, aggregate_id: int, from_position: int, event_types: Collection[str]
    ) -> list[StoredEvent]:
        """Return one aggregate's events of ``event_types`` from ``from_position`` on, in version order."""
        timelines, _ = self.timelines()
        with self._cursor() as cursor:
            cursor.execute(
                f"SELECT txid::text::bigint, event_id, {COLUMNS} FROM outbox_event "
                "WHERE aggregate_type = %s AND aggregate_id = %s AND position >= %s AND event_type = ANY(%s) "
                "ORDER BY aggregate_version",
                [aggregate_type, aggregate_id, from_position, sorted(event_types)],
            )
            return [stored_event(_timeline_of(row[2], timelines), row[0], row[1], row[2:]) for row in cursor.fetchall()]

    # --- how far behind a consumer is ------------------------------------------------------------

    def lag(
        self,
        *,
        after: Position,
        event_types: Collection[str],
        timelines: list[Timeline] | None = None,
        scan: int = MAX_BIGINT,
    ) -> tuple[int, datetime | None]:
        """Return how many events of ``event_types`` lie after ``after`` in drain order (up to ``scan``
        per timeline span), and the oldest's time.

        ``timelines`` spares the lookup when the caller already has them (one status, many consumers).
        """
        with self._cursor() as cursor:
            cursor.execute(_LAG, self._range(after, event_types, timelines) | {"scan": scan})
            return cursor.fetchone()

    def lags(
        self, wanted: Sequence[tuple[Position, Collection[str]]], *, timelines: list[Timeline], scan: int
    ) -> list[tuple[int, datetime | None]]:
        """Return ``lag`` for each ``(after, event_types)`` of ``wanted``, in one statement.

        A status reports every consumer at once (``/metrics``, ``/api/projections/``); one round trip
        instead of one per consumer keeps its cost flat as relays are added (ADR 0024). Each part is
        the same bounded statement as ``lag``, so each keeps its own index range scan.
        """
        if not wanted:
            return []
        parts, params = [], {"scan": scan}
        for index, (after, event_types) in enumerate(wanted):
            parts.append(f"(SELECT {index} AS consumer, * FROM ({_numbered(_LAG, index)}) AS lag_{index})")
            params |= {f"{key}_{index}": value for key, value in self._range(after, event_types, timelines).items()}
        with self._cursor() as cursor:
            cursor.execute(" UNION ALL ".join(parts), params)
            found = {row[0]: (row[1], row[2]) for row in cursor.fetchall()}
        return [found[index] for index in range(len(wanted))]

    def watermark(
        self, *, after: Position, event_types: Collection[str], scan: int, timelines: list[Timeline] | None = None
    ) -> int:
        """Return the highest position P such that every committed event at or below P is before ``after``."""
        with self._cursor() as cursor:
            cursor.execute(_WATERMARK, self._range(after, event_types, timelines) | {"scan": scan})
            return cursor.fetchone()[0]

    def _range(self, after: Position, event_types: Collection[str], timelines: list[Timeline] | None) -> dict[str, Any]:
        span = span_of(after.timeline, timelines if timelines is not None else self.timelines()[0], None)
        return {
            "txid": str(after.txid),
            "position": after.position,
            "low": span.low,
            "high": span.high if span.high is not None else MAX_BIGINT,
            "types": sorted(event_types),
        }

    def count(self, event_types: Collection[str]) -> int:
        with self._cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM outbox_event WHERE event_type = ANY(%s)", [sorted(event_types)])
            return cursor.fetchone()[0]


def _numbered(statement: str, index: int) -> str:
    """``statement`` with its range parameters renamed ``name_<index>`` (``scan`` is shared)."""
    for key in ("txid", "position", "low", "high", "types"):
        statement = statement.replace(f"%({key})s", f"%({key}_{index})s")
    return statement


def _timeline_of(position: int, timelines: list[Timeline]) -> int:
    """Return the id of the timeline ``position`` belongs to (the last one whose boundary is below it)."""
    found = timelines[0].id if timelines else 1
    for timeline in timelines:
        if position > timeline.first_position:
            found = timeline.id
    return found
