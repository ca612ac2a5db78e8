"""The ``webhooks`` relay: fans each event out into one queued delivery per endpoint that wants it.

It runs on the consumer runtime like any relay, in drain order, and its "receiver" is the durable
delivery queue in the same database as its checkpoint: the rows commit with the checkpoint, so
every event is queued for every enabled endpoint once, and a re-applied batch (a retried parked
stream) queues nothing twice (``one_delivery_per_event``). The HTTP side is the delivery worker's
(``webhooks.delivery``), so a slow or failing endpoint never holds back the drain (ADR 0020).
A body carries contact data only for an endpoint whose owner holds the contacts right (ADR 0031).
"""

from collections.abc import Sequence
from typing import Any

from django.utils import timezone

from config.databases import read_alias
from events import EVENT_TYPES
from projections.runtime.consumer import Relay
from projections.store import StoredEvent
from projections.store.public import public_event_json
from webhooks.contacts import owners_seeing_contacts
from webhooks.models import WebhookDelivery, WebhookEndpoint


class WebhookFanOut(Relay):
    name = "webhooks"
    handlers = dict.fromkeys(EVENT_TYPES.values())

    def apply(self, events: Sequence[StoredEvent], cursor: Any) -> None:
        using = read_alias()
        endpoints = list(
            WebhookEndpoint.objects.using(using).filter(enabled=True).only("id", "event_types", "owner_id")
        )
        if not endpoints:
            return
        queue_deliveries(endpoints, events, using=using)


def queue_deliveries(endpoints: list[WebhookEndpoint], events: Sequence[StoredEvent], *, using: str) -> int:
    """Queue ``events`` for each of ``endpoints`` that wants them (existing ones are left alone)."""
    now = timezone.now()
    with_contacts = owners_seeing_contacts(endpoint.owner_id for endpoint in endpoints)
    rows = []
    for stored in events:
        for endpoint in endpoints:
            if not endpoint.wants(stored.event.event_type):
                continue
            body = public_event_json(stored, contacts=endpoint.owner_id in with_contacts)
            rows.append(
                WebhookDelivery(
                    endpoint_id=endpoint.id,
                    event_id=stored.event_id,
                    event_type=stored.event.event_type,
                    position=stored.position,
                    aggregate_type=stored.aggregate_type,
                    aggregate_id=stored.aggregate_id,
                    aggregate_version=stored.version,
                    occurred_at=stored.occurred_at,
                    body=body,
                    first_queued_at=now,
                    next_attempt_at=now,
                )
            )
    WebhookDelivery.objects.using(using).bulk_create(rows, ignore_conflicts=True, batch_size=1000)
    return len(rows)
