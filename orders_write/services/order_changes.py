"""Change a placed order: its lines and discount while PENDING, then its status.

Every function locks the order, checks ``expected_version``, applies one rule-checked
change and records one event carrying the order's state after it.
"""

from typing import Any

from config.limits import MAX_DISCOUNT_AMOUNT, MAX_DISCOUNT_PERCENT, MAX_LINES, MAX_QUANTITY
from events import (
    OrderCancelled,
    OrderConfirmed,
    OrderDelivered,
    OrderDiscountApplied,
    OrderLineAdded,
    OrderLineRemoved,
    OrderShipped,
    OrderStatus,
)
from orders_write.errors import InvariantViolated, NotFound
from orders_write.models import OrderLine, Product
from orders_write.models.catalog import SKU_MAX_LENGTH
from orders_write.models.orders import CANCEL_REASON_MAX_LENGTH, TRACKING_NUMBER_MAX_LENGTH
from orders_write.services._command import CommandResult, command
from orders_write.services._order_aggregate import (
    discount_for,
    event_fields,
    lock_order,
    recompute_totals,
    require_status,
    save_order,
    snapshot,
)
from orders_write.services._validation import FieldErrors

PENDING = OrderStatus.PENDING
CONFIRMED = OrderStatus.CONFIRMED


def _check_order_args(errors: FieldErrors, order_id: Any, expected_version: Any) -> None:
    errors.identifier("order_id", order_id)
    errors.expected_version(expected_version)


@command
def order_line_add(
    *, order_id: int, sku: str, quantity: int, expected_version: int | None = None, actor: Any = None
) -> CommandResult:
    """Add a product at its current catalogue price; one line per sku."""
    errors = FieldErrors()
    _check_order_args(errors, order_id, expected_version)
    sku = errors.sku("sku", sku, max_length=SKU_MAX_LENGTH)
    errors.integer("quantity", quantity, minimum=1, maximum=MAX_QUANTITY)
    errors.raise_if_any()
    order = lock_order(order_id, expected_version)
    require_status(order, {PENDING}, "add_line")
    product = Product.objects.filter(sku=sku).first()
    if product is None or not product.is_active:
        state = "unknown product" if product is None else "product is retired"
        raise InvariantViolated(f"cannot add {sku!r}: {state}", details={"sku": [state]})
    existing = OrderLine.objects.filter(order=order).values_list("sku", flat=True)
    if sku in existing:
        raise InvariantViolated(
            f"{sku!r} is already on the order; remove it first to change its quantity",
            details={"sku": ["already on the order"]},
        )
    if len(existing) >= MAX_LINES:
        raise InvariantViolated(f"an order has at most {MAX_LINES} lines", details={"sku": ["too many lines"]})
    line = OrderLine.objects.create(
        order=order,
        product=product,
        sku=sku,
        product_name=product.name,
        quantity=quantity,
        unit_price=product.price,
        line_total=product.price * quantity,
    )
    recompute_totals(order)
    return save_order(order, OrderLineAdded(**event_fields(order), line=snapshot(line)), actor)


@command
def order_line_remove(
    *, order_id: int, sku: str, expected_version: int | None = None, actor: Any = None
) -> CommandResult:
    """Remove a line; the last line cannot go (cancel the order instead)."""
    errors = FieldErrors()
    _check_order_args(errors, order_id, expected_version)
    sku = errors.sku("sku", sku, max_length=SKU_MAX_LENGTH)
    errors.raise_if_any()
    order = lock_order(order_id, expected_version)
    require_status(order, {PENDING}, "remove_line")
    lines = list(OrderLine.objects.filter(order=order))
    line = next((line for line in lines if line.sku == sku), None)
    if line is None:
        raise NotFound(f"order {order_id} has no line for {sku!r}", details={"sku": sku})
    if len(lines) == 1:
        raise InvariantViolated(
            "an order needs at least one line; cancel the order instead", details={"sku": ["last line"]}
        )
    removed = snapshot(line)
    line.delete()
    recompute_totals(order)
    return save_order(order, OrderLineRemoved(**event_fields(order), line=removed), actor)


@command
def order_discount_apply(
    *,
    order_id: int,
    percent: int | None = None,
    amount: int | None = None,
    expected_version: int | None = None,
    actor: Any = None,
) -> CommandResult:
    """Set the order's discount as a whole percent (0-100) or an amount in minor units.

    It replaces any earlier discount; zero removes it. A percentage follows later line
    changes; an amount stays fixed and may never exceed the subtotal.
    """
    errors = FieldErrors()
    _check_order_args(errors, order_id, expected_version)
    if (percent is None) == (amount is None):
        errors.add("percent", "give exactly one of percent and amount")
    elif percent is not None:
        errors.integer("percent", percent, minimum=0, maximum=MAX_DISCOUNT_PERCENT)
    else:
        errors.integer("amount", amount, minimum=0, maximum=MAX_DISCOUNT_AMOUNT)
    errors.raise_if_any()
    order = lock_order(order_id, expected_version)
    require_status(order, {PENDING}, "apply_discount")
    order.discount_percent = percent
    order.discount = discount_for(order.subtotal, percent) if percent is not None else amount
    if order.discount > order.subtotal:
        raise InvariantViolated(
            "the discount exceeds the order's subtotal",
            details={"amount": [f"at most {order.subtotal}"]},
        )
    order.total = order.subtotal - order.discount
    return save_order(order, OrderDiscountApplied(**event_fields(order), percent=percent, amount=amount), actor)


@command
def order_confirm(*, order_id: int, expected_version: int | None = None, actor: Any = None) -> CommandResult:
    order = _locked(order_id, expected_version)
    require_status(order, {PENDING}, "confirm")
    order.status = CONFIRMED
    return save_order(order, OrderConfirmed(**event_fields(order)), actor)


@command
def order_ship(
    *, order_id: int, tracking_number: str, expected_version: int | None = None, actor: Any = None
) -> CommandResult:
    errors = FieldErrors()
    _check_order_args(errors, order_id, expected_version)
    tracking_number = errors.text("tracking_number", tracking_number, max_length=TRACKING_NUMBER_MAX_LENGTH)
    errors.raise_if_any()
    order = lock_order(order_id, expected_version)
    require_status(order, {CONFIRMED}, "ship")
    order.status, order.tracking_number = OrderStatus.SHIPPED, tracking_number
    return save_order(order, OrderShipped(**event_fields(order), tracking_number=tracking_number), actor)


@command
def order_deliver(*, order_id: int, expected_version: int | None = None, actor: Any = None) -> CommandResult:
    order = _locked(order_id, expected_version)
    require_status(order, {OrderStatus.SHIPPED}, "deliver")
    order.status = OrderStatus.DELIVERED
    return save_order(order, OrderDelivered(**event_fields(order)), actor)


@command
def order_cancel(
    *, order_id: int, reason: str, expected_version: int | None = None, actor: Any = None
) -> CommandResult:
    """Cancel an order that has not shipped yet."""
    errors = FieldErrors()
    _check_order_args(errors, order_id, expected_version)
    reason = errors.text("reason", reason, max_length=CANCEL_REASON_MAX_LENGTH)
    errors.raise_if_any()
    order = lock_order(order_id, expected_version)
    require_status(order, {PENDING, CONFIRMED}, "cancel")
    previous_status = order.status
    order.status, order.cancel_reason = OrderStatus.CANCELLED, reason
    event = OrderCancelled(**event_fields(order), reason=reason, previous_status=previous_status)
    return save_order(order, event, actor)


def _locked(order_id: Any, expected_version: Any):
    errors = FieldErrors()
    _check_order_args(errors, order_id, expected_version)
    errors.raise_if_any()
    return lock_order(order_id, expected_version)
