"""The order_summary indexes serve the list queries: the planner picks them, with no sort step.

The customer rollups' ranking indexes serve the threshold ranking's first read of each month
and year (ADR 0021): the best customers of the period straight from the index.

The selectors' own SQL is captured and explained, on a table big enough (and analysed) for a
full scan to lose. The check runs on PostgreSQL, where the suite runs, and on SQLite alike:
both plans name the index they use.
"""

import re
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orders_read.models import CustomerSalesMonth, CustomerSalesYear
from orders_read.queries import customer_recent_orders, order_list, top_customers
from tests.read.rows import NOON, add_orders, order_summary

pytestmark = pytest.mark.django_db

ORDERS = 3_000
CUSTOMERS = 20  # 150 orders each: reading the newest 20 in index order beats fetching all and sorting
STATUSES = ("PENDING", "CONFIRMED", "SHIPPED", "DELIVERED", "CANCELLED")


@pytest.fixture
def many_orders():
    # Start from fresh storage: rows other tests inserted and rolled back linger as dead tuples
    # in the indexes until autovacuum runs, and can tip the planner. TRUNCATE inside this test's
    # transaction gives the table new, empty files (the old ones come back on rollback).
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE order_summary")
    add_orders(
        *(
            order_summary(
                customer_id=n % CUSTOMERS,
                status=STATUSES[n % len(STATUSES)],
                placed_at=NOON + timedelta(minutes=n),
            )
            for n in range(ORDERS)
        )
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE order_summary")


def _plan_of(run_selector) -> str:
    with CaptureQueriesContext(connection) as captured:
        run_selector()
    (query,) = captured.captured_queries
    with connection.cursor() as cursor:
        cursor.execute(f"{connection.ops.explain_query_prefix()} {query['sql']}")
        return "\n".join(" ".join(str(part) for part in row) for row in cursor.fetchall())


def _assert_served_by(plan: str, index: str) -> None:
    assert index in plan, plan
    assert "Seq Scan" not in plan, plan  # PostgreSQL: no full table scan
    assert not re.search(r"SCAN order_summary(?! USING)", plan), plan  # SQLite: no full table scan
    assert "Sort" not in plan and "TEMP B-TREE" not in plan, plan  # the index already yields the order


def test_a_customers_recent_orders_read_the_customer_index(many_orders):
    plan = _plan_of(lambda: customer_recent_orders(customer_id=7))
    _assert_served_by(plan, "order_summary_customer_recent")


def test_the_status_filtered_list_reads_the_status_index(many_orders):
    _, cursor = order_list(status="CANCELLED", limit=5)
    _assert_served_by(_plan_of(lambda: order_list(status="CANCELLED")), "order_summary_status_recent")
    _assert_served_by(_plan_of(lambda: order_list(status="CANCELLED", cursor=cursor)), "order_summary_status_recent")


def test_the_unfiltered_list_reads_the_newest_first_index(many_orders):
    _, cursor = order_list(limit=5)
    _assert_served_by(_plan_of(lambda: order_list()), "order_summary_recent")
    _assert_served_by(_plan_of(lambda: order_list(cursor=cursor)), "order_summary_recent")


def test_a_ranking_reads_the_best_customers_of_a_month_and_a_year_from_their_ranking_indexes():
    periods = {CustomerSalesMonth: ("month", date(2023, 12, 1)), CustomerSalesYear: ("year", date(2024, 1, 1))}
    for model, (period, first) in periods.items():
        model.objects.bulk_create(
            model(**{period: first}, customer_id=n, orders=1, revenue=n * 7 % 1000) for n in range(3_000)
        )
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {model._meta.db_table}")

    with CaptureQueriesContext(connection) as captured:
        top_customers(start=date(2023, 12, 1), end=date(2024, 12, 31))  # December's month row, 2024's year row
    with connection.cursor() as cursor:
        cursor.execute(f"{connection.ops.explain_query_prefix()} {captured.captured_queries[0]['sql']}")
        plan = "\n".join(" ".join(str(part) for part in row) for row in cursor.fetchall())

    assert "customer_sales_month_ranking" in plan and "customer_sales_year_ranking" in plan, plan
