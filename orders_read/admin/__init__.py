"""The read tables in the staff admin: searchable, filterable, and strictly read-only.

``order_summary``, ``customer_stats`` and ``daily_sales`` are registered as models. The three
tables with composite keys, which Django 5.2's admin cannot register, are shown another way:
an order's lines (``order_line_view``) on its order page, ``product_sales`` and
``customer_sales`` as list pages under the daily-sales admin, linked from its list, from each
day's page and from this app's index page.
"""

from orders_read.admin import customers, orders, sales

__all__ = ["customers", "orders", "sales"]
