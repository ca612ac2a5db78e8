"""The runtime's loop: drain each consumer batch by batch from its checkpoint, one drainer at a time.

Each batch is one transaction on the read database that locks the consumer's checkpoint row
(``SKIP LOCKED``: a second drainer simply finds nothing to do), reads the next committed events
after it, applies them and moves the checkpoint. A projection's rows and checkpoint commit
together (exactly once, ADR 0008); a relay's ``apply`` returns once its receiver acknowledged
the batch, and only then does the checkpoint move (at least once). A crash anywhere rolls the
batch back and the next drain starts from the same checkpoint. Events of parked streams are
held back, and a failing stream is isolated and parked (``runtime.parking``).
"""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass

from django.conf import settings
from django.db import connections, transaction
from django.utils import timezone

from config.databases import read_alias
from observability import tracing
from observability.batches import report_batch
from projections.models import Checkpoint
from projections.runtime import parking, receivers
from projections.runtime.checkpoints import ensure_checkpoints, move, position_of
from projections.runtime.consumer import RELAY, Consumer, Projection, ReceiverUnavailable
from projections.runtime.registry import consumers
from projections.sql import analyze_tables, on_postgresql
from projections.store import event_store

ANALYZE_AFTER_EVENTS = 10_000  # a catch-up this large changes the tables' shape: refresh the planner's statistics
DEFAULT_BATCH_SIZE = 2000  # catch-up speed; a nudged drain of a few events is one short batch anyway


@dataclass(frozen=True)
class BatchResult:
    events: int
    more: bool = False  # there may be more to read now: a full batch, or a move onto the next timeline
    locked_elsewhere: bool = False


def _end_if_abandoned(using: str) -> None:
    """Have PostgreSQL end this batch's transaction if the drainer stops talking mid-batch.

    A drainer that freezes (a hung machine, a lost network) would otherwise hold its consumer's
    checkpoint lock until TCP keepalive notices, hours later.
    """
    if on_postgresql(using):
        seconds = int(settings.PROJECTION_BATCH_IDLE_TIMEOUT)
        with connections[using].cursor() as cursor:
            cursor.execute(f"SET LOCAL idle_in_transaction_session_timeout = '{seconds}s'")


def drain(name: str, *, batch_size: int = DEFAULT_BATCH_SIZE) -> int:
    """Apply every committed event the consumer has not seen yet; return how many were read."""
    consumer = consumers()[name]
    ensure_checkpoints([name])
    return _drain_to_head(consumer, batch_size)


def _drain_to_head(consumer: Consumer, batch_size: int, pacer: "_Pacer | None" = None) -> int:
    total = 0
    while True:
        result = drain_batch(consumer, batch_size=batch_size)
        total += result.events
        if result.locked_elsewhere or not result.more:
            return total
        if pacer:
            pacer.wait_for_others(consumer.name)


class _Pacer:
    """Keeps concurrent drain threads at most one batch apart, so they share decoded events.

    Left alone, the faster consumer runs ahead of the slower by more than the decoded-event
    cache holds, and every event is decoded twice (a fifth of the drain's CPU, ADR 0013).
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
    """Give the planner fresh statistics for the projection's tables (autovacuum may be off or behind)."""
    analyze_tables(read_alias(), [projection.physical_table(table) for table in projection.tables()])


def drain_all(*, batch_size: int = DEFAULT_BATCH_SIZE) -> dict[str, int]:
    """Drain every consumer to the head; return events read per consumer.

    On PostgreSQL each consumer drains in a thread of its own, on its own connections: their
    checkpoints are separate, so their batches are separate transactions anyway, and while one
    thread waits for the database another folds its events; the threads move along the same
    stretch of the log, so the slower finds the events already decoded (ADR 0013). SQLite allows
    one writer at a time, so there the consumers take turns, one batch each.
    """
    everyone = consumers()
    ensure_checkpoints(list(everyone))
    if not on_postgresql(read_alias()):
        return _drain_taking_turns(list(everyone.values()), batch_size)
    pacer = _Pacer(list(everyone))
    with ThreadPoolExecutor(max_workers=len(everyone), thread_name_prefix="drain") as pool:
        running = {name: pool.submit(_drain_in_thread, c, batch_size, pacer) for name, c in everyone.items()}
        return {name: future.result() for name, future in running.items()}


def _drain_in_thread(consumer: Consumer, batch_size: int, pacer: _Pacer) -> int:
    try:
        return _drain_to_head(consumer, batch_size, pacer)
    finally:
        pacer.finished(consumer.name)
        connections.close_all()  # this thread's own connections: nothing else would ever close them


def _drain_taking_turns(everyone: list[Consumer], batch_size: int) -> dict[str, int]:
    totals = {consumer.name: 0 for consumer in everyone}
    behind = everyone
    while behind:
        still_behind = []
        for consumer in behind:
            result = drain_batch(consumer, batch_size=batch_size)
            totals[consumer.name] += result.events
            if not result.locked_elsewhere and result.more:
                still_behind.append(consumer)
        behind = still_behind
    return totals


def drain_batch(consumer: Consumer, *, batch_size: int) -> BatchResult:
    """Apply at most ``batch_size`` events in one transaction with the checkpoint.

    A relay whose receiver is down waits out its backoff and is retried whole, parking nothing
    (``runtime.receivers``, ADR 0019).
    """
    down = receivers.down(consumer.name) if consumer.kind == RELAY else None
    if down is not None and not down.due():
        return BatchResult(events=0)
    try:
        result = _apply_batch(consumer, batch_size)
    except ReceiverUnavailable as error:
        receivers.report_down(consumer.name, error, previous=down)
        return BatchResult(events=0)
    if down is not None:
        receivers.report_up(consumer.name)
    return result


def _apply_batch(consumer: Consumer, batch_size: int) -> BatchResult:
    using = read_alias()
    started = time.perf_counter()
    with ExitStack() as traced, transaction.atomic(using=using):
        _end_if_abandoned(using)
        checkpoint = (
            Checkpoint.objects.using(using).select_for_update(skip_locked=True).filter(projection=consumer.name).first()
        )
        if checkpoint is None:
            return BatchResult(events=0, locked_elsewhere=True)
        position = position_of(checkpoint)
        batch = event_store().read_batch(after=position, event_types=consumer.event_types(), limit=batch_size)
        if batch.events:  # a span for a batch that did work only, linked to its requests (ADRs 0024, 0029)
            traceparents = (event.traceparent for event in batch.events)
            traced.enter_context(tracing.batch_span(consumer.name, started=started, traceparents=traceparents))
        now = timezone.now()
        ready = []
        with connections[using].cursor() as cursor:
            parking.retry_due(consumer, cursor, up_to=position, using=using)
            held = parking.held_streams(consumer, using=using)
            ready = [event for event in batch.events if event.stream not in held]
            if ready:
                parking.apply_or_park(consumer, ready, cursor, using=using)
        if batch.events:
            checkpoint.events_applied += len(batch.events)
            checkpoint.last_applied_at = now
        move(checkpoint, batch.end)
        checkpoint.heartbeat_at = now
        checkpoint.save(using=using)
        result = BatchResult(events=len(batch.events), more=batch.more(batch_size) and batch.end != position)
    # After the commit: metrics and the batch's log line with its correlation ids (ADR 0024).
    report_batch(consumer, batch.events, seconds=time.perf_counter() - started, held=len(batch.events) - len(ready))
    return result
