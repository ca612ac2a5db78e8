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
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string

from events import Event, encode
from orders_write import clock
from orders_write.models import OutboxEvent
from orders_write.models.guard import require_write_scope
from orders_write.models.inserts import insert_rows

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
    position = _insert(rows)
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


def _insert(rows: list[tuple]) -> int:
    """Insert the rows in one statement (``txid`` keeps its default) and return the highest position."""
    return max(insert_rows(OutboxEvent, _COLUMNS, rows))


def _nudge() -> None:
    import_string(settings.OUTBOX_NUDGE)()


def nudge_nothing() -> None:
    """Do nothing: the default nudge until projections register their own."""
