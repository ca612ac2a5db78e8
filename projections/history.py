"""An order's history straight from the outbox, and the order as it was at any moment.

Both read the log itself (one query each), not a read table: the outbox is the audit record
and replaying it is the definition of the order's state. Payloads go through ``decode`` so
old schema versions come back upcast, in the shape the current code writes.
"""

import json
import uuid
from datetime import datetime
from typing import Any

from django.utils import timezone

from events import OrderEvent, decode, encode
from events.replay import replay_order
from projections.store import event_store
from projections.store.events import aware


def order_history(
    *, order_id: int, until: datetime | None = None, after_version: int = 0, limit: int | None = None
) -> list[dict[str, Any]]:
    """Return the order's events in version order ([] for an unknown order).

    ``until`` keeps those that occurred by then; ``after_version`` and ``limit`` read one page.
    """
    return [
        {
            "position": position,
            "version": version,
            "event_type": event.event_type,
            "occurred_at": occurred_at,
            "actor": actor,
            "correlation_id": correlation_id,
            "payload": encode(event),
        }
        for position, version, event, occurred_at, actor, correlation_id in _events(
            order_id, until=until, after_version=after_version, limit=limit
        )
    ]


def order_as_of(*, order_id: int, at: datetime) -> dict[str, Any] | None:
    """Return the order as it stood at ``at`` (aware), or None if it had not been placed yet."""
    if timezone.is_naive(at):
        raise ValueError("order_as_of needs an aware datetime")
    events = _events(order_id, until=at)
    # Versions must run 1, 2, 3, ...: should a back-dated event ever carry an earlier time than
    # the one before it, the order as of ``at`` stops before the first missing version.
    prefix = [row for index, row in enumerate(events) if row[1] == index + 1]
    state = replay_order((version, occurred_at, event) for _, version, event, occurred_at, _, _ in prefix)
    if state is None:
        return None
    return {
        "order_id": state.order_id,
        "customer_id": state.customer_id,
        "customer_name": state.customer_name,
        "status": state.status,
        "currency": state.currency,
        "subtotal": state.subtotal,
        "discount": state.discount,
        "total": state.total,
        "item_count": state.item_count,
        "version": state.version,
        "placed_at": state.placed_at,
        "updated_at": state.updated_at,
        "lines": [
            {
                "sku": line.sku,
                "product_name": line.product_name,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "line_total": line.line_total,
            }
            for line in sorted(state.lines.values(), key=lambda line: line.sku)
        ],
    }


def _events(order_id: int, *, until: datetime | None, after_version: int = 0, limit: int | None = None) -> list[tuple]:
    """Return ``(position, version, event, occurred_at, actor, correlation_id)`` in version order."""
    rows = event_store().history(
        aggregate_type=OrderEvent.aggregate_type,
        aggregate_id=order_id,
        until=until,
        after_version=after_version,
        limit=limit,
    )
    return [
        (
            position,
            version,
            decode(event_type, schema_version, json.loads(payload) if isinstance(payload, str) else payload),
            aware(occurred_at),
            actor,
            str(uuid.UUID(str(correlation_id))),
        )
        for position, version, event_type, schema_version, payload, occurred_at, actor, correlation_id in rows
    ]
