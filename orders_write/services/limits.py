"""The bounds the services accept, in one place, so other doors (the API's schema) state the same.

The services enforce these themselves; the API repeats them only to document them truthfully.
"""

from orders_write.models.catalog import NAME_MAX_LENGTH, SKU_MAX_LENGTH
from orders_write.models.orders import CANCEL_REASON_MAX_LENGTH, MAX_QUANTITY, TRACKING_NUMBER_MAX_LENGTH
from orders_write.services._validation import MAX_ID, MAX_PRICE
from orders_write.services.customers import EMAIL_MAX_LENGTH
from orders_write.services.order_placement import IDEMPOTENCY_KEY_MAX_LENGTH, MAX_LINES

__all__ = [
    "CANCEL_REASON_MAX_LENGTH",
    "EMAIL_MAX_LENGTH",
    "IDEMPOTENCY_KEY_MAX_LENGTH",
    "MAX_ID",
    "MAX_LINES",
    "MAX_PRICE",
    "MAX_QUANTITY",
    "NAME_MAX_LENGTH",
    "SKU_MAX_LENGTH",
    "TRACKING_NUMBER_MAX_LENGTH",
]
