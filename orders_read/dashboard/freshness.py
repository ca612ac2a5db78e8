"""How current the dashboard's figures are: each projection's health and the "data as of" mark.

The read tables lag the write side by design, so the page says how far they are complete: the
watermark of the projections behind it (every event up to that outbox position is reflected)
and, when events are still pending, the time of the oldest one (what happened before it is in).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from projections.runtime.registry import owners_of
from projections.runtime.status import ConsumerHealth, State, consumer_health
from projections.runtime.watermark import watermark

STATE_LABELS = {
    State.IDLE: "Up to date",
    State.CATCHING_UP: "Catching up",
    State.STUCK: "Stuck",
    State.PARKED: "Parked streams",
    State.RESTORED: "Restored: catching up",
    State.UNREACHABLE_EVENTS: "Events unreachable",
    State.RECEIVER_UNAVAILABLE: "Receiver unavailable",  # a relay's NATS or webhook side is down (ADR 0019)
}
STATE_TONES = {
    State.IDLE: "good", State.CATCHING_UP: "neutral", State.STUCK: "bad", State.PARKED: "bad",
    State.RESTORED: "bad", State.UNREACHABLE_EVENTS: "bad", State.RECEIVER_UNAVAILABLE: "bad",
}  # fmt: skip


@dataclass(frozen=True)
class Freshness:
    position: int
    as_of: datetime
    lag_events: int
    projections: list[dict[str, Any]]

    @property
    def current(self) -> bool:
        return self.lag_events == 0


def freshness(*, reads: Sequence[type]) -> Freshness:
    """Return the watermark and the "as of" time of the tables ``reads``, and one health row per projection.

    ``reads`` is what the page reads (``dashboard_figures.reads``, declared on its selectors), so
    the "as of" follows every projection behind the page and no list kept here can leave one out;
    the projections that own those tables are asked of the registry.

    Cost: ``consumer_health`` (three queries plus one per projection) and ``watermark`` (one
    plus one per projection); the checkpoints and the outbox head, never the write tables.
    """
    now = timezone.now()
    rows = [_presented(row, now) for row in consumer_health()]
    names = owners_of(*reads)
    position = watermark(names)
    behind = [row for row in rows if row["name"] in names]
    lag_events = sum(row["lag_events"] for row in behind)
    lag_seconds = max((row["lag_seconds"] for row in behind), default=0.0)
    as_of = now - timedelta(seconds=lag_seconds) if lag_events else now
    return Freshness(position=position, as_of=as_of, lag_events=lag_events, projections=rows)


def _presented(row: ConsumerHealth, now: datetime) -> dict[str, Any]:
    heartbeat = row.heartbeat_at
    return {
        **row.as_dict(),
        "state_label": STATE_LABELS[row.state],
        "state_tone": STATE_TONES[row.state],
        "lag_seconds_text": _duration(row.lag_seconds),
        "heartbeat_age": _duration((now - heartbeat).total_seconds()) + " ago" if heartbeat else "never",
    }


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 120:
        return f"{seconds}\u00a0s"
    if seconds < 7200:
        return f"{seconds // 60}\u00a0min"
    return f"{seconds // 3600}\u00a0h"
