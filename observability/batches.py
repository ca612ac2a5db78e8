"""What each drain batch reports once it committed: its metrics and one log line (ADR 0024).

The line names the consumer, how many events the batch read, the positions it covered, how
long it took and the distinct correlation ids of its events (the requests that wrote them), so
one grep for a request id finds the batch that applied or delivered its events. Empty batches
(a drainer finding nothing) are neither logged nor timed. Imports nothing from the project.
"""

import logging
from collections.abc import Sequence
from typing import Any

from observability.instruments import record_batch
from observability.logging import log_fields

logger = logging.getLogger("orders.consumer")


def report_batch(consumer: Any, events: Sequence[Any], *, seconds: float, held: int = 0) -> None:
    """Record a committed batch of ``events`` (``StoredEvent``) applied by ``consumer``."""
    if not events:
        return
    record_batch(consumer.name, len(events), seconds)
    if not logger.isEnabledFor(logging.INFO):
        return
    correlation_ids = list(dict.fromkeys(str(e.correlation_id) for e in events if e.correlation_id is not None))
    log_fields(
        logger,
        logging.INFO,
        f"{consumer.name} applied {len(events)} events",
        {
            "consumer": consumer.name,
            "consumer_kind": consumer.kind,
            "batch_events": len(events),
            "batch_held": held,
            "from_position": events[0].position,
            "to_position": events[-1].position,
            "duration_ms": round(seconds * 1000, 3),
            "correlation_ids": correlation_ids,
        },
    )
