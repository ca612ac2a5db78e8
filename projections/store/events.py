"""What the event store hands to consumers: stored events, their positions, and decoding.

A *position* says where a consumer is in the log's commit order: the timeline (which database
cluster wrote the events, ADR 0017), the writing transaction and the event's position. Tuples
compare in drain order, so ``event.drain_position <= checkpoint`` means "already read".
"""

import threading
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

import orjson

from events import Event, UnknownEventError, decode


class Position(NamedTuple):
    """A point in drain order: ``(timeline, txid, position)``; the start of the log is ``START``."""

    timeline: int
    txid: int
    position: int


START = Position(1, 0, 0)


@dataclass(frozen=True)
class UndecodableEvent:
    """Stands in for a stored event this code cannot decode (unknown type, bad payload, no upcaster).

    Decoding happens while a batch is read, before streams can be told apart; raising there
    would stall the whole consumer on one bad row. The stand-in carries the error to ``apply``
    time instead, where the runtime isolates and parks just that event's stream.
    """

    event_type: str
    schema_version: int
    error: str


class UndecodableEventError(ValueError):
    """Raised when a batch holding an ``UndecodableEvent`` is applied."""


@dataclass(frozen=True)
class StoredEvent:
    timeline: int
    txid: int
    position: int
    aggregate_type: str
    aggregate_id: int
    version: int
    occurred_at: datetime
    event: "Event | UndecodableEvent"
    event_id: uuid.UUID | None = None
    correlation_id: uuid.UUID | None = None
    traceparent: str | None = None  # the writing command's trace context, when tracing was on (ADR 0024)

    @property
    def drain_position(self) -> Position:
        """Where this event is in drain order."""
        return Position(self.timeline, self.txid, self.position)

    @property
    def stream(self) -> tuple[str, int]:
        return (self.aggregate_type, self.aggregate_id)


@dataclass(frozen=True)
class Batch:
    """Events read in drain order, and the position to resume after (it may move with no events)."""

    events: list[StoredEvent]
    end: Position

    def more(self, limit: int) -> bool:
        """Say whether reading on may find more now: a full batch, or one that moved onto the next timeline."""
        return len(self.events) == limit or self.end != (self.events[-1].drain_position if self.events else None)


def raise_if_undecodable(events: Sequence[StoredEvent]) -> None:
    """Refuse to apply a batch holding an event that could not be decoded (see ``UndecodableEvent``)."""
    for stored in events:
        if isinstance(stored.event, UndecodableEvent):
            raise UndecodableEventError(
                f"{stored.aggregate_type} {stored.aggregate_id} v{stored.version} at position {stored.position}: "
                f"cannot decode {stored.event.event_type} v{stored.event.schema_version}: {stored.event.error}"
            )


# Decoded events by event id: consumers drain the same events one after another, so the second
# reuses the first one's decoding. Outbox rows never change, so an entry never goes stale; event
# ids are random UUIDs, so a reset test database cannot alias an old entry.
_DECODED: OrderedDict[uuid.UUID, StoredEvent] = OrderedDict()
_DECODED_LIMIT = 20_000
_DECODED_LOCK = threading.Lock()  # consumers drain in threads of their own (ADR 0013)


def stored_event(timeline: int, txid: int, event_id: uuid.UUID | None, row: Sequence[Any]) -> StoredEvent:
    """Build (or reuse) the stored event of an outbox row read in ``COLUMNS`` order."""
    if event_id is not None and (cached := _DECODED.get(event_id)) is not None:
        return cached
    (position, aggregate_type, aggregate_id, version, event_type, schema_version, payload, occurred_at, correlation,
     traceparent) = row  # fmt: skip
    if isinstance(payload, str):  # SQLite (and a text cast) return JSON as text
        payload = orjson.loads(payload)
    stored = StoredEvent(
        timeline=timeline,
        txid=txid,
        position=position,
        aggregate_type=aggregate_type,
        aggregate_id=aggregate_id,
        version=version,
        occurred_at=aware(occurred_at),
        event=_decode(event_type, schema_version, payload),
        event_id=event_id,
        correlation_id=_uuid(correlation),
        traceparent=traceparent,
    )
    if event_id is not None:
        with _DECODED_LOCK:
            _DECODED[event_id] = stored
            if len(_DECODED) > _DECODED_LIMIT:
                _DECODED.popitem(last=False)
    return stored


def _uuid(value: uuid.UUID | str | None) -> uuid.UUID | None:
    """SQLite hands back UUIDs as hex text; PostgreSQL as ``uuid.UUID``."""
    return value if value is None or isinstance(value, uuid.UUID) else uuid.UUID(value)


def _decode(event_type: str, schema_version: int, payload: Any) -> Event | UndecodableEvent:
    try:
        return decode(event_type, schema_version, payload)
    except (UnknownEventError, KeyError, TypeError, ValueError, AttributeError) as error:
        return UndecodableEvent(event_type, schema_version, f"{type(error).__name__}: {error}")


def aware(value: datetime | str | None) -> datetime | None:
    """SQLite hands back UTC datetimes naive or as text; PostgreSQL aware."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value
