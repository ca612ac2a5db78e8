"""Fold an order's events back into its state: the basis of history and "as of time T".

Replay recomputes lines, subtotal and item count from the line events themselves, and
takes status and discount from what each event says happened, so comparing a replay with
the write model checks that the log alone is enough to reproduce every order.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from events.orders import (
    LineSnapshot,
    OrderCancelled,
    OrderDiscountApplied,
    OrderEvent,
    OrderLineAdded,
    OrderLineRemoved,
    OrderPlaced,
    OrderShipped,
)


@dataclass
class OrderState:
    order_id: int
    customer_id: int
    customer_name: str
    currency: str
    placed_at: datetime
    status: str = ""
    version: int = 0
    updated_at: datetime | None = None
    lines: dict[str, LineSnapshot] = field(default_factory=dict)
    discount: int = 0
    discount_percent: int | None = None
    tracking_number: str = ""
    cancel_reason: str = ""

    @property
    def subtotal(self) -> int:
        return sum(line.line_total for line in self.lines.values())

    @property
    def item_count(self) -> int:
        return sum(line.quantity for line in self.lines.values())

    @property
    def total(self) -> int:
        return self.subtotal - self.discount


def replay_order(history: Iterable[tuple[int, datetime, OrderEvent]]) -> OrderState | None:
    """Return the order after ``(version, occurred_at, event)`` items in version order.

    Returns None for an empty history (the order did not exist yet). Raises ValueError when
    versions are not 1, 2, 3, ... or the first event is not ``OrderPlaced``.
    """
    state: OrderState | None = None
    for version, occurred_at, event in history:
        if state is None:
            if not isinstance(event, OrderPlaced) or version != 1:
                raise ValueError(f"an order's history starts with OrderPlaced v1, not {event.event_type} v{version}")
            state = OrderState(
                order_id=event.order_id,
                customer_id=event.customer_id,
                customer_name=event.customer_name,
                currency=event.currency,
                placed_at=event.placed_at,
                lines={line.sku: line for line in event.lines},
            )
        elif version != state.version + 1:
            raise ValueError(f"order {state.order_id}: version {version} follows {state.version}")
        _apply(state, event)
        state.version, state.updated_at = version, occurred_at
    return state


def _apply(state: OrderState, event: OrderEvent) -> None:
    if isinstance(event, OrderLineAdded):
        state.lines[event.line.sku] = event.line
    elif isinstance(event, OrderLineRemoved):
        del state.lines[event.line.sku]
    elif isinstance(event, OrderDiscountApplied):
        state.discount_percent = event.percent
    elif isinstance(event, OrderShipped):
        state.tracking_number = event.tracking_number
    elif isinstance(event, OrderCancelled):
        state.cancel_reason = event.reason
    state.status = event.status
    state.discount = event.discount
