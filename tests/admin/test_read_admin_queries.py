"""What the read-side admin pages cost: which tables they touch, how many queries, which indexes.

Every statement a page runs is captured: none may name a write-side table or the outbox, the
count must not grow with the rows, the list pages must read an index range in order (no sort,
no full scan), and with a large estimate nothing is counted at all.
"""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from config import admin_paginator
from config.rights import VIEW_REPORTS
from tests.read.rows import (
    NOON,
    add_customer,
    add_customer_day,
    add_day,
    add_line,
    add_order,
    add_orders,
    add_product_day,
    order_summary,
)

pytestmark = pytest.mark.django_db

WRITE_SIDE_MARKERS = ("orders_write_", "outbox_event")
ORDERS = "/admin/orders_read/ordersummary/"
DAYS = "/admin/orders_read/dailysales/"
STATUSES = ("PENDING", "CONFIRMED", "SHIPPED", "DELIVERED", "CANCELLED")


@pytest.fixture
def viewer() -> Client:
    user = get_user_model().objects.create_user(username="viewer", is_staff=True)
    app_label, codename = VIEW_REPORTS.split(".")
    user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    client = Client()
    client.force_login(user)
    return client


def add_many_orders(count: int, *, start: int = 0) -> None:
    add_orders(
        *(
            order_summary(customer_id=n % 20, status=STATUSES[n % 5], placed_at=NOON + timedelta(minutes=n))
            for n in range(start, start + count)
        )
    )


def statements(client: Client, url: str, params: dict | None = None) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params or {})
    assert response.status_code == 200, (url, params, response.status_code)
    return [query["sql"] for query in captured.captured_queries]


def read_side_pages(order_id: int) -> list[tuple[str, dict]]:
    return [
        ("/admin/", {}),
        ("/admin/orders_read/", {}),
        (ORDERS, {}),
        (ORDERS, {"status": "SHIPPED", "customer": "7", "q": "7"}),
        (ORDERS, {"placed_at__year": "2024", "placed_at__month": "3"}),
        (f"{ORDERS}{order_id}/change/", {}),
        ("/admin/orders_read/customerstats/", {"q": "7", "is_active__exact": "1"}),
        ("/admin/orders_read/customerstats/7/change/", {}),
        (DAYS, {"day__year": "2024"}),
        (f"{DAYS}2024-03-01/change/", {}),
        (f"{DAYS}products/", {"start": "2024-02-01", "end": "2024-03-31", "sku": "TEA-1"}),
        (f"{DAYS}customers/", {"start": "2024-02-01", "end": "2024-03-31", "customer_id": "7"}),
    ]


def test_no_read_side_admin_page_touches_a_write_side_table(viewer):
    order = add_order(customer_id=7, status="SHIPPED")
    add_line(order_id=order.order_id, sku="TEA-1")
    add_customer(customer_id=7, name="Ada Lovelace")
    add_day(date(2024, 3, 1), orders=1, revenue=2500)
    add_product_day(date(2024, 3, 1), sku="TEA-1", units=2, revenue=2500)
    add_customer_day(date(2024, 3, 1), customer_id=7, orders=1, revenue=2500)

    for url, params in read_side_pages(order.order_id):
        for sql in statements(viewer, url, params):
            assert not any(marker in sql.lower() for marker in WRITE_SIDE_MARKERS), (url, sql)


@pytest.mark.parametrize(
    "url, params",
    [
        (ORDERS, {}),
        (ORDERS, {"status": "SHIPPED"}),
        (ORDERS, {"customer": "3", "placed_at__year": "2024"}),
        (ORDERS, {"q": "3"}),
        ("/admin/orders_read/customerstats/", {}),
        (DAYS, {}),
        (f"{DAYS}products/", {"start": "2024-03-01", "end": "2024-03-31"}),
        (f"{DAYS}customers/", {"start": "2024-03-01", "end": "2024-03-31"}),
    ],
)
def test_list_pages_run_a_few_queries_however_many_rows_there_are(viewer, url, params):
    def populate(count: int, start: int) -> None:
        add_many_orders(count, start=start)
        for n in range(start, start + count):
            add_customer(customer_id=1000 + n, name=f"Customer {n}")
            add_day(date(2020, 1, 1) + timedelta(days=n), orders=1, revenue=100)
            add_product_day(date(2024, 3, 1) + timedelta(days=n % 28), sku=f"SKU-{n}", units=1, revenue=100)
            add_customer_day(date(2024, 3, 1) + timedelta(days=n % 28), customer_id=1000 + n, orders=1, revenue=100)

    populate(3, 0)
    few = len(statements(viewer, url, params))
    populate(150, 3)
    many = len(statements(viewer, url, params))
    assert few == many <= 10, (few, many)


def test_a_large_list_is_estimated_never_counted(viewer, monkeypatch):
    monkeypatch.setattr(admin_paginator, "EXACT_BELOW", 0)  # every estimate counts as "large"
    add_many_orders(120)

    for params in ({}, {"status": "SHIPPED"}, {"placed_at__year": "2024"}):
        sqls = statements(viewer, ORDERS, params)
        assert not [sql for sql in sqls if "COUNT(" in sql.upper()], params
        assert any(sql.startswith("EXPLAIN") for sql in sqls), params


def test_the_date_drill_down_reads_the_ends_of_the_index_not_every_date(viewer):
    add_many_orders(50)
    sqls = statements(viewer, ORDERS, {"placed_at__year": "2024"})
    assert not [sql for sql in sqls if "DISTINCT" in sql.upper() or "DATE_TRUNC" in sql.upper()]
    assert [sql for sql in sqls if "MIN(" in sql.upper() and "MAX(" in sql.upper()]


def _plan(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.parametrize(
    "params",
    [{}, {"status": "SHIPPED"}, {"customer": "7"}, {"placed_at__year": "2024", "placed_at__month": "3"}],
)
def test_order_list_pages_are_one_index_range_in_order(viewer, params):
    add_many_orders(3000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE order_summary")

    sqls = statements(viewer, ORDERS, params)
    (page,) = [sql for sql in sqls if 'FROM "order_summary"' in sql and "LIMIT" in sql and "EXPLAIN" not in sql]
    plan = _plan(page)
    # Which index wins depends on selectivity (status SHIPPED is a fifth of the rows here);
    # every order_summary index yields the list order, so a page never sorts or scans the table.
    assert re.search(r"Index Scan( Backward)? using order_summary_\w+", plan), plan
    assert "Seq Scan" not in plan and "Sort" not in plan, plan
    for sql in sqls:
        if re.search(r"\bMIN\(", sql):
            assert "Seq Scan" not in _plan(sql), sql


def test_a_newest_order_is_listed_first(viewer):
    add_order(placed_at=datetime(2024, 1, 1, tzinfo=UTC))
    newest = add_order(placed_at=datetime(2024, 6, 1, tzinfo=UTC))
    response = viewer.get(ORDERS)
    assert response.context["cl"].result_list[0].order_id == newest.order_id
