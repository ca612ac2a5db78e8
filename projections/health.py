"""How far behind each projection is, measured the way the drain reads.

Lag counts the projection's events strictly after its checkpoint in the drain's own order
(``(txid, position)`` on PostgreSQL, ``position`` on SQLite), so an event that committed late
below the checkpoint's position still counts until it is applied. Committed events held back
by an older open transaction (see ADR 0008) count too: that lag is real and is reported.
Cost: one query each for the checkpoints, the parked streams and the head, one per projection.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connections
from django.utils import timezone

from projections.drain import READ_DB
from projections.models import Checkpoint, ParkedStream
from projections.outbox_reader import WRITE_DB
from projections.registry import all_projections

HEARTBEAT_FRESH_FOR = timedelta(seconds=60)

_POSTGRES_LAG = """
    SELECT COUNT(*), MIN(occurred_at)
    FROM outbox_event
    WHERE (txid, position) > (%s::text::xid8, %s) AND event_type = ANY(%s)
"""
_SQLITE_LAG = """
    SELECT COUNT(*), MIN(occurred_at)
    FROM outbox_event
    WHERE position > %s AND event_type IN ({types})
"""


def projection_health() -> list[dict[str, Any]]:
    """Return one dict per projection: position, head, lag, counters, heartbeat and state."""
    now = timezone.now()
    checkpoints = {checkpoint.projection: checkpoint for checkpoint in Checkpoint.objects.using(READ_DB).all()}
    parked: dict[str, list[str]] = {}
    for projection_name, error in (
        ParkedStream.objects.using(READ_DB).order_by("parked_at").values_list("projection", "error")
    ):
        parked.setdefault(projection_name, []).append(error)
    connection = connections[WRITE_DB]
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(position), 0) FROM outbox_event")
        head = cursor.fetchone()[0]
    report = []
    for name, projection in all_projections().items():
        checkpoint = checkpoints.get(name) or Checkpoint(projection=name)  # no row yet: the start of the log
        types = sorted(projection.event_types())
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(_POSTGRES_LAG, [str(checkpoint.last_txid), checkpoint.last_position, types])
            else:
                cursor.execute(
                    _SQLITE_LAG.format(types=", ".join(["%s"] * len(types))), [checkpoint.last_position, *types]
                )
            lag_events, oldest = cursor.fetchone()
        report.append(
            {
                "name": name,
                "position": checkpoint.last_position,
                "head": head,
                "lag_events": lag_events,
                "lag_seconds": max(0.0, (now - _as_aware(oldest)).total_seconds()) if oldest else 0.0,
                "events_applied": checkpoint.events_applied,
                "last_applied_at": checkpoint.last_applied_at,
                "heartbeat_at": checkpoint.heartbeat_at,
                "parked": len(parked.get(name, [])),
                "last_error": parked[name][-1] if name in parked else None,
                "state": _state(lag_events, len(parked.get(name, [])), checkpoint.heartbeat_at, now),
            }
        )
    return report


def _as_aware(value: datetime | str) -> datetime:
    """SQLite returns MIN(occurred_at) as UTC text; PostgreSQL as an aware datetime."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if timezone.is_naive(value) else value


def _state(lag_events: int, parked: int, heartbeat_at: datetime | None, now: datetime) -> str:
    if lag_events == 0:
        return "parked" if parked else "idle"
    if heartbeat_at is not None and now - heartbeat_at <= HEARTBEAT_FRESH_FOR:
        return "catching_up"
    return "stuck"
