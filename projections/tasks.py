"""Run the drain from django-q2: nudged after each command, debounced, swept every minute.

The nudge enqueues a drain only when none is pending (``cache.add`` on a shared cache, so
500 commands a second enqueue a handful of tasks, not 500). The task clears the pending
mark *before* it reads the outbox: a command committing while the drain runs always sets a
new mark and enqueues a fresh drain, so no event waits for the minute sweep. The mark expires
after ``PENDING_TIMEOUT_SECONDS`` (5 s): a worker killed holding the task leaves the mark behind,
and nudges wait that long (at 30 s, the kill drill saw 44-47 s of lag); a busy queue gets at most
one extra drain task per 5 s, which finds little to do. The admin's rebuild
button queues ``rebuild_task`` here too, so a long rebuild runs on the worker, not in a request.

A drain can end with committed events it could not apply: another drainer held a checkpoint
(``SKIP LOCKED``), or a transaction open elsewhere on the cluster, another drainer's included,
held the horizon back. The nudges of those events may already have been spent on drains that
ran too early, so the task follows itself up (after a short pause, debounced like any nudge)
while lag remains; otherwise, once commands stop, the last events would wait for the sweep
(seen in ``python -m bench.drills converge --scale-out``: two qclusters, up to 56 s).
"""

import logging
import time

from django.core.cache import cache
from django_q.conf import Conf
from django_q.tasks import async_task

from projections.runtime.loop import drain_all
from projections.runtime.rebuild import rebuild
from projections.runtime.status import State, consumer_health

PENDING_KEY = "projections:drain-pending"
PENDING_TIMEOUT_SECONDS = 5  # a lost task (worker killed before it ran) blocks nudges this long at most
SWEEP_SCHEDULE_NAME = "projections: sweep every minute"
FOLLOW_UP_PAUSE_SECONDS = 0.25  # while lag remains: one small drain task per pause, not a busy loop

logger = logging.getLogger(__name__)


def nudge() -> None:
    """Enqueue a drain unless one is already pending (called after every committed command).

    A plain read comes first because under load the mark is nearly always there, and one read
    answers that (Django's database cache spends five round trips, a failing INSERT among them,
    on an ``add`` that finds the key). Seeing the mark is as safe as a failed ``add``: this
    command has committed, and the drain that will clear the mark reads the outbox only after
    clearing it. Only a missing mark goes on to the atomic ``add``, which elects one enqueuer.
    """
    if cache.get(PENDING_KEY) is not None:
        return
    if cache.add(PENDING_KEY, 1, timeout=PENDING_TIMEOUT_SECONDS):
        async_task("projections.tasks.drain_task", task_name="drain projections", group="projections")


def drain_task() -> dict[str, int]:
    """Drain every projection to the head; the queued entry point for nudges and the sweep."""
    cache.delete(PENDING_KEY)
    applied = drain_all()
    if any(applied.values()):
        logger.info("drained %s", applied)
    # A relay whose receiver is down waits out its backoff instead (ADR 0019); the sweep and the next
    # command's nudge bring it back.
    behind = [row for row in consumer_health() if row.lag_events and row.state is not State.RECEIVER_UNAVAILABLE]
    if not Conf.SYNC and behind:
        time.sleep(FOLLOW_UP_PAUSE_SECONDS)  # in sync mode the follow-up would recurse in the caller
        nudge()
    return applied


def ensure_sweep_schedule(**kwargs) -> None:
    """Create (or correct) the once-a-minute safety-net sweep; safe to run on every migrate."""
    from django_q.models import Schedule

    Schedule.objects.update_or_create(
        name=SWEEP_SCHEDULE_NAME,
        defaults={
            "func": "projections.tasks.drain_task",
            "schedule_type": Schedule.MINUTES,
            "minutes": 1,
            "repeats": -1,
        },
    )


def rebuild_task(name: str) -> dict[str, int]:
    """Rebuild projection ``name`` from the log and swap it in; queued by the admin's rebuild button."""
    result = rebuild(name)
    logger.info("rebuilt %s from %d events, at position %d", name, result.events, result.position.position)
    return {"events": result.events, "position": result.position.position}
