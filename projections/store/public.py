"""The event as the outside sees it: one shape for the feed, webhook bodies and the bus.

Outsiders get the *current* schema of each event (stored payloads are upcast on read, so a
receiver never has to know an old version) beside its ``schema_version``, and the ids they need
to order and de-duplicate: ``event_id`` (unique, the webhook id and the bus message id),
``position`` and ``aggregate_version`` (per aggregate, gapless).
"""

import threading
import uuid
from collections import OrderedDict
from typing import Any

import orjson

from events import encode
from projections.store.events import StoredEvent, raise_if_undecodable


def public_event(stored: StoredEvent) -> dict[str, Any]:
    """Return ``stored`` in the public shape; raise ``UndecodableEventError`` for an undecodable one."""
    raise_if_undecodable((stored,))
    event = stored.event
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
        "data": encode(event),
    }


# Public bytes by event id, as ``_DECODED`` keeps decoded events (projections.store.events): the
# rows never change and the upcasters are this code's, so an entry never goes stale. Feed pages
# and the webhook fan-out serve the same recent events again and again.
_PUBLIC: OrderedDict[uuid.UUID, bytes] = OrderedDict()
_PUBLIC_LIMIT = 20_000
_PUBLIC_LOCK = threading.Lock()


def public_event_json(stored: StoredEvent) -> bytes:
    """Return the public shape as compact UTF-8 JSON: the exact bytes a webhook signs or the bus carries.

    orjson writes what ``json.dumps(..., separators=(",", ":"), ensure_ascii=False)`` writes for these
    types, several times faster: every relay encodes every event it sends (ADR 0019).
    """
    if stored.event_id is not None and (cached := _PUBLIC.get(stored.event_id)) is not None:
        return cached
    body = orjson.dumps(public_event(stored))
    if stored.event_id is not None:
        with _PUBLIC_LOCK:
            _PUBLIC[stored.event_id] = body
            if len(_PUBLIC) > _PUBLIC_LIMIT:
                _PUBLIC.popitem(last=False)
    return body
