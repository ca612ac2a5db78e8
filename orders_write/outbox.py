"""Append events to the outbox inside the command's transaction, and nudge after commit.

Correlation ties together every event caused by one request (set by the caller with
``correlated``); causation is the command that produced the event. The nudge runs
``settings.OUTBOX_NUDGE`` once per committed command, never before commit, so a projection
woken by it always finds the events.

Every transaction that appends holds the outbox writers' lock, taken first thing in it
(``writer_lock``, which the ``command`` decorator opens): the drain waits for the transactions
holding it and for no others (ADR 0015). ``append`` refuses to run without it.
"""

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string

from config.databases import write_alias
from events import Event, encode
from observability.context import note_events
from observability.tracing import current_traceparent
from orders_write import clock
from orders_write.models import OutboxEvent
from orders_write.models.guard import require_write_scope
from orders_write.models.inserts import insert_rows
from orders_write.models.outbox import OUTBOX_WRITER_LOCK

_correlation_id: ContextVar[uuid.UUID | None] = ContextVar("correlation_id", default=None)

# Taking the lock also reads whether the transaction already has an id: taken after a write, the
# lock would come too late for the horizon's argument (ADR 0015).
_TAKE_WRITER_LOCK = "SELECT pg_current_xact_id_if_assigned() IS NULL, pg_advisory_xact_lock_shared(%s)"
_WRITER_LOCK_HELD = "outbox_writer_lock_held"  # attribute of the connection, while ``writer_lock`` is open


class WriterLockError(RuntimeError):
    """The outbox was written without the writers' lock, or the lock was taken too late."""


@contextmanager
def writer_lock() -> Iterator[None]:
    """Hold the outbox writers' lock for the rest of the current transaction; open it first thing.

    On PostgreSQL: ``pg_advisory_xact_lock_shared(OUTBOX_WRITER_LOCK)``, refused when the
    transaction already wrote something (it has a transaction id). Writers share the lock, so they
    never wait for one another; it is released when the transaction ends. On SQLite (one writer at
    a time) there is nothing to take. Either way the connection is marked for ``append`` while
    the block runs.
    """
    connection = transaction.get_connection(write_alias())
    if not connection.in_atomic_block:
        raise WriterLockError("the outbox writer lock is taken inside a transaction (it lasts until its end)")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_TAKE_WRITER_LOCK, [OUTBOX_WRITER_LOCK])
            first = cursor.fetchone()[0]
        if not first and not _inside_a_test_case(connection):
            raise WriterLockError(
                "the outbox writer lock must be the first thing a transaction takes, before any write "
                "(it already has a transaction id)"
            )
    held_before = getattr(connection, _WRITER_LOCK_HELD, False)
    setattr(connection, _WRITER_LOCK_HELD, True)
    try:
        yield
    finally:
        setattr(connection, _WRITER_LOCK_HELD, held_before)


def _inside_a_test_case(connection: Any) -> bool:
    """Say whether the transaction is a Django ``TestCase``'s (which may have written fixtures first).

    Such a transaction never commits, so nothing drains its rows; ``durable=True`` makes the same
    exception.
    """
    return any(getattr(block, "_from_testcase", False) for block in connection.atomic_blocks)


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
    connection = transaction.get_connection(write_alias())
    if not connection.in_atomic_block:
        raise RuntimeError("outbox.append must run inside the command's transaction")
    require_write_scope("outbox.append")
    if not getattr(connection, _WRITER_LOCK_HELD, False):
        raise WriterLockError(
            "outbox.append without the outbox writer lock: run it in a command (orders_write.services) "
            "or open orders_write.outbox.writer_lock() first thing in the transaction"
        )
    command_id = uuid.uuid4()
    correlation_id = _correlation_id.get() or command_id
    occurred_at = clock.now()
    label = actor_label(actor)
    traceparent = current_traceparent()  # None unless tracing is on (ADR 0024)
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
            traceparent,
        )
        for event, version in events
    ]
    position = _insert(rows)
    note_events([row[0] for row in rows], correlation_id)
    # robust: a failing nudge must not make a committed command look failed to its caller.
    transaction.on_commit(_nudge, using=connection.alias, robust=True)
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
    "traceparent",
)


def _insert(rows: list[tuple]) -> int:
    """Insert the rows in one statement (``txid`` keeps its default) and return the highest position."""
    return max(insert_rows(OutboxEvent, _COLUMNS, rows))


def _nudge() -> None:
    import_string(settings.OUTBOX_NUDGE)()
