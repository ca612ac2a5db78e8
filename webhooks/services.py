"""What the API and the admin do to endpoints: create, change, rotate, resend, replay (ADR 0020).

The user who creates or changes an endpoint becomes its owner, whose rights decide whether its
payloads carry contact data (``webhooks.contacts``, ADR 0031).
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from config.databases import read_alias
from projections.runtime.apply import batches
from projections.store import START
from webhooks.contacts import redact_pending
from webhooks.fanout import queue_deliveries
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.signing import new_secret
from webhooks.targets import resolve

ROTATION_OVERLAP = timedelta(hours=24)
REPLAY_BATCH = 2000


def endpoint_create(*, url: str, event_types: list[str], description: str = "", actor) -> tuple[WebhookEndpoint, str]:
    """Create ``actor``'s endpoint (its URL vetted now, ``TargetRefused`` otherwise); return it and its secret."""
    resolve(url)
    secret = new_secret()
    endpoint = WebhookEndpoint.objects.using(read_alias()).create(
        url=url, event_types=sorted(set(event_types)), description=description, secret=secret, owner_id=actor.pk
    )
    return endpoint, secret


def endpoint_change(endpoint: WebhookEndpoint, *, actor, **changes) -> WebhookEndpoint:
    """Apply ``changes``; ``actor`` becomes the owner, and what waits to be sent gets only what they may see."""
    changes["owner_id"] = actor.pk
    if "url" in changes:
        resolve(changes["url"])
    if "event_types" in changes:
        changes["event_types"] = sorted(set(changes["event_types"]))
    if changes.get("enabled") and not endpoint.enabled:
        changes |= {"failing_since": None, "disabled_reason": ""}  # staff re-enabled it: a fresh start
    for name, value in changes.items():
        setattr(endpoint, name, value)
    with transaction.atomic(using=read_alias()):
        endpoint.save(using=read_alias())
        redact_pending(endpoint.deliveries.using(read_alias()), owner_id=endpoint.owner_id)
    return endpoint


def rotate_secret(endpoint: WebhookEndpoint) -> str:
    """Give the endpoint a new secret; the old one keeps signing beside it for ``ROTATION_OVERLAP``."""
    secret = new_secret()
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = timezone.now() + ROTATION_OVERLAP
    endpoint.secret = secret
    endpoint.save(using=read_alias())
    return secret


def _requeue(endpoint: WebhookEndpoint, deliveries) -> int:
    """Make ``deliveries`` of ``endpoint`` pending now, with only what its owner may see."""
    now = timezone.now()
    requeued = deliveries.update(state=WebhookDelivery.PENDING, next_attempt_at=now, first_queued_at=now)
    redact_pending(deliveries, owner_id=endpoint.owner_id)
    return requeued


def resend(delivery: WebhookDelivery) -> None:
    with transaction.atomic(using=read_alias()):
        _requeue(delivery.endpoint, WebhookDelivery.objects.using(read_alias()).filter(pk=delivery.pk))


def replay(endpoint: WebhookEndpoint, *, from_position: int | None = None, from_time: datetime | None = None) -> int:
    """Queue again every event the endpoint wants from ``from_position`` (or ``from_time``) on.

    Events already queued for it go back to pending; events from before it existed are queued now.
    Streams keep version order either way: a stream's head is its lowest pending version.
    """
    using = read_alias()
    queued = 0
    for batch in batches(after=START, event_types=_types_of(endpoint), limit=REPLAY_BATCH):
        wanted = [
            stored
            for stored in batch.events
            if (from_position is None or stored.position >= from_position)
            and (from_time is None or stored.occurred_at >= from_time)
        ]
        if not wanted:
            continue
        with transaction.atomic(using=using):
            queue_deliveries([endpoint], wanted, using=using)
            queued += _requeue(
                endpoint,
                WebhookDelivery.objects.using(using).filter(
                    endpoint=endpoint, event_id__in=[s.event_id for s in wanted]
                ),
            )
    return queued


def _types_of(endpoint: WebhookEndpoint):
    from events import EVENT_TYPES

    return frozenset(endpoint.event_types or EVENT_TYPES)
