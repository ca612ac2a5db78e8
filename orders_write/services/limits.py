"""The text lengths the services accept, in one place, so other doors (the API's schema) state the same.

The lengths belong to the write side's columns. The numeric bounds (ids, versions, prices,
quantities, lines, discounts) are shared by every side and live in ``config.limits``. The
services enforce both themselves; the API repeats them only to document them truthfully.
"""

from orders_write.models.catalog import NAME_MAX_LENGTH, SKU_MAX_LENGTH
from orders_write.models.orders import CANCEL_REASON_MAX_LENGTH, TRACKING_NUMBER_MAX_LENGTH
from orders_write.services.customers import EMAIL_MAX_LENGTH
from orders_write.services.order_placement import IDEMPOTENCY_KEY_MAX_LENGTH

__all__ = [
    "CANCEL_REASON_MAX_LENGTH",
    "EMAIL_MAX_LENGTH",
    "IDEMPOTENCY_KEY_MAX_LENGTH",
    "NAME_MAX_LENGTH",
    "SKU_MAX_LENGTH",
    "TRACKING_NUMBER_MAX_LENGTH",
]
