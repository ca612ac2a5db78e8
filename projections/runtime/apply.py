"""The one place a consumer is handed events: undecodable events refused, then ``apply``.

Every path that feeds a consumer (the drain, a parked stream's retry, rebuild, verify) goes
through ``apply_events``, and every path that replays the log reads it with ``batches``.
"""

from collections.abc import Collection, Iterator, Sequence
from typing import Any

from projections.runtime.consumer import Consumer
from projections.store import Batch, Position, StoredEvent, event_store, raise_if_undecodable


def apply_events(consumer: Consumer, events: Sequence[StoredEvent], cursor: Any) -> None:
    """Apply ``events`` (drain order); an undecodable one fails here, so its stream alone is parked."""
    raise_if_undecodable(events)
    consumer.apply(events, cursor)


def batches(
    *, after: Position, event_types: Collection[str], limit: int, until: Position | None = None
) -> Iterator[Batch]:
    """Yield the log in drain order after ``after`` (up to ``until`` inclusive), batch by batch.

    Each batch is read when the caller asks for it, outside any transaction of the caller's. A
    batch may be empty yet move on (from one timeline to the next); the log ends at the first
    batch that is short and does not move on.
    """
    store = event_store()
    while True:
        batch = store.read_batch(after=after, event_types=event_types, limit=limit)
        events = [event for event in batch.events if until is None or event.drain_position <= until]
        if len(events) < len(batch.events) or (until is not None and batch.end > until):
            if events:
                yield Batch(events, events[-1].drain_position)
            return  # reached ``until``
        if batch.events or batch.end != after:
            yield batch
        if not batch.more(limit) or batch.end == after:
            return
        after = batch.end
