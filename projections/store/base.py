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
    WHERE aggregate_type = %s AND aggregate_id = %s{until}{after}
    ORDER BY aggregate_version{limit}
"""


class EventStoreBase:
    def __init__(self, connection: Any) -> None:
        self.connection = connection

    def head(self) -> int:
        """Return the highest position stored (committed), 0 for an empty outbox."""
        with self.connection.cursor() as cursor:
            cursor.execute(HEAD)
            return cursor.fetchone()[0]

    def history(
        self,
        *,
        aggregate_type: str,
        aggregate_id: int,
        until: datetime | None,
        after_version: int = 0,
        limit: int | None = None,
    ) -> list[tuple]:
        """Return the aggregate's rows ``(position, version, type, schema, payload, occurred_at, actor,
        correlation_id)`` in version order, up to ``until`` (aware) when given; a page of at most
        ``limit`` rows above ``after_version`` when given (the API's history pages, ADR 0023)."""
        params: list[Any] = [aggregate_type, aggregate_id]
        if until is not None:
            params.append(self.connection.ops.adapt_datetimefield_value(until))  # naive UTC text on SQLite
        if after_version:
            params.append(after_version)
        if limit is not None:
            params.append(limit)
        sql = _HISTORY.format(
            until="" if until is None else " AND occurred_at <= %s",
            after=" AND aggregate_version > %s" if after_version else "",
            limit=" LIMIT %s" if limit is not None else "",
        )
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
