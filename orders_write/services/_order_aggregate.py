"""Load, check, recompute and save one order inside a command's transaction."""

from typing import Any

from django.db.models import Sum

from events import LineSnapshot, OrderEvent, OrderStatus
from orders_write import clock, outbox
from orders_write.errors import InvalidTransition, InvariantViolated, NotFound
from orders_write.models import Order, OrderLine
from orders_write.services._command import CommandResult, check_expected_version


def lock_order(order_id: int, expected_version: int | None) -> Order:
    """Lock the order row for the rest of the transaction, then check the caller's version.

    The row lock serialises concurrent commands on one order even when they carry no
    ``expected_version``: each reads the state the previous one committed, so none is lost.
    """
    order = Order.objects.select_for_update().filter(pk=order_id).first()
    if order is None:
        raise NotFound(f"order {order_id} does not exist", details={"order_id": order_id})
    check_expected_version(aggregate="order", expected_version=expected_version, current_version=order.version)
    return order


def require_status(order: Order, allowed: set[OrderStatus], action: str) -> None:
    if order.status not in allowed:
        raise InvalidTransition(
            f"cannot {action.replace('_', ' ')} an order that is {order.status}",
            details={
                "status": order.status,
                "action": action,
                "allowed_from": sorted(status.value for status in allowed),
            },
        )


def snapshot(line: OrderLine) -> LineSnapshot:
    return LineSnapshot(
        sku=line.sku,
        product_id=line.product_id,
        product_name=line.product_name,
        quantity=line.quantity,
        unit_price=line.unit_price,
        line_total=line.line_total,
    )


def discount_for(subtotal: int, percent: int) -> int:
    """Return ``percent`` of ``subtotal`` rounded half up, in integer arithmetic."""
    return (subtotal * percent + 50) // 100


def recompute_totals(order: Order) -> None:
    """Set subtotal, item count, discount and total from the order's stored lines.

    A percentage discount follows the new subtotal; an amount discount stays and must not
    exceed it, because a total is never negative.
    """
    sums = OrderLine.objects.filter(order=order).aggregate(subtotal=Sum("line_total"), items=Sum("quantity"))
    order.subtotal = sums["subtotal"] or 0
    order.item_count = sums["items"] or 0
    if order.discount_percent is not None:
        order.discount = discount_for(order.subtotal, order.discount_percent)
    if order.discount > order.subtotal:
        raise InvariantViolated(
            "the discount would exceed the order's subtotal",
            details={"discount": order.discount, "subtotal": order.subtotal},
        )
    order.total = order.subtotal - order.discount


def event_fields(order: Order) -> dict[str, Any]:
    """Return the fields every order event carries: the order's state after the change."""
    return {
        "order_id": order.pk,
        "customer_id": order.customer_id,
        "placed_at": order.placed_at,
        "currency": order.currency,
        "status": order.status,
        "subtotal": order.subtotal,
        "discount": order.discount,
        "total": order.total,
        "item_count": order.item_count,
    }


def save_order(order: Order, event: OrderEvent, actor: Any) -> CommandResult:
    """Save the changed order and append its event, one version further, in one transaction."""
    order.version += 1
    order.updated_at = clock.now()
    order.save()
    position = outbox.append([(event, order.version)], actor=actor)
    return CommandResult(order.pk, order.version, position)
