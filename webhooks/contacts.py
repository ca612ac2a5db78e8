"""Whether an endpoint's payloads carry contact data: only while its owner holds the contacts right.

An endpoint sends events to a URL its owner chose; a user who may not read customers' emails
must not be able to read them by pointing an endpoint at themselves. So the owner (who created
or last changed the endpoint) decides, and every body queued while the owner lacks the right
has its contact fields null, including bodies queued before and sent again (ADR 0031).
"""

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from config.rights import sees_customer_contacts
from events import EVENT_TYPES
from projections.store.public import without_contacts
from webhooks.models import WebhookDelivery

CONTACT_EVENT_TYPES = frozenset(name for name, event_class in EVENT_TYPES.items() if event_class.contact_fields)


def owners_seeing_contacts(owner_ids: Iterable[int | None]) -> frozenset[int]:
    """Return those of ``owner_ids`` that are active users holding the contacts right."""
    wanted = {owner_id for owner_id in owner_ids if owner_id is not None}
    if not wanted:
        return frozenset()
    users = get_user_model()._default_manager.filter(pk__in=wanted, is_active=True)
    return frozenset(user.pk for user in users if sees_customer_contacts(user))


def redact_pending(deliveries: QuerySet[WebhookDelivery], *, owner_id: int | None) -> int:
    """Null the contact fields in the pending ``deliveries`` unless ``owner_id`` sees contacts; return how many."""
    if owner_id in owners_seeing_contacts([owner_id]):
        return 0
    changed = 0
    pending = deliveries.filter(state=WebhookDelivery.PENDING, event_type__in=CONTACT_EVENT_TYPES)
    for delivery in pending.only("id", "event_type", "body").iterator():
        body = bytes(delivery.body)
        redacted = without_contacts(body, delivery.event_type)
        if redacted != body:
            changed += deliveries.filter(pk=delivery.pk).update(body=redacted)
    return changed
