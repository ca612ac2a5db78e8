"""Every selector reads read tables only: no statement mentions a write-side table or the outbox."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orders_read import queries
from tests.read.rows import NOON, READ_TABLES, add_line, add_order, add_orders, order_summary, tables_named

pytestmark = pytest.mark.django_db

WRITE_SIDE_MARKERS = ("orders_write_", "outbox_event")


def test_selectors_never_touch_a_write_side_table():
    order = add_order(customer_id=5)
    add_line(order_id=order.order_id, sku="TEA")
    add_orders(*(order_summary(customer_id=5, placed_at=NOON - timedelta(minutes=i)) for i in range(1, 4)))
    day = NOON.date()

    with CaptureQueriesContext(connection) as captured:
        queries.order_detail(order_id=order.order_id)
        queries.customer_recent_orders(customer_id=5)
        _, cursor = queries.order_list(limit=2)
        queries.order_list(
            customer_id=5, status="PENDING", placed_after=NOON - timedelta(days=1), placed_before=NOON, cursor=cursor
        )
        queries.sales_summary(start=day, end=day)
        queries.daily_sales_series(start=day, end=day + timedelta(days=1))
        queries.top_products(start=day, end=day)
        queries.top_customers(start=day, end=day)

    statements = [query["sql"] for query in captured.captured_queries]
    assert len(statements) == 2 + 1 + 1 + 1 + 2 + 1 + 1 + 1
    for sql in statements:
        assert not any(marker in sql.lower() for marker in WRITE_SIDE_MARKERS), sql
        tables = tables_named(sql)
        assert tables and tables <= READ_TABLES, sql
