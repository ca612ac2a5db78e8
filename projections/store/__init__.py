"""The event store: every statement against the outbox, one implementation per database.

Consumers, health, read-your-writes, history, verify and rebuild all read the log through
``event_store()``; nothing else spells outbox SQL. See ADR 0016.
"""

from django.db import connections

from config.databases import write_alias
from projections.store.events import (
    START,
    Batch,
    Position,
    StoredEvent,
    UndecodableEvent,
    UndecodableEventError,
    raise_if_undecodable,
)

__all__ = [
    "START",
    "Batch",
    "Position",
    "StoredEvent",
    "UndecodableEvent",
    "UndecodableEventError",
    "event_store",
    "raise_if_undecodable",
]


def event_store():
    """Return the event store for the write database (the outbox's), as it is configured now."""
    connection = connections[write_alias()]
    if connection.vendor == "postgresql":
        from projections.store.postgres import PostgresEventStore

        return PostgresEventStore(connection)
    from projections.store.sqlite import SqliteEventStore

    return SqliteEventStore(connection)
