"""The event feed: the outbox in commit order for outside readers, paged by an opaque cursor.

A page is read with the event store's batch read, so it stops at the commit horizon exactly as
the drain does (ADR 0008, 0015): an event of a transaction still open at a lower position is
never skipped, the page simply ends before it and the next page starts there. The cursor is the
store ``Position`` after the page, so paging on from it across new commits has no gap and no
duplicate. Filters on the aggregate are applied to what the batch read returns; a page scans at
most ``SCAN_BATCHES`` batches so a narrow filter over a long log still answers promptly (the
cursor then moves on with no events). See ADR 0020.

A long-poll waits without reading: while requests wait, one of them at a time asks the store once
a tick whether any event became readable (``readable_since``), and a change wakes them all to
read their pages. A process costs one statement a tick however many requests wait in it, and a
waiter notices a commit within about a tick (ADR 0028).
"""

import base64
import binascii
import threading
import time
from collections.abc import Collection
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

from projections.store import START, Position, StoredEvent, event_store

SCAN_BATCHES = 10
TICK_SECONDS = 0.02  # a long-poll notices a commit within about this (ADR 0028)


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


class Changes:
    """How a process's long-polls learn that events became readable, at one statement a tick.

    ``count`` goes up each time a check finds that an event became readable. A waiter takes the
    count *before* it reads its page, then waits for the count to move: an event that becomes
    readable after that read is found by a check that ends after it, which moves the count. No
    thread of its own: while no one else does, a waiter takes the turn to check (sleep a tick,
    one statement on its own connection) and hands it on, so nothing runs while no one waits.
    """

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._count = 0
        self._mark: int | None = None  # what the last check saw; written only by the waiter whose turn it is
        self._checking = False

    def count(self) -> int:
        with self._condition:
            return self._count

    def wait(self, *, seen: int, deadline: float) -> int:
        """Return the count once it differs from ``seen``, or ``seen`` at ``deadline`` (``time.monotonic``)."""
        while True:
            with self._condition:
                while self._checking and self._count == seen and (remaining := deadline - time.monotonic()) > 0:
                    self._condition.wait(remaining)
                if self._count != seen or time.monotonic() >= deadline:
                    return self._count
                self._checking = True
            self._check(deadline)

    def _check(self, deadline: float) -> None:
        mark, changed = self._mark, False
        try:
            time.sleep(max(0.0, min(TICK_SECONDS, deadline - time.monotonic())))
            mark, changed = event_store().readable_since(since=self._mark)
        finally:
            with self._condition:
                self._mark, self._checking = mark, False
                if changed:
                    self._count += 1
                # Everyone: the first still waiting takes the next turn (one woken but done would drop it).
                self._condition.notify_all()


changes = Changes()


def wait_for_page(
    *,
    wait: float,
    after: Position = START,
    waiting: AbstractContextManager[object] | None = None,
    **query,
) -> FeedPage:
    """Read a page; while it is empty, wait until events become readable and read again, for up to
    ``wait`` seconds.

    ``waiting`` is entered only when the request is about to wait (its first page was empty) and
    held until it answers: the caller's bound on concurrent waits, which refuses by raising.
    """
    deadline = time.monotonic() + wait
    seen = changes.count()
    page = read_page(after=after, **query)
    if page.events or time.monotonic() >= deadline:
        return page
    with waiting or nullcontext():
        while not page.events:
            if page.end == after:  # read to the horizon: wait for more to become readable
                now = changes.wait(seen=seen, deadline=deadline)
                if now == seen:
                    return page
                seen = now
            else:  # a filtered scan stopped short of the horizon: read on at once
                seen = changes.count()
            after = page.end
            page = read_page(after=after, **query)
    return page
