"""The event feed: the outbox in commit order for outside readers, paged by an opaque cursor.

A page is read with the event store's batch read, so it stops at the commit horizon exactly as
the drain does (ADR 0008, 0015): an event of a transaction still open at a lower position is
never skipped, the page simply ends before it and the next page starts there. The cursor is the
store ``Position`` after the page, so paging on from it across new commits has no gap and no
duplicate. Filters on the aggregate are applied to what the batch read returns; a page scans at
most ``SCAN_BATCHES`` batches so a narrow filter over a long log still answers promptly (the
cursor then moves on with no events). See ADR 0020.
"""

import base64
import binascii
import time
from collections.abc import Collection
from dataclasses import dataclass

from projections.store import START, Position, StoredEvent, event_store

SCAN_BATCHES = 10
POLL_INTERVAL_SECONDS = 0.02  # a long-poll notices a commit within this (the feed promises 100 ms)


class InvalidFeedCursor(ValueError):
    """A cursor this feed did not give out (or one altered by hand)."""


def encode_cursor(position: Position) -> str:
    raw = f"{position.timeline}.{position.txid}.{position.position}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> Position:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        timeline, txid, position = (int(part) for part in raw.split("."))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidFeedCursor(cursor) from None
    if timeline < 1 or txid < 0 or position < 0 or max(txid, position) > 2**63 - 1:
        raise InvalidFeedCursor(cursor)
    return Position(timeline, txid, position)


@dataclass(frozen=True)
class FeedPage:
    events: list[StoredEvent]
    end: Position


def read_page(
    *,
    after: Position = START,
    event_types: Collection[str],
    aggregate_type: str | None = None,
    aggregate_id: int | None = None,
    limit: int,
) -> FeedPage:
    """Return up to ``limit`` committed events of ``event_types`` after ``after``, and where to go on."""
    store = event_store()
    found: list[StoredEvent] = []
    for _ in range(SCAN_BATCHES):
        wanted = limit - len(found)
        batch = store.read_batch(after=after, event_types=event_types, limit=wanted)
        for stored in batch.events:
            if aggregate_type is not None and stored.aggregate_type != aggregate_type:
                continue
            if aggregate_id is not None and stored.aggregate_id != aggregate_id:
                continue
            found.append(stored)
        moved = batch.end != after
        after = batch.end
        if len(found) >= limit or not moved or not batch.more(wanted):
            break
    return FeedPage(found, after)


def wait_for_page(*, wait: float, **query) -> FeedPage:
    """Read a page; while it is empty, read again until one event arrives or ``wait`` seconds pass."""
    deadline = time.monotonic() + wait
    while True:
        page = read_page(**query)
        if page.events or time.monotonic() >= deadline:
            return page
        query["after"] = page.end
        time.sleep(min(POLL_INTERVAL_SECONDS, max(0.0, deadline - time.monotonic())))
