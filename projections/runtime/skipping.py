"""Skip a parked stream's failing event: staff decide it will never apply, the rest flows.

Skipping treats the failing event as applied: the projection's stored version for that
aggregate (its declared ``version_rows``) is raised to the event's version, and the stream's
later events are released for an immediate retry. If the skipped event is the one that creates
the row (``OrderPlaced``), there is nothing to raise and the later events park again with a
version gap: skip those too, or fix the cause and use ``retry_parked``. A skip is a deliberate loss of one event for one
projection, so ``verify_projections`` will report the difference until a rebuild succeeds.
"""

from django.db import connections, transaction
from django.utils import timezone

from config.databases import read_alias
from projections.models import Checkpoint, ParkedStream
from projections.runtime.checkpoints import ensure_checkpoints
from projections.runtime.consumer import Projection
from projections.runtime.registry import consumers
from projections.store import event_store


def skip_parked(*, projection: str | None = None, order_id: int | None = None) -> list[str]:
    """Skip the failing event of each matching parked stream; return what was skipped."""
    parked = ParkedStream.objects.using(read_alias()).order_by("projection", "first_position")
    if projection:
        parked = parked.filter(projection=projection)
    if order_id is not None:
        parked = parked.filter(aggregate_type="order", aggregate_id=order_id)
    skipped = []
    for name in sorted(set(parked.values_list("projection", flat=True))):
        ensure_checkpoints([name])
        with transaction.atomic(using=read_alias()):
            # Wait for (and then block) this projection's drain while the stream is rewritten.
            Checkpoint.objects.using(read_alias()).select_for_update().get(projection=name)
            for stream in parked.filter(projection=name).select_for_update():
                skipped.append(_skip_first_event(stream))
    return skipped


def _skip_first_event(stream: ParkedStream) -> str:
    consumer = consumers()[stream.projection]
    events = event_store().read_stream(
        aggregate_type=stream.aggregate_type,
        aggregate_id=stream.aggregate_id,
        from_position=stream.first_position,
        event_types=consumer.event_types(),
    )
    poison, rest = events[0], events[1:]
    row = consumer.version_row(stream.aggregate_type) if isinstance(consumer, Projection) else None
    if row is not None:  # a relay keeps no versions: skipping just moves past the event
        table, key = row
        connection = connections[read_alias()]
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {quote(table)} SET version = %s WHERE {quote(key)} = %s AND version < %s",
                [poison.version, stream.aggregate_id, poison.version],
            )
    if rest:
        stream.first_position, stream.state = rest[0].position, ParkedStream.RETRYING
        stream.attempts, stream.retry_at = 0, timezone.now()
        stream.save(using=read_alias())
    else:
        stream.delete(using=read_alias())
    return (
        f"{stream.projection}: skipped {poison.event.event_type} v{poison.version} "
        f"of {stream.aggregate_type} {stream.aggregate_id} (position {poison.position})"
    )
