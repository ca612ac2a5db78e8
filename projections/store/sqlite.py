"""The event store on SQLite (the quick start): position order is commit order.

SQLite runs one writer at a time and each commits before the next begins, so a reader that
moves by ``position`` never skips a late commit, and a database file has one timeline.
"""

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from projections.store.base import COLUMNS, HEAD, EventStoreBase
from projections.store.events import Batch, Position, StoredEvent, aware, stored_event
from projections.store.timelines import Timeline


def _types(event_types: Collection[str]) -> tuple[str, list[str]]:
    types = sorted(event_types)
    return "(" + ", ".join(["%s"] * len(types)) + ")", types


def _stored(row: Sequence[Any]) -> StoredEvent:
    """The stored event of a row read as ``event_id, COLUMNS``: SQLite keeps a UUID as 32 hex digits."""
    return stored_event(1, 0, uuid.UUID(row[0]), row[1:])


class SqliteEventStore(EventStoreBase):
    def timelines(self) -> tuple[list[Timeline], int]:
        return [Timeline(1, 0, 0, 0)], 0

    def read_batch(self, *, after: Position, event_types: Collection[str], limit: int) -> Batch:
        placeholders, types = _types(event_types)
        with self.connection.cursor() as cursor:
            cursor.execute(
                f"SELECT event_id, {COLUMNS} FROM outbox_event WHERE position > %s AND event_type IN {placeholders} "
                "ORDER BY position LIMIT %s",
                [after.position, *types, limit],
            )
            events = [_stored(row) for row in cursor.fetchall()]
        return Batch(events, events[-1].drain_position if events else after)

    def readable_since(self, *, since: int | None) -> tuple[int, bool]:
        """Return the head, and whether it moved from ``since``: position order is commit order here."""
        head = self.head()
        return head, head != since

    def read_stream(
        self, *, aggregate_type: str, aggregate_id: int, from_position: int, event_types: Collection[str]
    ) -> list[StoredEvent]:
        placeholders, types = _types(event_types)
        with self.connection.cursor() as cursor:
            cursor.execute(
                f"SELECT event_id, {COLUMNS} FROM outbox_event WHERE aggregate_type = %s AND aggregate_id = %s "
                f"AND position >= %s AND event_type IN {placeholders} ORDER BY aggregate_version",
                [aggregate_type, aggregate_id, from_position, *types],
            )
            return [_stored(row) for row in cursor.fetchall()]

    def lag(
        self, *, after: Position, event_types: Collection[str], timelines: Any = None, scan: int | None = None
    ) -> tuple[int, datetime | None]:
        placeholders, types = _types(event_types)
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT COUNT(*), MIN(occurred_at) FROM outbox_event "
                f"WHERE position > %s AND event_type IN {placeholders}",
                [after.position, *types],
            )
            count, oldest = cursor.fetchone()
        return count, aware(oldest)

    def lags(
        self, wanted: Sequence[tuple[Position, Collection[str]]], *, timelines: Any, scan: int
    ) -> list[tuple[int, datetime | None]]:
        """``lag`` for each ``(after, event_types)``: SQLite is in-process, a statement each costs nothing."""
        return [self.lag(after=after, event_types=types, scan=scan) for after, types in wanted]

    def watermark(self, *, after: Position, event_types: Collection[str], scan: int, timelines: Any = None) -> int:
        placeholders, types = _types(event_types)
        with self.connection.cursor() as cursor:
            cursor.execute(
                f"SELECT COALESCE((SELECT MIN(position) - 1 FROM outbox_event WHERE position > %s "
                f"AND event_type IN {placeholders}), ({HEAD}))",
                [after.position, *types],
            )
            return cursor.fetchone()[0]

    def count(self, event_types: Collection[str]) -> int:
        placeholders, types = _types(event_types)
        with self.connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM outbox_event WHERE event_type IN {placeholders}", types)
            return cursor.fetchone()[0]
