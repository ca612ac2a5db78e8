"""What the API and the admin do to endpoints: create, change, delete, rotate, resend, replay (ADR 0020, 0027).

The user who creates or changes an endpoint becomes its owner, whose rights decide whether its
payloads carry contact data (``webhooks.contacts``, ADR 0031).
"""

from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from config.databases import read_alias
from projections.store import Position, event_store
from webhooks.contacts import redact_pending
from webhooks.fanout import queue_deliveries
from webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookReplay
from webhooks.signing import new_secret
from webhooks.targets import resolve

ROTATION_OVERLAP = timedelta(hours=24)
REPLAY_BATCH = 2000


def endpoint_create(
    *, url: str, event_types: list[str], description: str = "", actor: AbstractBaseUser
) -> tuple[WebhookEndpoint, str]:
    """Create ``actor``'s endpoint (its URL vetted now, ``TargetRefused`` otherwise); return it and its secret."""
    resolve(url)
    secret = new_secret()
    endpoint = WebhookEndpoint.objects.using(read_alias()).create(
        url=url, event_types=sorted(set(event_types)), description=description, secret=secret, owner_id=actor.pk
    )
    return endpoint, secret


def endpoint_change(*, endpoint: WebhookEndpoint, actor: AbstractBaseUser, **changes: Any) -> WebhookEndpoint:
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


def endpoint_delete(*, endpoint: WebhookEndpoint, actor: AbstractBaseUser) -> None:
    """Delete the endpoint and, with it, its delivery log and replays: nothing more is sent to it.

    ``actor`` is who asked, as for every other change; nothing records it yet, as an endpoint
    keeps no history once it is gone.
    """
    endpoint.delete(using=read_alias())


def endpoint_rotate_secret(*, endpoint: WebhookEndpoint) -> str:
    """Give the endpoint a new secret; the old one keeps signing beside it for ``ROTATION_OVERLAP``."""
    secret = new_secret()
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = timezone.now() + ROTATION_OVERLAP
    endpoint.secret = secret
    endpoint.save(using=read_alias())
    return secret


def endpoint_drop_previous_secret(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """Stop signing with the secret a rotation replaced, now rather than when its overlap ends.

    For a previous secret that leaked: rotation keeps it signing for ``ROTATION_OVERLAP`` so
    receivers can switch over, which is no use once someone else holds it. A delivery round
    already under way signs with what it loaded, so at most one round (``ROUND_SECONDS``) after
    this no POST carries a signature made with it.
    """
    endpoint.previous_secret = ""
    endpoint.previous_secret_expires_at = None
    endpoint.save(using=read_alias(), update_fields=["previous_secret", "previous_secret_expires_at", "updated_at"])
    return endpoint


def _requeue(endpoint: WebhookEndpoint, deliveries) -> int:
    """Make ``deliveries`` of ``endpoint`` pending now, with only what its owner may see."""
    now = timezone.now()
    requeued = deliveries.update(state=WebhookDelivery.PENDING, next_attempt_at=now, first_queued_at=now)
    redact_pending(deliveries, owner_id=endpoint.owner_id)
    return requeued


def delivery_resend(*, delivery: WebhookDelivery) -> None:
    """Queue one delivery to be sent again now, whatever its state, with only what its owner may see."""
    with transaction.atomic(using=read_alias()):
        _requeue(delivery.endpoint, WebhookDelivery.objects.using(read_alias()).filter(pk=delivery.pk))


def endpoint_replay(
    *, endpoint: WebhookEndpoint, from_position: int | None = None, from_time: datetime | None = None
) -> WebhookReplay:
    """Ask for every event the endpoint wants from ``from_position`` (or ``from_time``) on to be sent again.

    Only records the replay: the deliverer walks the log a page at a time (``replay_page``), so
    the request costs one insert however long the log is (ADR 0027).
    """
    return WebhookReplay.objects.using(read_alias()).create(
        endpoint=endpoint, from_position=from_position, from_time=from_time
    )


def replay_page(*, limit: int = REPLAY_BATCH) -> int:
    """Walk one page of the oldest running replay; return how many deliveries it queued again.

    The page is read outside any transaction (as the drain reads), then its deliveries are
    queued or re-queued and the replay's cursor moved in one transaction, under the replay's
    row lock and only if no other deliverer moved it meanwhile: each page is applied once.
    Events already queued for the endpoint go back to pending; events from before it existed
    are queued now. Streams keep version order either way: a stream's head is its lowest
    pending version. The replay ends at the first page that is short and does not move on.
    """
    using = read_alias()
    job = WebhookReplay.objects.using(using).filter(state=WebhookReplay.RUNNING).order_by("id").first()
    if job is None:
        return 0
    endpoint = WebhookEndpoint.objects.using(using).get(pk=job.endpoint_id)
    after = Position(job.after_timeline, job.after_txid, job.after_position)
    batch = event_store().read_batch(after=after, event_types=_types_of(endpoint), limit=limit)
    wanted = [
        stored
        for stored in batch.events
        if (job.from_position is None or stored.position >= job.from_position)
        and (job.from_time is None or stored.occurred_at >= job.from_time)
    ]
    with transaction.atomic(using=using):
        locked = (
            WebhookReplay.objects.using(using)
            .select_for_update(skip_locked=True)
            .filter(
                pk=job.pk,
                state=WebhookReplay.RUNNING,
                after_timeline=after.timeline,
                after_txid=after.txid,
                after_position=after.position,
            )
            .first()
        )
        if locked is None:
            return 0  # another deliverer took this page
        queued = 0
        if wanted:
            queue_deliveries([endpoint], wanted, using=using)
            queued = _requeue(
                endpoint,
                WebhookDelivery.objects.using(using).filter(
                    endpoint=endpoint, event_id__in=[s.event_id for s in wanted]
                ),
            )
        locked.after_timeline, locked.after_txid, locked.after_position = batch.end
        locked.queued += queued
        if not batch.more(limit) or batch.end == after:
            locked.state, locked.finished_at = WebhookReplay.DONE, timezone.now()
        locked.save(using=using)
    return queued


def _types_of(endpoint: WebhookEndpoint):
    from events import EVENT_TYPES

    return frozenset(endpoint.event_types or EVENT_TYPES)
