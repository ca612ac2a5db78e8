"""What a query request costs in SQL: a fixed number of statements, none on a write table.

Every count below is for a user holding one right (``manager_client``):

- ``AUTH`` = 2: the token with its user (one join), then the user's rights, their own and
  their groups' in one statement (``api.permissions.load_rights``; ADR 0023); nothing for the
  query throttle (its counts are in memory or Redis, never the database);
- ``WATERMARK`` = 2: the checkpoints, then one watermark statement for the one projection
  behind the query (``projections/consistency.py``);
- then the selector's own statements (``orders_read/queries``).

Each endpoint is measured with 5 orders and again with 60 (more customers, products, days,
lines and events): the count must be the same. Statements may read ``outbox_event`` only to
check positions (the watermark, the head, the projections' lag) or, for the history, the
order's own events.
"""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orders_write.clock import frozen_at
from orders_write.services import (
    LineInput,
    order_confirm,
    order_deliver,
    order_line_add,
    order_place,
    order_ship,
)
from tests.api.draining import drain_settled

AUTH = 2
WATERMARK = 2
# The reports read the per-day tables (sales) and the rollups (reports, ADR 0021): the
# checkpoints, then one watermark per projection.
REPORTS_WATERMARK = 3
START = datetime(2024, 1, 1, 9, 0, tzinfo=UTC)
RANGE = {"from": date(2024, 1, 1), "to": date(2024, 2, 29)}
WRITE_TABLES = tuple(
    apps.get_model("orders_write", name)._meta.db_table for name in ("Order", "OrderLine", "Customer", "Product")
)
OUTBOX = "outbox_event"
POSITION_CHECKS = (
    re.compile(r"SELECT LEAST\(\s*\(SELECT MIN\(position\) - 1 FROM \(\s*SELECT position FROM outbox_event"),
    re.compile(r"^SELECT COALESCE\(MAX\(position\), 0\) FROM outbox_event$"),
)
LAG_CHECK = re.compile(  # every consumer's bounded lag count, joined in one statement (ADR 0024)
    r"^\(SELECT 0 AS consumer, \* FROM \(\s+SELECT COUNT\(\*\), MIN\(occurred_at\) FROM \(\s+"
    r"\(SELECT occurred_at FROM outbox_event\s+WHERE \(txid, position\) >"
)
HISTORY_READ = re.compile(r"FROM outbox_event\s+WHERE aggregate_type = .* AND aggregate_id = ")


class Shop:
    """Orders placed through the services; ``grow`` adds rows of every kind the queries read."""

    def __init__(self, make_customer, make_product) -> None:
        self.make_customer, self.make_product = make_customer, make_product
        self.customer = make_customer("Ada")
        self.skus = [make_product(price=100 + n) for n in range(3)]
        self.detail = self.place(self.customer, self.skus[:1], day=0)
        self.history = self.place(self.customer, self.skus[1:2], day=1)
        order_confirm(order_id=self.history)
        for day in (2, 3, 4):
            self.place(self.customer, self.skus, day=day)
        self.orders = 5

    def place(self, customer: int, skus: list[str], *, day: int) -> int:
        with frozen_at(START + timedelta(days=day, minutes=len(skus))):
            return order_place(customer_id=customer, lines=[LineInput(sku, 1) for sku in skus]).order_id

    def grow(self) -> None:
        """Go from 5 orders to 60: 11 more customers, 20 more products, 55 more days of sales."""
        for _ in range(9):
            order_line_add(order_id=self.detail, sku=self.make_product(), quantity=2)
        order_ship(order_id=self.history, tracking_number="TRK-1")
        order_deliver(order_id=self.history)
        skus = [self.make_product(price=200 + n) for n in range(20)]
        customers = [self.customer] + [self.make_customer(f"Customer {n}") for n in range(11)]
        for n in range(55):
            self.place(customers[n % len(customers)], [skus[(n + k) % len(skus)] for k in range(3)], day=5 + n)
        self.orders = 60


def cursor_after_first_page(client) -> str:
    next_url = client.get("/api/orders/", {"limit": 2}).json()["next"]
    return re.search(r"cursor=([^&]+)", next_url).group(1)


# name: (request built from the shop, expected count, reads the order's history)
ENDPOINTS = {
    "order-detail": (lambda shop, client: (f"/api/orders/{shop.detail}/", {}), AUTH + WATERMARK + 2),
    "order-detail-unknown": (lambda shop, client: ("/api/orders/987654321/", {}), AUTH + WATERMARK + 1),
    "order-detail-min-position": (
        lambda shop, client: (f"/api/orders/{shop.detail}/", {"min_position": 1}),
        AUTH + WATERMARK + 2,
    ),
    "order-list": (lambda shop, client: ("/api/orders/", {"limit": 100}), AUTH + WATERMARK + 1),
    "order-list-filtered-from-a-cursor": (
        lambda shop, client: (
            "/api/orders/",
            {
                "customer": shop.customer,
                "status": "PENDING",
                "placed_after": "2024-01-01T00:00:00Z",
                "placed_before": "2024-12-31T00:00:00Z",
                "limit": 100,
                "cursor": cursor_after_first_page(client),
            },
        ),
        AUTH + WATERMARK + 1,
    ),
    "customer-orders": (
        lambda shop, client: (f"/api/customers/{shop.customer}/orders/", {"limit": 100}),
        AUTH + WATERMARK + 1,
    ),
    "customer-detail": (lambda shop, client: (f"/api/customers/{shop.customer}/", {}), AUTH + WATERMARK + 1),
    # No projection behind the history: the head instead of a watermark, then its events and the replay.
    "order-history": (lambda shop, client: (f"/api/orders/{shop.history}/history/", {}), AUTH + 1 + 2),
    "order-history-as-of": (
        lambda shop, client: (f"/api/orders/{shop.history}/history/", {"as_of": "2030-01-01T00:00:00Z"}),
        AUTH + 1 + 2,
    ),
    # The totals (months and edge days), then the status counts (the same, by status).
    "report-summary": (lambda shop, client: ("/api/reports/summary/", RANGE), AUTH + REPORTS_WATERMARK + 2),
    "report-daily-sales": (lambda shop, client: ("/api/reports/daily-sales/", RANGE), AUTH + REPORTS_WATERMARK + 1),
    "report-top-products": (
        lambda shop, client: ("/api/reports/top-products/", {**RANGE, "limit": 100}),
        AUTH + REPORTS_WATERMARK + 1,
    ),
    "report-top-customers": (
        lambda shop, client: ("/api/reports/top-customers/", {**RANGE, "limit": 100}),
        AUTH + REPORTS_WATERMARK + 1,
    ),
    # Every consumer's watermark (checkpoints + 4: three projections and the webhooks relay), then
    # the health: checkpoints, parked streams, the head, every consumer's lag in one statement and the
    # relay's receiver-down record (the database cache).
    "projections": (lambda shop, client: ("/api/projections/", {}), AUTH + 1 + 4 + 3 + 1 + 1),
}


def use_token(client) -> None:
    """Use the client's new token once: its first use writes its last-used time (then once a minute)."""
    assert client.get("/api/projections/").status_code in (200, 403)


def measure(client, shop: Shop, name: str) -> tuple[int, list[str], object]:
    build, _ = ENDPOINTS[name]
    path, params = build(shop, client)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, params)
    assert response.status_code in (200, 404), response.content
    return len(captured), [query["sql"] for query in captured.captured_queries], response


def write_side_reads(statements: list[str]) -> list[str]:
    pattern = re.compile(r'\b"?(' + "|".join(WRITE_TABLES) + r')"?\b')
    return [sql for sql in statements if pattern.search(sql)]


def outbox_reads_not_allowed(name: str, statements: list[str]) -> list[str]:
    allowed = [*POSITION_CHECKS]
    if name == "projections":
        allowed.append(LAG_CHECK)
    if name.startswith("order-history"):
        allowed.append(HISTORY_READ)
    return [sql for sql in statements if OUTBOX in sql and not any(pattern.search(sql.strip()) for pattern in allowed)]


@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_a_query_costs_a_fixed_number_of_statements_whatever_the_number_of_rows(
    name, manager_client, projected, make_customer, make_product
):
    expected = ENDPOINTS[name][1]
    shop = Shop(make_customer, make_product)
    drain_settled()
    use_token(manager_client)

    small, small_sql, small_response = measure(manager_client, shop, name)
    shop.grow()
    drain_settled()
    large, large_sql, large_response = measure(manager_client, shop, name)

    assert (small, large) == (expected, expected), "\n".join(large_sql)
    for statements in (small_sql, large_sql):
        assert write_side_reads(statements) == []
        assert outbox_reads_not_allowed(name, statements) == []
    if name != "order-detail-unknown":
        assert small_response.content != large_response.content, "the second measure must see more rows"


def test_the_measured_requests_really_return_more_rows(manager_client, projected, make_customer, make_product):
    shop = Shop(make_customer, make_product)
    shop.grow()
    drain_settled()

    assert len(manager_client.get("/api/orders/", {"limit": 100}).json()["results"]) == 60
    assert len(manager_client.get(f"/api/orders/{shop.detail}/").json()["lines"]) == 10
    assert len(manager_client.get(f"/api/orders/{shop.history}/history/").json()["events"]) == 4
    assert len(manager_client.get("/api/reports/top-customers/", {**RANGE, "limit": 100}).json()["results"]) == 12
    assert len(manager_client.get("/api/reports/top-products/", {**RANGE, "limit": 100}).json()["results"]) == 32
    assert manager_client.get("/api/reports/summary/", RANGE).json()["orders"] == 60


def test_a_superuser_skips_the_rights_lookup(admin_client_api, manager_client, clerk_client, projected, customer):
    drain_settled()
    counts = {}
    for who, client in (("admin", admin_client_api), ("manager", manager_client), ("clerk", clerk_client)):
        use_token(client)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(f"/api/customers/{customer}/orders/").status_code == 200
        counts[who] = len(captured)

    assert counts == {"admin": AUTH - 1 + WATERMARK + 1, "manager": AUTH + WATERMARK + 1, "clerk": AUTH + WATERMARK + 1}


def test_the_write_table_check_would_catch_a_write_table():
    order_table = apps.get_model("orders_write", "Order")._meta.db_table
    line_table = apps.get_model("orders_write", "OrderLine")._meta.db_table
    assert write_side_reads([f'SELECT * FROM "{order_table}" WHERE id = 1']) != []
    assert write_side_reads([f"SELECT * FROM {line_table}"]) != []
    assert write_side_reads(['SELECT * FROM "order_summary"', "SELECT * FROM order_line_view"]) == []
    assert outbox_reads_not_allowed("order-detail", ["SELECT payload FROM outbox_event WHERE position = 1"]) != []
