"""Read one customer: identity and running order statistics, from ``customer_stats``."""

from typing import Any

from orders_read.models import CustomerStats
from orders_read.queries.tables import reads

CUSTOMER_FIELDS = (
    "customer_id",
    "name",
    "email",
    "is_active",
    "order_count",
    "cancelled_count",
    "lifetime_value",
    "last_order_at",
    "version",
)


@reads(CustomerStats)
def customer_detail(*, customer_id: int) -> dict[str, Any] | None:
    """Return the customer's row, or None when it is unknown (or not projected yet). One query."""
    rows = list(CustomerStats.objects.filter(customer_id=customer_id).values(*CUSTOMER_FIELDS)[:1])
    return rows[0] if rows else None
