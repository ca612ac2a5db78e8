"""Write-side models. Change them only through ``orders_write.services``."""

from orders_write.models.catalog import Customer, Product
from orders_write.models.guard import WriteOutsideServiceError
from orders_write.models.orders import Order, OrderLine
from orders_write.models.outbox import IdempotencyRecord, OutboxEvent

__all__ = ["Customer", "IdempotencyRecord", "Order", "OrderLine", "OutboxEvent", "Product", "WriteOutsideServiceError"]
