"""Read committed outbox events in an order that never skips a late-committing transaction.

Positions come from a sequence and are taken before commit, so position 10 may become
visible after 11. Reading ``position > checkpoint`` would then skip 10 for ever. On
PostgreSQL each row records its writing transaction (``txid``, xid8); a transaction older
than the oldest one still running (``pg_snapshot_xmin``) can no longer commit new rows, so
reading only ``txid < xmin`` in ``(txid, position)`` order is gap-free. Rows of still-open
transactions simply wait for the next drain. SQLite runs one writer at a time, and each
commits before the next begins, so there position order is commit order.
"""

import json
import threading
import uuid
from collections import OrderedDict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import connections

from events import Event, UnknownEventError, decode
from projections.sql import server_side_cursor

WRITE_DB = "default"
# Decoded events by event id: the projections drain the same events one after another, so the
# second one reuses the first one's decoding. Outbox rows never change, so an entry never goes
# stale; event ids are random UUIDs, so a reset test database cannot alias an old entry.
_DECODED: OrderedDict[uuid.UUID, "StoredEvent"] = OrderedDict()
_DECODED_LIMIT = 20_000
_DECODED_LOCK = threading.Lock()  # ``drain_all`` drains each projection in a thread of its own


@dataclass(frozen=True)
class UndecodableEvent:
    """Stands in for a stored event this code cannot decode (unknown type, bad payload, no upcaster).

    Decoding happens while a batch is read, before streams can be told apart; raising there
    would stall the whole projection on one bad row. The stand-in carries the error to ``apply``
    time instead, where the drain isolates and parks just that event's stream.
    """

    event_type: str
    schema_version: int
    error: str


class UndecodableEventError(ValueError):
    """Raised when a batch holding an ``UndecodableEvent`` is applied."""


@dataclass(frozen=True)
class StoredEvent:
    txid: int
    position: int
    aggregate_type: str
    aggregate_id: int
    version: int
    occurred_at: datetime
    event: "Event | UndecodableEvent"


_COLUMNS = "position, aggregate_type, aggregate_id, aggregate_version, event_type, schema_version, payload, occurred_at"

# ORDER BY names the table's columns: a bare ``txid`` would mean the bigint output column of that
# name, which no index serves (every batch then sorted the whole backlog: 0.9 s at 1M events).
_POSTGRES_BATCH = f"""
    SELECT txid::text::bigint, event_id, {_COLUMNS.replace("payload", "payload::text")}
    FROM outbox_event
    WHERE (txid, position) > (%s::text::xid8, %s)
      AND txid < pg_snapshot_xmin(pg_current_snapshot())
      AND event_type = ANY(%s)
    ORDER BY outbox_event.txid, outbox_event.position
    LIMIT %s
"""
_SQLITE_BATCH = f"""
    SELECT 0, {_COLUMNS}
    FROM outbox_event
    WHERE position > %s AND event_type IN ({{types}})
    ORDER BY position
    LIMIT %s
"""


def read_batch(*, after: tuple[int, int], event_types: Collection[str], limit: int) -> list[StoredEvent]:
    """Return up to ``limit`` committed events of ``event_types`` strictly after ``(txid, position)``."""
    connection = connections[WRITE_DB]
    types = sorted(event_types)
    if connection.vendor == "postgresql":
        # Binary results: timestamps arrive as numbers, not ISO text to parse (a drain reads thousands).
        with server_side_cursor(connection) as cursor:
            cursor.execute(_POSTGRES_BATCH, [str(after[0]), after[1], types, limit], binary=True)
            return [_cached(row) for row in cursor.fetchall()]
    with connection.cursor() as cursor:
        cursor.execute(_SQLITE_BATCH.format(types=", ".join(["%s"] * len(types))), [after[1], *types, limit])
        return [_stored(row) for row in cursor.fetchall()]


def _cached(row: tuple) -> "StoredEvent":
    event_id, row = row[1], (row[0], *row[2:])
    stored = _DECODED.get(event_id)
    if stored is None:
        stored = _stored(row)
        with _DECODED_LOCK:
            _DECODED[event_id] = stored
            if len(_DECODED) > _DECODED_LIMIT:
                _DECODED.popitem(last=False)
    return stored


def read_stream(
    *, aggregate_type: str, aggregate_id: int, from_position: int, event_types: Collection[str]
) -> list[StoredEvent]:
    """Return one aggregate's events of ``event_types`` from ``from_position`` on, in version order."""
    connection = connections[WRITE_DB]
    txid = "txid::text::bigint" if connection.vendor == "postgresql" else "0"
    types = sorted(event_types)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {txid}, {_COLUMNS} FROM outbox_event WHERE aggregate_type = %s AND aggregate_id = %s "
            f"AND position >= %s AND event_type IN ({', '.join(['%s'] * len(types))}) ORDER BY aggregate_version",
            [aggregate_type, aggregate_id, from_position, *types],
        )
        return [_stored(row) for row in cursor.fetchall()]


def _stored(row: tuple) -> StoredEvent:
    txid, position, aggregate_type, aggregate_id, version, event_type, schema_version, payload, occurred_at = row
    if isinstance(payload, str):  # SQLite returns JSON and datetimes (UTC) as text
        payload = json.loads(payload)
    if isinstance(occurred_at, str):
        occurred_at = datetime.fromisoformat(occurred_at).replace(tzinfo=UTC)
    return StoredEvent(
        txid=txid,
        position=position,
        aggregate_type=aggregate_type,
        aggregate_id=aggregate_id,
        version=version,
        occurred_at=occurred_at,
        event=_decode(event_type, schema_version, payload),
    )


def _decode(event_type: str, schema_version: int, payload: Any) -> Event | UndecodableEvent:
    try:
        return decode(event_type, schema_version, payload)
    except (UnknownEventError, KeyError, TypeError, ValueError, AttributeError) as error:
        return UndecodableEvent(event_type, schema_version, f"{type(error).__name__}: {error}")


def raise_if_undecodable(events: Sequence["StoredEvent"]) -> None:
    """Refuse to apply a batch holding an event that could not be decoded (see ``UndecodableEvent``)."""
    for stored in events:
        if isinstance(stored.event, UndecodableEvent):
            raise UndecodableEventError(
                f"{stored.aggregate_type} {stored.aggregate_id} v{stored.version} at position {stored.position}: "
                f"cannot decode {stored.event.event_type} v{stored.event.schema_version}: {stored.event.error}"
            )


def head_position() -> int:
    """Return the highest position written so far (committed or not), 0 for an empty outbox."""
    with connections[WRITE_DB].cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(position), 0) FROM outbox_event")
        return cursor.fetchone()[0]
