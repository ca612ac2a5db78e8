"""Drain the outbox into a projection: batch by batch, exactly once, one drainer at a time.

Each batch is one transaction on the read database that locks the projection's checkpoint
row (``SKIP LOCKED``: a second drainer simply finds nothing to do), reads the next committed
events after it, applies them with set-based writes and moves the checkpoint, so the rows
and the checkpoint always commit together. A crash anywhere rolls the whole batch back and
the next drain starts from the same checkpoint. Events of parked streams are held back, and
a failing stream is isolated and parked (``projections.parking``) instead of stalling the rest.
"""

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from django.conf import settings
from django.db import connections, transaction
from django.utils import timezone

from projections import parking
from projections.models import Checkpoint
from projections.outbox_reader import read_batch
from projections.registry import Projection, all_projections

# The read tables and checkpoints: a database of their own when READ_DATABASE_URL is set.
READ_DB = "read" if "read" in settings.DATABASES else "default"
ANALYZE_AFTER_EVENTS = 10_000  # a catch-up this large changes the tables' shape: refresh the planner's statistics
DEFAULT_BATCH_SIZE = 2000  # catch-up speed; a nudged drain of a few events is one short batch anyway


@dataclass(frozen=True)
class BatchResult:
    events: int
    locked_elsewhere: bool = False


def _end_if_abandoned() -> None:
    """Have PostgreSQL end this batch's transaction if the drainer stops talking mid-batch.

    A drainer that freezes (a hung machine, a lost network) would otherwise hold its projection's
    checkpoint lock until TCP keepalive notices, hours later.
    """
    connection = transaction.get_connection(READ_DB)
    if connection.vendor == "postgresql":
        seconds = int(settings.PROJECTION_BATCH_IDLE_TIMEOUT)
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL idle_in_transaction_session_timeout = '{seconds}s'")


def ensure_checkpoints(names: list[str] | None = None) -> None:
    """Create missing checkpoint rows (at the start of the log) for the given projections."""
    names = names or list(all_projections())
    Checkpoint.objects.using(READ_DB).bulk_create(
        [Checkpoint(projection=name) for name in names], ignore_conflicts=True
    )


def drain(name: str, *, batch_size: int = DEFAULT_BATCH_SIZE) -> int:
    """Apply every committed event the projection has not seen yet; return how many were read."""
    projection = all_projections()[name]
    ensure_checkpoints([name])
    return _drain_to_head(projection, batch_size)


def _drain_to_head(projection: Projection, batch_size: int, pacer: "_Pacer | None" = None) -> int:
    total = 0
    while True:
        result = drain_batch(projection, batch_size=batch_size)
        total += result.events
        if result.locked_elsewhere or result.events < batch_size:
            return total
        if pacer:
            pacer.wait_for_others(projection.name)


class _Pacer:
    """Keeps concurrent drain threads at most one batch apart, so they share decoded events.

    Left alone, the faster projection runs ahead of the slower by more than the decoded-event
    cache holds, and every event is decoded twice (a fifth of the drain's CPU).
    """

    def __init__(self, names: list[str]) -> None:
        self._batches = dict.fromkeys(names, 0)
        self._changed = threading.Condition()

    def wait_for_others(self, name: str) -> None:
        with self._changed:
            self._batches[name] += 1
            self._changed.notify_all()
            self._changed.wait_for(lambda: self._batches[name] <= min(self._batches.values()) + 1)

    def finished(self, name: str) -> None:
        with self._changed:
            self._batches.pop(name)
            self._changed.notify_all()


def analyze(projection: Projection) -> None:
    """Give the planner fresh statistics for the projection's tables (autovacuum may be off or behind).

    Without them, after a bulk catch-up PostgreSQL estimated rows 3-7x low and picked slow plans
    for the dashboard and the lag queries (bench/pages.md).
    """
    connection = transaction.get_connection(READ_DB)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for table in projection.tables:
                cursor.execute(f"ANALYZE {projection.t(table)}")


def drain_all(*, batch_size: int = DEFAULT_BATCH_SIZE) -> dict[str, int]:
    """Drain every projection to the head; return events read per projection.

    On PostgreSQL each projection drains in a thread of its own, on its own connections: the
    projections have separate checkpoints, so their batches are separate transactions anyway, and
    while one thread waits for the database (a third of a batch's time) the other folds its
    events. The threads move along the same stretch of the log, so the slower one finds the
    events already decoded (``outbox_reader``). SQLite allows one writer at a time, so there the
    projections take turns, one batch each.
    """
    projections = all_projections()
    ensure_checkpoints(list(projections))
    if transaction.get_connection(READ_DB).vendor != "postgresql":
        return _drain_taking_turns(list(projections.values()), batch_size)
    pacer = _Pacer(list(projections))
    with ThreadPoolExecutor(max_workers=len(projections), thread_name_prefix="drain") as pool:
        running = {name: pool.submit(_drain_in_thread, p, batch_size, pacer) for name, p in projections.items()}
        return {name: future.result() for name, future in running.items()}


def _drain_in_thread(projection: Projection, batch_size: int, pacer: _Pacer) -> int:
    try:
        return _drain_to_head(projection, batch_size, pacer)
    finally:
        pacer.finished(projection.name)
        connections.close_all()  # this thread's own connections: nothing else would ever close them


def _drain_taking_turns(projections: list[Projection], batch_size: int) -> dict[str, int]:
    totals = {projection.name: 0 for projection in projections}
    behind = projections
    while behind:
        still_behind = []
        for projection in behind:
            result = drain_batch(projection, batch_size=batch_size)
            totals[projection.name] += result.events
            if not result.locked_elsewhere and result.events == batch_size:
                still_behind.append(projection)
        behind = still_behind
    return totals


def drain_batch(projection: Projection, *, batch_size: int) -> BatchResult:
    """Apply at most ``batch_size`` events in one transaction with the checkpoint."""
    with transaction.atomic(using=READ_DB):
        _end_if_abandoned()
        checkpoint = (
            Checkpoint.objects.using(READ_DB)
            .select_for_update(skip_locked=True)
            .filter(projection=projection.name)
            .first()
        )
        if checkpoint is None:
            return BatchResult(events=0, locked_elsewhere=True)
        events = read_batch(
            after=(checkpoint.last_txid, checkpoint.last_position),
            event_types=projection.event_types(),
            limit=batch_size,
        )
        now = timezone.now()
        with transaction.get_connection(READ_DB).cursor() as cursor:
            position = (checkpoint.last_txid, checkpoint.last_position)
            parking.retry_due(projection, cursor, up_to=position, using=READ_DB)
            held = parking.held_streams(projection, using=READ_DB)
            ready = [event for event in events if parking.stream_of(event) not in held]
            if ready:
                parking.apply_isolating_failures(projection, ready, cursor, using=READ_DB)
        if events:
            checkpoint.last_txid, checkpoint.last_position = events[-1].txid, events[-1].position
            checkpoint.events_applied += len(events)
            checkpoint.last_applied_at = now
        checkpoint.heartbeat_at = now
        checkpoint.save(using=READ_DB)
        return BatchResult(events=len(events))
