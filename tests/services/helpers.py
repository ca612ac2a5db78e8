"""Helpers for the domain-service tests.

``fingerprint`` captures everything the write side stores; ``assert_rejected`` runs a command
that must fail and checks both halves of the promise: the right ``DomainError`` with its stable
code, and not a single row written or changed.
"""

from collections.abc import Callable
from typing import Any

import pytest
from django.db.models import Max

from events import OrderStatus
from orders_write.errors import (
    DomainError,
    IdempotencyKeyReused,
    InvalidTransition,
    InvariantViolated,
    NotFound,
    ValidationFailed,
    VersionConflict,
)
from orders_write.models import Customer, IdempotencyRecord, Order, OrderLine, OutboxEvent, Product
from orders_write.services import order_cancel, order_confirm, order_deliver, order_ship

ERROR_BY_CODE: dict[str, type[DomainError]] = {
    cls.code: cls
    for cls in (ValidationFailed, NotFound, InvariantViolated, InvalidTransition, VersionConflict, IdempotencyKeyReused)
}
COUNTED_MODELS = (Customer, Product, Order, OrderLine, OutboxEvent, IdempotencyRecord)


def fingerprint(*, order_id: int | None = None) -> dict[str, Any]:
    """Return the whole write side as comparable data.

    Row counts and the outbox head catch any insert or delete; the per-row tuples catch any
    update (every order's version, status and money, so the touched order is always covered;
    ``order_id`` also names it on its own line to make a failing diff easy to read).
    """
    touched = None
    if order_id is not None:
        touched = Order.objects.filter(pk=order_id).values_list("version", "status", "total").first()
    return {
        "counts": {model.__name__: model.objects.count() for model in COUNTED_MODELS},
        "max_position": OutboxEvent.objects.aggregate(head=Max("position"))["head"],
        "touched_order": touched,
        "orders": list(
            Order.objects.order_by("pk").values_list(
                "pk",
                "version",
                "status",
                "subtotal",
                "discount",
                "discount_percent",
                "total",
                "item_count",
                "tracking_number",
                "cancel_reason",
                "updated_at",
            )
        ),
        "lines": list(
            OrderLine.objects.order_by("pk").values_list(
                "pk", "order_id", "sku", "product_name", "quantity", "unit_price", "line_total"
            )
        ),
        "customers": list(
            Customer.objects.order_by("pk").values_list("pk", "version", "name", "email", "is_active", "updated_at")
        ),
        "products": list(
            Product.objects.order_by("pk").values_list(
                "pk", "version", "sku", "name", "price", "is_active", "updated_at"
            )
        ),
        "idempotency": list(
            IdempotencyRecord.objects.order_by("pk").values_list(
                "pk", "scope", "key", "request_fingerprint", "order_id", "version", "position"
            )
        ),
    }


def assert_rejected(
    call: Callable[[], Any], code: str, *, detail: str | None = None, order_id: int | None = None
) -> DomainError:
    """Run ``call``; assert it raised the ``DomainError`` for ``code`` and wrote nothing.

    ``detail`` names a key the error's ``details`` must carry (the offending field).
    Anything that is not a ``DomainError`` (a database error, a TypeError) propagates and
    fails the test.
    """
    before = fingerprint(order_id=order_id)
    with pytest.raises(DomainError) as excinfo:
        call()
    error = excinfo.value
    assert type(error) is ERROR_BY_CODE[code], f"expected {code}, got {error.code}: {error.message} {error.details}"
    assert error.code == code
    assert error.as_dict() == {"code": code, "message": error.message, "details": error.details}
    assert error.message
    if detail is not None:
        assert detail in error.details, error.details
    assert fingerprint(order_id=order_id) == before, "a rejected command changed the write side"
    return error


def last_event() -> OutboxEvent:
    return OutboxEvent.objects.order_by("-position").first()


def events_of(aggregate_type: str, aggregate_id: int) -> list[OutboxEvent]:
    return list(
        OutboxEvent.objects.filter(aggregate_type=aggregate_type, aggregate_id=aggregate_id).order_by("position")
    )


def outbox_count() -> int:
    return OutboxEvent.objects.count()


def advance(order_id: int, status: OrderStatus) -> None:
    """Move a PENDING order to ``status`` through the services (CANCELLED straight from PENDING)."""
    if status == OrderStatus.CANCELLED:
        order_cancel(order_id=order_id, reason="changed my mind")
        return
    steps = {
        OrderStatus.PENDING: [],
        OrderStatus.CONFIRMED: [order_confirm],
        OrderStatus.SHIPPED: [order_confirm, order_ship],
        OrderStatus.DELIVERED: [order_confirm, order_ship, order_deliver],
    }[status]
    for step in steps:
        if step is order_ship:
            step(order_id=order_id, tracking_number="TRACK-1")
        else:
            step(order_id=order_id)
