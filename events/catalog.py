"""Events of the customer and product aggregates."""

from dataclasses import dataclass
from typing import ClassVar

from events.base import Event


@dataclass(frozen=True, kw_only=True)
class CustomerEvent(Event):
    aggregate_type: ClassVar[str] = "customer"
    aggregate_id_field: ClassVar[str] = "customer_id"

    customer_id: int


@dataclass(frozen=True, kw_only=True)
class CustomerRegistered(CustomerEvent):
    event_type: ClassVar[str] = "CustomerRegistered"
    contact_fields: ClassVar[tuple[str, ...]] = ("email",)
    name: str
    email: str


@dataclass(frozen=True, kw_only=True)
class CustomerRenamed(CustomerEvent):
    event_type: ClassVar[str] = "CustomerRenamed"
    name: str
    previous_name: str


@dataclass(frozen=True, kw_only=True)
class CustomerDeactivated(CustomerEvent):
    event_type: ClassVar[str] = "CustomerDeactivated"


@dataclass(frozen=True, kw_only=True)
class ProductEvent(Event):
    aggregate_type: ClassVar[str] = "product"
    aggregate_id_field: ClassVar[str] = "product_id"

    product_id: int
    sku: str


@dataclass(frozen=True, kw_only=True)
class ProductAdded(ProductEvent):
    event_type: ClassVar[str] = "ProductAdded"
    name: str
    price: int
    currency: str


@dataclass(frozen=True, kw_only=True)
class ProductRepriced(ProductEvent):
    event_type: ClassVar[str] = "ProductRepriced"
    price: int
    previous_price: int


@dataclass(frozen=True, kw_only=True)
class ProductRetired(ProductEvent):
    event_type: ClassVar[str] = "ProductRetired"
