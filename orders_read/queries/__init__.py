"""The read side's query functions (selectors): the only way screens and the API read orders.

Each selector reads read tables only, in one query or a small fixed number (stated in its
docstring and held by tests), and returns plain dicts and lists ready to serialise.
"""

from orders_read.queries.customers import customer_detail
from orders_read.queries.orders import customer_recent_orders, order_detail, order_list
from orders_read.queries.pagination import InvalidCursor, decode_cursor, encode_cursor
from orders_read.queries.reports import (
    average_order_value,
    daily_sales_series,
    sales_summary,
    top_customers,
    top_products,
)

__all__ = [
    "InvalidCursor",
    "average_order_value",
    "customer_detail",
    "customer_recent_orders",
    "daily_sales_series",
    "decode_cursor",
    "encode_cursor",
    "order_detail",
    "order_list",
    "sales_summary",
    "top_customers",
    "top_products",
]
