"""Figures read from the database when ``/metrics`` is scraped: per consumer and the outbox head.

Lag, parked streams, state and events applied live in the checkpoints and the outbox, shared by
every process on every machine; reading them at scrape time (``projections.runtime.status``,
the same figures as ``projection_status``) gives one cluster-wide answer and costs the hot
paths nothing. Cost per scrape: the status's four queries plus one lag count per consumer.
"""

import logging
from collections.abc import Iterator

from django.db import DatabaseError
from django.utils import timezone
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from projections.runtime.status import ConsumerHealth, State, consumer_health

logger = logging.getLogger(__name__)


class ConsumerCollector:
    """A prometheus-client collector (``collect()`` yields metric families), built per scrape."""

    def collect(self) -> Iterator[Metric]:
        success = GaugeMetricFamily(
            "orders_consumer_status_up", "1 when the consumers' status could be read from the database at this scrape."
        )
        try:
            health = consumer_health()
        except DatabaseError:
            logger.exception("metrics: cannot read the consumers' status")
            success.add_metric([], 0)
            yield success
            return
        success.add_metric([], 1)
        yield success
        yield from _families(health)


def _families(health: list[ConsumerHealth]) -> Iterator[Metric]:
    labels = ["consumer", "kind"]
    lag_events = GaugeMetricFamily(
        "orders_consumer_lag_events", "Events the consumer has not applied yet.", labels=labels
    )
    lag_seconds = GaugeMetricFamily(
        "orders_consumer_lag_seconds", "Age of the oldest event the consumer has not applied (0 when caught up).",
        labels=labels,
    )  # fmt: skip
    applied = CounterMetricFamily(
        "orders_consumer_events_applied", "Events the consumer has read and applied (from its checkpoint).",
        labels=labels,
    )  # fmt: skip
    position = GaugeMetricFamily(
        "orders_consumer_position", "Outbox position of the consumer's checkpoint.", labels=labels
    )
    parked = GaugeMetricFamily("orders_consumer_parked_streams", "Streams parked for the consumer.", labels=labels)
    heartbeat = GaugeMetricFamily(
        "orders_consumer_heartbeat_age_seconds", "Seconds since a drainer last touched the consumer's checkpoint.",
        labels=labels,
    )  # fmt: skip
    state = GaugeMetricFamily(
        "orders_consumer_state", "1 for the consumer's current state (see docs/operations.md), 0 for the others.",
        labels=[*labels, "state"],
    )  # fmt: skip
    head = GaugeMetricFamily("orders_outbox_head_position", "Highest committed outbox position.")
    now = timezone.now()
    for row in health:
        key = [row.name, row.kind]
        lag_events.add_metric(key, row.lag_events)
        lag_seconds.add_metric(key, row.lag_seconds)
        applied.add_metric(key, row.events_applied)
        position.add_metric(key, row.position)
        parked.add_metric(key, row.parked)
        if row.heartbeat_at is not None:
            heartbeat.add_metric(key, max(0.0, (now - row.heartbeat_at).total_seconds()))
        for each in State:
            state.add_metric([*key, each.value], 1 if row.state is each else 0)
    head.add_metric([], health[0].head if health else 0)
    yield from (lag_events, lag_seconds, applied, position, parked, heartbeat, state, head)
