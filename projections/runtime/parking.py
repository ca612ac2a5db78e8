"""Poison isolation (property 8): a stream whose events keep failing is parked, not the consumer.

When a batch fails, it is split by stream (one aggregate's events) and bisected until the
failing streams are isolated; everything else is applied and the checkpoint moves on. A
failing stream is parked with its error and traceback. Its later events are held back too,
so one order's events still apply in version order once it is released. The drain retries a
parked stream with exponential backoff (``BACKOFF``, ADR 0034) by re-reading its events from the
outbox; after ``MAX_ATTEMPTS`` it stays parked until someone runs ``retry_parked``.
"""

import traceback
from collections.abc import Sequence
from typing import Any

from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone

from projections.models import ParkedStream
from projections.runtime.apply import apply_events
from projections.runtime.backoff import Backoff
from projections.runtime.consumer import Consumer, ReceiverUnavailable
from projections.store import Position, StoredEvent, event_store

MAX_ATTEMPTS = 5
# The attempts bound the wait (MAX_ATTEMPTS - 1 doublings, then parked), so no cap and no jitter (ADR 0034).
BACKOFF = Backoff(first=2, max_attempts=MAX_ATTEMPTS)
Stream = tuple[str, int]


def held_streams(consumer: Consumer, using: str) -> set[Stream]:
    rows = ParkedStream.objects.using(using).filter(projection=consumer.name)
    return set(rows.values_list("aggregate_type", "aggregate_id"))


def apply_or_park(consumer: Consumer, events: Sequence[StoredEvent], cursor: Any, using: str) -> None:
    """Apply ``events`` (every drained batch comes here); park the streams that fail, apply the rest.

    The whole batch is tried first, as read (in drain order); only a failing batch is split
    into streams and bisected, so the common case pays nothing for the isolation.
    """
    try:
        with transaction.atomic(using=using):
            apply_events(consumer, events, cursor)
        return
    except (OperationalError, InterfaceError, ReceiverUnavailable):
        raise  # the database or a relay's receiver is failing: retry the whole batch later, park nothing
    except Exception:
        pass  # isolate the failing streams below
    streams: dict[Stream, list[StoredEvent]] = {}
    for event in events:
        streams.setdefault(event.stream, []).append(event)
    _bisect(consumer, list(streams.items()), cursor, using)


def _bisect(consumer: Consumer, streams: list[tuple[Stream, list[StoredEvent]]], cursor: Any, using: str) -> None:
    try:
        with transaction.atomic(using=using):
            apply_events(
                consumer, sorted((e for _, evs in streams for e in evs), key=lambda event: event.drain_position), cursor
            )
    except (OperationalError, InterfaceError, ReceiverUnavailable):
        raise  # the database or a relay's receiver is failing: retry the whole batch later, park nothing
    except Exception as error:
        if len(streams) == 1:
            ((stream, stream_events),) = streams
            _park(consumer, stream, stream_events[0].position, error, using)
        else:
            middle = len(streams) // 2
            _bisect(consumer, streams[:middle], cursor, using)
            _bisect(consumer, streams[middle:], cursor, using)


def _park(consumer: Consumer, stream: Stream, first_position: int, error: Exception, using: str) -> None:
    now = timezone.now()
    ParkedStream.objects.using(using).create(
        projection=consumer.name,
        aggregate_type=stream[0],
        aggregate_id=stream[1],
        first_position=first_position,
        state=ParkedStream.RETRYING,
        attempts=1,
        error=f"{type(error).__name__}: {error}"[:2000],
        traceback="".join(traceback.format_exception(error))[-20000:],
        parked_at=now,
        retry_at=BACKOFF.next_attempt(1, now),
    )


def retry_due(consumer: Consumer, cursor: Any, up_to: Position, using: str) -> int:
    """Retry the consumer's streams whose backoff has expired; return how many were released."""
    released = 0
    due = ParkedStream.objects.using(using).filter(
        projection=consumer.name, state=ParkedStream.RETRYING, retry_at__lte=timezone.now()
    )
    for parked in due:
        events = event_store().read_stream(
            aggregate_type=parked.aggregate_type,
            aggregate_id=parked.aggregate_id,
            from_position=parked.first_position,
            event_types=consumer.event_types(),
        )
        events = [e for e in events if e.drain_position <= up_to]
        try:
            with transaction.atomic(using=using):
                apply_events(consumer, events, cursor)
        except ReceiverUnavailable:
            raise  # not this stream's fault: its attempts stay as they are
        except Exception as error:
            parked.attempts += 1
            parked.error = f"{type(error).__name__}: {error}"[:2000]
            parked.traceback = "".join(traceback.format_exception(error))[-20000:]
            if BACKOFF.gives_up(attempts=parked.attempts):
                parked.state, parked.retry_at = ParkedStream.PARKED, None
            else:
                parked.retry_at = BACKOFF.next_attempt(parked.attempts, timezone.now())
            parked.save(using=using)
        else:
            parked.delete(using=using)
            released += 1
    return released


def release(*, projection: str | None = None, order_id: int | None = None, using: str) -> int:
    """Make parked streams due for retry now, with their attempts reset; return how many."""
    parked = ParkedStream.objects.using(using).all()
    if projection:
        parked = parked.filter(projection=projection)
    if order_id is not None:
        parked = parked.filter(aggregate_type="order", aggregate_id=order_id)
    return parked.update(state=ParkedStream.RETRYING, attempts=0, retry_at=timezone.now())
