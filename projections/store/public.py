"""The event as the outside sees it: one shape for the feed, webhook bodies and the bus.

Outsiders get the *current* schema of each event (stored payloads are upcast on read, so a
receiver never has to know an old version) beside its ``schema_version``, and the ids they need
to order and de-duplicate: ``event_id`` (unique, the webhook id and the bus message id),
``position`` and ``aggregate_version`` (per aggregate, gapless).

Contact data (an event's ``contact_fields``) is in the public shape only for a reader holding the
contacts right: every caller says which with ``contacts``, and anyone else gets those fields as
null (ADR 0031).
"""

import threading
import uuid
from collections import OrderedDict
from typing import Any

import orjson

from events import EVENT_TYPES, encode
from projections.store.events import StoredEvent, raise_if_undecodable


def public_event(stored: StoredEvent, *, contacts: bool) -> dict[str, Any]:
    """Return ``stored`` in the public shape; raise ``UndecodableEventError`` for an undecodable one.

    ``contacts``: whether the reader holds the contacts right; without it contact fields are null.
    """
    raise_if_undecodable((stored,))
    event = stored.event
    data = encode(event)
    if not contacts:
        data.update(dict.fromkeys(event.contact_fields))
    return {
        "event_id": str(stored.event_id),
        "type": event.event_type,
        "schema_version": event.schema_version,
        "position": stored.position,
        "aggregate_type": stored.aggregate_type,
        "aggregate_id": stored.aggregate_id,
        "aggregate_version": stored.version,
        "occurred_at": stored.occurred_at.isoformat(),
        "correlation_id": None if stored.correlation_id is None else str(stored.correlation_id),
        "data": data,
    }


def without_contacts(body: bytes, event_type: str) -> bytes:
    """Return public JSON ``body`` of an ``event_type`` event with its contact fields null.

    The same bytes ``public_event_json(..., contacts=False)`` writes: orjson keeps the key order.
    """
    fields = EVENT_TYPES[event_type].contact_fields
    if not fields:
        return body
    shape = orjson.loads(body)
    shape["data"].update(dict.fromkeys(fields))
    return orjson.dumps(shape)


# Public bytes by event id and contacts, as ``_DECODED`` keeps decoded events (projections.store.events):
# the rows never change and the upcasters are this code's, so an entry never goes stale. Feed pages
# and the webhook fan-out serve the same recent events again and again.
_PUBLIC: OrderedDict[tuple[uuid.UUID, bool], bytes] = OrderedDict()
_PUBLIC_LIMIT = 20_000
_PUBLIC_LOCK = threading.Lock()


def public_event_json(stored: StoredEvent, *, contacts: bool) -> bytes:
    """Return the public shape as compact UTF-8 JSON: the exact bytes a webhook signs or the bus carries.

    orjson writes what ``json.dumps(..., separators=(",", ":"), ensure_ascii=False)`` writes for these
    types, several times faster: every relay encodes every event it sends (ADR 0019).
    """
    key = (stored.event_id, contacts)
    if stored.event_id is not None and (cached := _PUBLIC.get(key)) is not None:
        return cached
    body = orjson.dumps(public_event(stored, contacts=contacts))
    if stored.event_id is not None:
        with _PUBLIC_LOCK:
            _PUBLIC[key] = body
            if len(_PUBLIC) > _PUBLIC_LIMIT:
                _PUBLIC.popitem(last=False)
    return body
