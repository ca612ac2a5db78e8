"""What both event stores spell the same way: the head and one aggregate's history."""

from datetime import datetime
from typing import Any

COLUMNS = (
    "position, aggregate_type, aggregate_id, aggregate_version, event_type, schema_version, payload, occurred_at, "
    "correlation_id, traceparent"
)
HEAD = "SELECT COALESCE(MAX(position), 0) FROM outbox_event"
_HISTORY = """
    SELECT position, aggregate_version, event_type, schema_version, payload, occurred_at, actor, correlation_id
    FROM outbox_event
    WHERE aggregate_type = %s AND aggregate_id = %s{until}
    ORDER BY aggregate_version
"""


class EventStoreBase:
    def __init__(self, connection: Any) -> None:
        self.connection = connection

    def head(self) -> int:
        """Return the highest position stored (committed), 0 for an empty outbox."""
        with self.connection.cursor() as cursor:
            cursor.execute(HEAD)
            return cursor.fetchone()[0]

    def history(self, *, aggregate_type: str, aggregate_id: int, until: datetime | None) -> list[tuple]:
        """Return the aggregate's rows ``(position, version, type, schema, payload, occurred_at, actor,
        correlation_id)`` in version order, up to ``until`` (aware) when given."""
        params: list[Any] = [aggregate_type, aggregate_id]
        if until is not None:
            params.append(self.connection.ops.adapt_datetimefield_value(until))  # naive UTC text on SQLite
        with self.connection.cursor() as cursor:
            cursor.execute(_HISTORY.format(until="" if until is None else " AND occurred_at <= %s"), params)
            return cursor.fetchall()
