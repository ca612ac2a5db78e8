"""Poison isolation (property 8): a stream whose events keep failing is parked, not the projection.

When a batch fails, it is split by stream (one aggregate's events) and bisected until the
failing streams are isolated; everything else is applied and the checkpoint moves on. A
failing stream is parked with its error and traceback. Its later events are held back too,
so one order's events still apply in version order once it is released. The drain retries a
parked stream with exponential backoff by re-reading its events from the outbox; after
``MAX_ATTEMPTS`` it stays parked until someone runs ``retry_parked``.
"""

import traceback
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone

from projections.models import ParkedStream
from projections.outbox_reader import StoredEvent, raise_if_undecodable, read_stream
from projections.registry import Projection

MAX_ATTEMPTS = 5
FIRST_BACKOFF_SECONDS = 2
Stream = tuple[str, int]


def stream_of(event: StoredEvent) -> Stream:
    return (event.aggregate_type, event.aggregate_id)


def held_streams(projection: Projection, using: str) -> set[Stream]:
    rows = ParkedStream.objects.using(using).filter(projection=projection.name)
    return set(rows.values_list("aggregate_type", "aggregate_id"))


def apply_isolating_failures(projection: Projection, events: Sequence[StoredEvent], cursor: Any, using: str) -> None:
    """Apply ``events``; park the streams that fail and apply every other stream.

    The whole batch is tried first, as read (in drain order); only a failing batch is split
    into streams and bisected, so the common case pays nothing for the isolation.
    """
    try:
        with transaction.atomic(using=using):
            _apply(projection, events, cursor)
        return
    except (OperationalError, InterfaceError):
        raise  # the database itself is failing: retry the whole batch later, park nothing
    except Exception:
        pass  # isolate the failing streams below
    streams: dict[Stream, list[StoredEvent]] = {}
    for event in events:
        streams.setdefault(stream_of(event), []).append(event)
    _bisect(projection, list(streams.items()), cursor, using)


def _bisect(projection: Projection, streams: list[tuple[Stream, list[StoredEvent]]], cursor: Any, using: str) -> None:
    try:
        with transaction.atomic(using=using):
            _apply(projection, sorted((e for _, evs in streams for e in evs), key=_drain_order), cursor)
    except (OperationalError, InterfaceError):
        raise  # the database itself is failing: retry the whole batch later, park nothing
    except Exception as error:
        if len(streams) == 1:
            ((stream, stream_events),) = streams
            _park(projection, stream, stream_events[0].position, error, using)
        else:
            middle = len(streams) // 2
            _bisect(projection, streams[:middle], cursor, using)
            _bisect(projection, streams[middle:], cursor, using)


def _apply(projection: Projection, events: Sequence[StoredEvent], cursor: Any) -> None:
    raise_if_undecodable(events)  # an undecodable event fails here, so its stream alone is parked
    projection.apply(events, cursor)


def _drain_order(event: StoredEvent) -> tuple[int, int]:
    return (event.txid, event.position)


def _park(projection: Projection, stream: Stream, first_position: int, error: Exception, using: str) -> None:
    now = timezone.now()
    ParkedStream.objects.using(using).create(
        projection=projection.name,
        aggregate_type=stream[0],
        aggregate_id=stream[1],
        first_position=first_position,
        state=ParkedStream.RETRYING,
        attempts=1,
        error=f"{type(error).__name__}: {error}"[:2000],
        traceback="".join(traceback.format_exception(error))[-20000:],
        parked_at=now,
        retry_at=now + timedelta(seconds=FIRST_BACKOFF_SECONDS),
    )


def retry_due(projection: Projection, cursor: Any, up_to: tuple[int, int], using: str) -> int:
    """Retry the projection's streams whose backoff has expired; return how many were released."""
    released = 0
    due = ParkedStream.objects.using(using).filter(
        projection=projection.name, state=ParkedStream.RETRYING, retry_at__lte=timezone.now()
    )
    for parked in due:
        events = read_stream(
            aggregate_type=parked.aggregate_type,
            aggregate_id=parked.aggregate_id,
            from_position=parked.first_position,
            event_types=projection.event_types(),
        )
        events = [e for e in events if _drain_order(e) <= up_to]
        try:
            with transaction.atomic(using=using):
                _apply(projection, events, cursor)
        except Exception as error:
            parked.attempts += 1
            parked.error = f"{type(error).__name__}: {error}"[:2000]
            parked.traceback = "".join(traceback.format_exception(error))[-20000:]
            if parked.attempts >= MAX_ATTEMPTS:
                parked.state, parked.retry_at = ParkedStream.PARKED, None
            else:
                parked.retry_at = timezone.now() + timedelta(seconds=FIRST_BACKOFF_SECONDS * 2 ** (parked.attempts - 1))
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
