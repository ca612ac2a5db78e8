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

from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta
from enum import StrEnum
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


class State(StrEnum):
    """Where a consumer stands; the one list of states (the API, ``/metrics``, the admin and the dashboard
    name them by their values, so a value never changes)."""

    IDLE = "idle"
    CATCHING_UP = "catching_up"
    STUCK = "stuck"
    PARKED = "parked"
    RECEIVER_UNAVAILABLE = "receiver_unavailable"
    RESTORED = "restored"
    UNREACHABLE_EVENTS = "unreachable_events"


RESTORE_STATES = frozenset({State.RESTORED, State.UNREACHABLE_EVENTS})  # loud: never "up to date" while these hold


@dataclass(frozen=True, kw_only=True)
class ConsumerHealth:
    """One consumer's status. Fields are in the order the API and ``projection_status --json`` print them."""

    name: str
    kind: str
    position: int
    timeline: int
    current_timeline: int
    head: int
    lag_events: int
    lag_seconds: float
    events_applied: int
    last_applied_at: datetime | None
    heartbeat_at: datetime | None
    parked: int
    last_error: str | None
    state: State

    def as_dict(self) -> dict[str, Any]:
        """Return the fields as a dict in field order, the state as its plain string: the JSON shape."""
        return {field.name: getattr(self, field.name) for field in fields(self)} | {"state": self.state.value}


def consumer_health() -> list[ConsumerHealth]:
    """Return one status per consumer: kind, position, timeline, head, lag, counters, heartbeat and state."""
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
            state = State.UNREACHABLE_EVENTS
        elif not on_newest:
            state = State.RESTORED
        elif down is not None:
            state = State.RECEIVER_UNAVAILABLE
        else:
            state = _state(lag_events, len(parked.get(name, [])), checkpoint.heartbeat_at, now)
        report.append(
            ConsumerHealth(
                name=name,
                kind=consumer.kind,
                position=checkpoint.last_position,
                timeline=checkpoint.timeline,
                current_timeline=newest.id if newest else 1,
                head=head,
                lag_events=lag_events,
                lag_seconds=max(0.0, (now - aware(oldest)).total_seconds()) if oldest else 0.0,
                events_applied=checkpoint.events_applied,
                last_applied_at=checkpoint.last_applied_at,
                heartbeat_at=checkpoint.heartbeat_at,
                parked=len(parked.get(name, [])),
                last_error=down.error if down else parked[name][-1] if name in parked else None,
                state=state,
            )
        )
    return report


def _state(lag_events: int, parked: int, heartbeat_at: datetime | None, now: datetime) -> State:
    if lag_events == 0:
        return State.PARKED if parked else State.IDLE
    if heartbeat_at is not None and now - heartbeat_at <= HEARTBEAT_FRESH_FOR:
        return State.CATCHING_UP
    return State.STUCK


def redact_failures(report: list[ConsumerHealth], user: Any) -> list[ConsumerHealth]:
    """Blank ``last_error`` unless ``user`` holds ``manage_projections``: an error can quote the data
    that failed, so only those who may retry or skip a parked stream read it (ADR 0022)."""
    if user.has_perm(MANAGE_PROJECTIONS):
        return report
    return [replace(row, last_error=None) for row in report]
