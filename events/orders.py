"""Events of the order aggregate.

Every order event carries the order's status and money *after* the change, plus its customer
and placement time, so a projection can update any denormalised row from the event alone.
"""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from events.base import Event


class OrderStatus(StrEnum):
    PENDING = "PENDING"
    CONFIRMED = "CONFIRMED"
    SHIPPED = "SHIPPED"
    DELIVERED = "DELIVERED"
    CANCELLED = "CANCELLED"


@dataclass(frozen=True, kw_only=True)
class LineSnapshot:
    """One order line with the price frozen when it was added."""

    sku: str
    product_id: int
    product_name: str
    quantity: int
    unit_price: int
    line_total: int


@dataclass(frozen=True, kw_only=True)
class OrderEvent(Event):
    aggregate_type: ClassVar[str] = "order"
    aggregate_id_field: ClassVar[str] = "order_id"

    order_id: int
    customer_id: int
    placed_at: datetime
    currency: str
    status: str
    subtotal: int
    discount: int
    total: int
    item_count: int


@dataclass(frozen=True, kw_only=True)
class OrderPlaced(OrderEvent):
    event_type: ClassVar[str] = "OrderPlaced"
    customer_name: str
    lines: tuple[LineSnapshot, ...]


@dataclass(frozen=True, kw_only=True)
class OrderLineAdded(OrderEvent):
    event_type: ClassVar[str] = "OrderLineAdded"
    line: LineSnapshot


@dataclass(frozen=True, kw_only=True)
class OrderLineRemoved(OrderEvent):
    event_type: ClassVar[str] = "OrderLineRemoved"
    line: LineSnapshot


@dataclass(frozen=True, kw_only=True)
class OrderDiscountApplied(OrderEvent):
    """A discount was set; exactly one of ``percent`` and ``amount`` says how it was asked."""

    event_type: ClassVar[str] = "OrderDiscountApplied"
    percent: int | None
    amount: int | None


@dataclass(frozen=True, kw_only=True)
class OrderConfirmed(OrderEvent):
    event_type: ClassVar[str] = "OrderConfirmed"


@dataclass(frozen=True, kw_only=True)
class OrderShipped(OrderEvent):
    event_type: ClassVar[str] = "OrderShipped"
    tracking_number: str


@dataclass(frozen=True, kw_only=True)
class OrderDelivered(OrderEvent):
    event_type: ClassVar[str] = "OrderDelivered"


@dataclass(frozen=True, kw_only=True)
class OrderCancelled(OrderEvent):
    event_type: ClassVar[str] = "OrderCancelled"
    reason: str
    previous_status: str
