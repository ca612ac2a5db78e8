"""Domain services: the only code that changes write-side models.

Each is a keyword-only, typed function running as one transaction that records its
events in the outbox. Callers: the REST API, the admin, management commands, tests.
"""

from orders_write.services._command import CommandResult
from orders_write.services.customers import customer_deactivate, customer_register, customer_rename
from orders_write.services.order_changes import (
    order_cancel,
    order_confirm,
    order_deliver,
    order_discount_apply,
    order_line_add,
    order_line_remove,
    order_ship,
)
from orders_write.services.order_placement import LineInput, order_place
from orders_write.services.products import product_add, product_reprice, product_retire

__all__ = [
    "CommandResult",
    "LineInput",
    "customer_deactivate",
    "customer_register",
    "customer_rename",
    "order_cancel",
    "order_confirm",
    "order_deliver",
    "order_discount_apply",
    "order_line_add",
    "order_line_remove",
    "order_place",
    "order_ship",
    "product_add",
    "product_reprice",
    "product_retire",
]
