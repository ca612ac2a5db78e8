"""What each drain batch reports once it committed: its metrics and one log line (ADR 0024).

The line names the consumer, how many events the batch read, the positions it covered, how
long it took and the distinct correlation ids of its events (the requests that wrote them), so
one grep for a request id finds the batch that applied or delivered its events. Empty batches
(a drainer finding nothing) are neither logged nor timed. Imports nothing from the project.

The ids on the INFO line stop at ``MAX_CORRELATION_IDS`` (as the batch span's links do), with
``correlation_ids_omitted`` counting the rest: a live batch serves a handful of requests, but a
catch-up batch of thousands of events would otherwise write kilobytes per line (a 120 MB log
for a drain of 815,618 events, ADR 0029; the figures per million events are in
docs/benchmarks.md). With DEBUG on, a second line lists every id.
"""

import logging
from collections.abc import Sequence
from typing import Any

from observability.instruments import record_batch
from observability.logging import log_fields

MAX_CORRELATION_IDS = 128  # the batch span's MAX_LINKS_PER_BATCH, for the same reason

logger = logging.getLogger("orders.consumer")


def report_batch(consumer: Any, events: Sequence[Any], *, seconds: float, held: int = 0) -> None:
    """Record a committed batch of ``events`` (``StoredEvent``) applied by ``consumer``."""
    if not events:
        return
    record_batch(consumer.name, len(events), seconds)
    if not logger.isEnabledFor(logging.INFO):
        return
    correlation_ids = list(dict.fromkeys(str(e.correlation_id) for e in events if e.correlation_id is not None))
    fields = {
        "consumer": consumer.name,
        "consumer_kind": consumer.kind,
        "batch_events": len(events),
        "batch_held": held,
        "from_position": events[0].position,
        "to_position": events[-1].position,
        "duration_ms": round(seconds * 1000, 3),
        "correlation_ids": correlation_ids[:MAX_CORRELATION_IDS],
    }
    if len(correlation_ids) > MAX_CORRELATION_IDS:
        fields["correlation_ids_omitted"] = len(correlation_ids) - MAX_CORRELATION_IDS
    log_fields(logger, logging.INFO, f"{consumer.name} applied {len(events)} events", fields)
    if fields.get("correlation_ids_omitted") and logger.isEnabledFor(logging.DEBUG):
        every = {key: fields[key] for key in ("consumer", "from_position", "to_position")}
        every["correlation_ids"] = correlation_ids
        log_fields(logger, logging.DEBUG, f"{consumer.name} batch correlation ids", every)
