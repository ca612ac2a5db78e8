"""The event contract: the one thing the write side and the read side share.

Events are past-tense, frozen dataclasses with a ``schema_version``. Their payloads carry
everything a projection needs (names, prices, totals after the change), so no projection ever
reads a write table. This package imports nothing from the apps on either side.
"""

from events.base import Event
from events.catalog import (
    CustomerDeactivated,
    CustomerRegistered,
    CustomerRenamed,
    ProductAdded,
    ProductRepriced,
    ProductRetired,
)
from events.codec import EVENT_TYPES, UnknownEventError, decode, encode
from events.orders import (
    LineSnapshot,
    OrderCancelled,
    OrderConfirmed,
    OrderDelivered,
    OrderDiscountApplied,
    OrderEvent,
    OrderLineAdded,
    OrderLineRemoved,
    OrderPlaced,
    OrderShipped,
    OrderStatus,
)

__all__ = [
    "EVENT_TYPES",
    "CustomerDeactivated",
    "CustomerRegistered",
    "CustomerRenamed",
    "Event",
    "LineSnapshot",
    "OrderCancelled",
    "OrderConfirmed",
    "OrderDelivered",
    "OrderDiscountApplied",
    "OrderEvent",
    "OrderLineAdded",
    "OrderLineRemoved",
    "OrderPlaced",
    "OrderShipped",
    "OrderStatus",
    "ProductAdded",
    "ProductRepriced",
    "ProductRetired",
    "UnknownEventError",
    "decode",
    "encode",
]
