"""How far behind each consumer is, measured the way the runtime reads (property 10).

Lag counts the consumer's events after its checkpoint in drain order, across timelines, so an
event that committed late below the checkpoint's position still counts until it is applied,
and so do the events a restored cluster wrote after the restore. A consumer whose checkpoint is
on an earlier timeline than the outbox's newest is in the loud state ``restored`` until it has
moved onto the newest one (ADR 0017); if the cluster the outbox is on now was never registered,
new events cannot be placed in commit order and every consumer is ``unreachable_events``.
A relay whose receiver is down is ``receiver_unavailable``, with the receiver's error (ADR 0019).
Cost: one query each for the checkpoints, the parked streams, the head, the timelines and every
consumer's lag together (and a cache read per relay), however many consumers there are (ADR 0024).
"""

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from config.databases import read_alias
from config.rights import MANAGE_PROJECTIONS
from projections.models import Checkpoint, ParkedStream
from projections.runtime import receivers
from projections.runtime.checkpoints import position_of
from projections.runtime.consumer import RELAY
from projections.runtime.registry import consumers
from projections.store import event_store
from projections.store.events import aware
from projections.store.timelines import current

HEARTBEAT_FRESH_FOR = timedelta(seconds=60)
# Lag is counted up to this many events (per timeline span): enough to tell "a little behind" from
# "far behind", and it bounds the cost of every /health/ready and /api/projections/ (ADR 0023).
LAG_COUNT_LIMIT = 10_000
STATES = ("idle", "catching_up", "stuck", "parked", "receiver_unavailable", "restored", "unreachable_events")
RESTORE_STATES = ("restored", "unreachable_events")  # loud: never "up to date" while these hold


def consumer_health() -> list[dict[str, Any]]:
    """Return one dict per consumer: kind, position, timeline, head, lag, counters, heartbeat and state."""
    now = timezone.now()
    using = read_alias()
    checkpoints = {checkpoint.projection: checkpoint for checkpoint in Checkpoint.objects.using(using).all()}
    parked: dict[str, list[str]] = {}
    for name, error in ParkedStream.objects.using(using).order_by("parked_at").values_list("projection", "error"):
        parked.setdefault(name, []).append(error)
    store = event_store()
    head = store.head()
    timelines, cluster = store.timelines()
    newest = current(timelines)
    registered = newest is None or newest.system_identifier == cluster
    report = []
    registry = consumers()
    for_each = {name: checkpoints.get(name) or Checkpoint(projection=name) for name in registry}  # none yet: the start
    lags = store.lags(
        [(position_of(for_each[name]), consumer.event_types()) for name, consumer in registry.items()],
        timelines=timelines,
        scan=LAG_COUNT_LIMIT,
    )
    for (name, consumer), (lag_events, oldest) in zip(registry.items(), lags, strict=True):
        checkpoint = for_each[name]
        on_newest = newest is None or checkpoint.timeline >= newest.id
        down = receivers.down(name) if consumer.kind == RELAY else None  # its receiver's own trouble
        if not registered:
            state = "unreachable_events"
        elif not on_newest:
            state = "restored"
        elif down is not None:
            state = "receiver_unavailable"
        else:
            state = _state(lag_events, len(parked.get(name, [])), checkpoint.heartbeat_at, now)
        report.append(
            {
                "name": name,
                "kind": consumer.kind,
                "position": checkpoint.last_position,
                "timeline": checkpoint.timeline,
                "current_timeline": newest.id if newest else 1,
                "head": head,
                "lag_events": lag_events,
                "lag_seconds": max(0.0, (now - aware(oldest)).total_seconds()) if oldest else 0.0,
                "events_applied": checkpoint.events_applied,
                "last_applied_at": checkpoint.last_applied_at,
                "heartbeat_at": checkpoint.heartbeat_at,
                "parked": len(parked.get(name, [])),
                "last_error": down.error if down else parked[name][-1] if name in parked else None,
                "state": state,
            }
        )
    return report


def _state(lag_events: int, parked: int, heartbeat_at: datetime | None, now: datetime) -> str:
    if lag_events == 0:
        return "parked" if parked else "idle"
    if heartbeat_at is not None and now - heartbeat_at <= HEARTBEAT_FRESH_FOR:
        return "catching_up"
    return "stuck"


def redact_failures(report: list[dict[str, Any]], user: Any) -> list[dict[str, Any]]:
    """Blank ``last_error`` unless ``user`` holds ``manage_projections``: an error can quote the data
    that failed, so only those who may retry or skip a parked stream read it (ADR 0022)."""
    if user.has_perm(MANAGE_PROJECTIONS):
        return report
    return [{**row, "last_error": None} for row in report]
