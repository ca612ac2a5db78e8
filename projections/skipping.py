"""Skip a parked stream's failing event: staff decide it will never apply, the rest flows.

Skipping treats the failing event as applied: the projection's stored version for that
aggregate is raised to the event's version, and the stream's later events are released for an
immediate retry. If the skipped event is the one that creates the row (``OrderPlaced``),
there is nothing to raise and the later events park again with a version gap: skip those too,
or fix the cause and use ``retry_parked``. A skip is a deliberate loss of one event for one
projection, so ``verify_projections`` will report the difference until a rebuild succeeds.
"""

from django.db import connections, transaction
from django.utils import timezone

from projections.drain import READ_DB, ensure_checkpoints
from projections.models import Checkpoint, ParkedStream
from projections.outbox_reader import read_stream
from projections.registry import all_projections

# Where each projection keeps the version it has applied, per aggregate type.
VERSION_ROWS = {
    "order_views": {"order": ("order_summary", "order_id"), "customer": ("order_views_customer", "customer_id")},
    "sales": {"order": ("sales_order_state", "order_id"), "customer": ("customer_stats", "customer_id")},
}


def skip_parked(*, projection: str | None = None, order_id: int | None = None) -> list[str]:
    """Skip the failing event of each matching parked stream; return what was skipped."""
    parked = ParkedStream.objects.using(READ_DB).order_by("projection", "first_position")
    if projection:
        parked = parked.filter(projection=projection)
    if order_id is not None:
        parked = parked.filter(aggregate_type="order", aggregate_id=order_id)
    skipped = []
    for name in sorted(set(parked.values_list("projection", flat=True))):
        ensure_checkpoints([name])
        with transaction.atomic(using=READ_DB):
            # Wait for (and then block) this projection's drain while the stream is rewritten.
            Checkpoint.objects.using(READ_DB).select_for_update().get(projection=name)
            for stream in parked.filter(projection=name).select_for_update():
                skipped.append(_skip_first_event(stream))
    return skipped


def _skip_first_event(stream: ParkedStream) -> str:
    events = read_stream(
        aggregate_type=stream.aggregate_type,
        aggregate_id=stream.aggregate_id,
        from_position=stream.first_position,
        event_types=all_projections()[stream.projection].event_types(),
    )
    poison, rest = events[0], events[1:]
    table, key = VERSION_ROWS[stream.projection][stream.aggregate_type]
    with connections[READ_DB].cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET version = %s WHERE {key} = %s AND version < %s",
            [poison.version, stream.aggregate_id, poison.version],
        )
    if rest:
        stream.first_position, stream.state = rest[0].position, ParkedStream.RETRYING
        stream.attempts, stream.retry_at = 0, timezone.now()
        stream.save(using=READ_DB)
    else:
        stream.delete(using=READ_DB)
    return (
        f"{stream.projection}: skipped {poison.event.event_type} v{poison.version} "
        f"of {stream.aggregate_type} {stream.aggregate_id} (position {poison.position})"
    )
