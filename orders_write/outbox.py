"""Append events to the outbox inside the command's transaction, and nudge after commit.

Correlation ties together every event caused by one request (set by the caller with
``correlated``); causation is the command that produced the event. The nudge runs
``settings.OUTBOX_NUDGE`` once per committed command, never before commit, so a projection
woken by it always finds the events.
"""

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Field
from django.utils.module_loading import import_string

from events import Event, encode
from orders_write import clock
from orders_write.models import OutboxEvent
from orders_write.models.guard import require_write_scope

_correlation_id: ContextVar[uuid.UUID | None] = ContextVar("correlation_id", default=None)


@contextmanager
def correlated(correlation_id: uuid.UUID) -> Iterator[None]:
    """Stamp every event recorded inside the block with ``correlation_id``."""
    token = _correlation_id.set(correlation_id)
    try:
        yield
    finally:
        _correlation_id.reset(token)


def actor_label(actor: Any) -> str:
    """Return how the outbox names who acted: ``user:<pk>:<username>`` or ``system``."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return "system"
    return f"user:{actor.pk}:{actor.get_username()}"[:150]


def append(events: Sequence[tuple[Event, int]], *, actor: Any) -> int:
    """Write ``(event, aggregate_version)`` pairs as one insert; return the last position.

    Must run inside the command's transaction: the rows commit or roll back with the state.
    """
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        raise RuntimeError("outbox.append must run inside the command's transaction")
    require_write_scope("outbox.append")
    command_id = uuid.uuid4()
    correlation_id = _correlation_id.get() or command_id
    occurred_at = clock.now()
    label = actor_label(actor)
    rows = [
        (
            uuid.uuid4(),
            event.aggregate_type,
            event.aggregate_id,
            version,
            event.event_type,
            event.schema_version,
            encode(event),
            occurred_at,
            correlation_id,
            command_id,
            label,
        )
        for event, version in events
    ]
    position = _insert(connection, rows)
    # robust: a failing nudge must not make a committed command look failed to its caller.
    transaction.on_commit(_nudge, robust=True)
    return position


_COLUMNS = (
    "event_id",
    "aggregate_type",
    "aggregate_id",
    "aggregate_version",
    "event_type",
    "schema_version",
    "payload",
    "occurred_at",
    "correlation_id",
    "causation_id",
    "actor",
)


@cache
def _fields() -> tuple[Field, ...]:
    return tuple(OutboxEvent._meta.get_field(name) for name in _COLUMNS)


def _insert(connection: Any, rows: list[tuple]) -> int:
    """Insert the rows in one statement and return the highest position given.

    Every command runs this, and ``bulk_create`` (model instances, its per-object preparation
    passes) cost about as much CPU as the insert's round trip. The fields still prepare each
    value for the database (jsonb on PostgreSQL, text on SQLite); ``txid`` keeps its default.
    """
    fields = _fields()
    quote = connection.ops.quote_name
    row_sql = "(" + ", ".join(["%s"] * len(fields)) + ")"
    sql = (
        f"INSERT INTO {quote(OutboxEvent._meta.db_table)} ({', '.join(quote(f.column) for f in fields)})"
        f" VALUES {', '.join([row_sql] * len(rows))} RETURNING {quote(OutboxEvent._meta.pk.column)}"
    )
    params = [
        field.get_db_prep_save(value, connection) for row in rows for field, value in zip(fields, row, strict=True)
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return max(position for (position,) in cursor.fetchall())


def _nudge() -> None:
    import_string(settings.OUTBOX_NUDGE)()


def nudge_nothing() -> None:
    """Do nothing: the default nudge until projections register their own."""
