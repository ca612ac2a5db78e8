"""The dashboard and its exports read no write-side table, and run a fixed number of queries.

Every statement the views run is captured: none may name an ``orders_write_*`` table, every
table named must be a read table, a projection's own bookkeeping, the outbox (the log whose
head and pending events the health report and watermark measure) or the session and auth
tables, and the count must not grow with the data.
"""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config.rights import VIEW_REPORTS
from orders_read.dashboard.export import TABLES
from orders_read.dashboard.range import today_utc
from tests.dashboard.conftest import logged_in, make_user
from tests.read.rows import (
    READ_TABLES,
    add_customer,
    add_customer_day,
    add_day,
    add_orders,
    add_product_day,
    order_summary,
    tables_named,
)

pytestmark = pytest.mark.usefixtures("read_tables")

ALLOWED_TABLES = READ_TABLES | {
    "projection_checkpoint",
    "projection_parked_stream",
    "outbox_event",
    "outbox_timeline",  # which cluster wrote which positions: part of the log (ADR 0017)
    "pg_control_system",  # the cluster's identity, to tell a restore
    "shared_cache",  # a relay's receiver-down record (the webhooks relay's), in the read database's cache
    "django_session",
    "auth_user",
    "auth_permission",
    "auth_user_user_permissions",
    "auth_user_groups",
    "auth_group",
    "auth_group_permissions",
    "django_content_type",
}
PAGE_QUERY_LIMIT = 21  # the health of every consumer included: the webhooks relay costs a lag count and a cache read
EXPORT_QUERY_LIMIT = 6
EXPORTS = sorted(TABLES)


def _add_data(days: range, per_day: int, *, first_id: int) -> None:
    """Fill the read tables as ``per_day`` orders on each of ``days`` days ago would (rows, not events)."""
    today = today_utc()
    orders = []
    for back in days:
        day = today - timedelta(days=back)
        add_day(day, orders=per_day, revenue=per_day * 1000, cancellations=1)
        add_product_day(day, sku=f"SKU-{back}", units=per_day, revenue=per_day * 900)
        add_customer(customer_id=first_id + back, name=f"Customer {back}")
        add_customer_day(day, customer_id=first_id + back, orders=per_day, revenue=per_day * 1000)
        midnight = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
        orders += [
            order_summary(order_id=first_id * 1000 + back * per_day + n, placed_at=midnight + timedelta(minutes=n))
            for n in range(per_day)
        ]
    add_orders(*orders)


def _captured(client, path: str) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200, path
    return [query["sql"] for query in captured.captured_queries]


def _assert_read_side_only(statements: list[str]) -> None:
    for sql in statements:
        assert "orders_write_" not in sql.lower(), sql
        tables = tables_named(sql)
        assert tables <= ALLOWED_TABLES, sql


@pytest.mark.parametrize("staff", [False, True], ids=["report viewer", "staff report viewer"])
def test_the_page_reads_only_read_side_tables_in_a_count_independent_of_the_data(staff):
    client = logged_in(make_user(VIEW_REPORTS, staff=staff))
    path = "/dashboard/?range=last_90_days"

    _add_data(range(2), per_day=1, first_id=1)
    client.get(path)  # a connection reads the outbox's timelines once (ADR 0017)
    few = _captured(client, path)
    _add_data(range(2, 62), per_day=25, first_id=100)
    many = _captured(client, path)

    _assert_read_side_only(few + many)
    assert len(many) == len(few) <= PAGE_QUERY_LIMIT


@pytest.mark.parametrize("table", EXPORTS)
def test_each_export_reads_only_read_side_tables_in_a_count_independent_of_the_data(viewer_client, table):
    path = f"/dashboard/export/{table}.csv?range=this_year"

    _add_data(range(1), per_day=1, first_id=1)
    viewer_client.get(path)  # a connection reads the outbox's timelines once (ADR 0017)
    few = _captured(viewer_client, path)
    _add_data(range(1, 41), per_day=10, first_id=100)
    many = _captured(viewer_client, path)

    _assert_read_side_only(few + many)
    assert len(many) == len(few) <= EXPORT_QUERY_LIMIT


def test_the_page_reads_the_read_tables_it_shows(viewer_client):
    statements = _captured(viewer_client, "/dashboard/")
    tables = {table for sql in statements for table in tables_named(sql)}

    assert {"daily_sales", "order_summary", "customer_stats", "order_status_month", "product_sales_month"} <= tables
    assert "order_line_view" not in tables


def test_a_range_of_a_year_costs_one_daily_series_and_one_rollup_totals_query(viewer_client):
    start = date(2023, 1, 1)
    statements = _captured(viewer_client, f"/dashboard/?from={start}&to={start + timedelta(days=365)}")

    # The series of the range, and the previous range's totals (its months plus edge days, ADR 0021).
    assert sum("daily_sales" in sql for sql in statements) == 2
    assert sum("monthly_sales" in sql for sql in statements) == 1
