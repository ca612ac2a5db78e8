"""The sales projection: exact report figures, unchanged by redelivery, replay and batch size.

State is made through the domain services, the projection is drained, and the figures are read
back through the report selectors and raw SELECTs. The property test recomputes every sales
table independently from the write-side models and compares.
"""

import random
import re
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orders_read.queries.reports import daily_sales_series, sales_summary, top_customers, top_products
from orders_write.clock import frozen_at
from orders_write.errors import DomainError
from orders_write.models import Customer, Order
from orders_write.services import (
    LineInput,
    customer_deactivate,
    customer_register,
    customer_rename,
    order_cancel,
    order_confirm,
    order_deliver,
    order_discount_apply,
    order_line_add,
    order_line_remove,
    order_place,
    order_ship,
    product_add,
)
from projections.models import Checkpoint
from projections.runtime.consumer import GapError as ProjectionGapError
from projections.runtime.loop import drain, drain_batch
from projections.sales import Sales
from projections.store import START, event_store

pytestmark = pytest.mark.django_db(transaction=True)

DAY1, DAY2 = date(2024, 3, 1), date(2024, 3, 2)
KEYS = {
    "daily_sales": "day",
    "product_sales": "day, sku",
    "customer_sales": "day, customer_id",
    "customer_stats": "customer_id",
    "sales_order_state": "order_id",
}


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def rows(sql: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [tuple(_normal(value) for value in row) for row in cursor.fetchall()]


def _normal(value):
    """Dates, datetimes and booleans as PostgreSQL returns them (SQLite may give text, naive or 0/1)."""
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return date.fromisoformat(value)
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def snapshot() -> dict[str, list[tuple]]:
    return {table: rows(f"SELECT * FROM {table} ORDER BY {key}") for table, key in KEYS.items()}


def reset(*, clear_tables: bool) -> None:
    if clear_tables:
        with connection.cursor() as cursor:
            for table in KEYS:
                cursor.execute(f"DELETE FROM {table}")
    Checkpoint.objects.filter(projection="sales").update(last_txid=0, last_position=0)


def all_events():
    return event_store().read_batch(after=START, event_types=Sales.event_types(), limit=100_000).events


@pytest.fixture
def scenario(make_product):
    """Two customers, four orders over two days: discounts, line changes, both kinds of cancellation."""
    teapot, cup, saucer = make_product(1000, "Teapot"), make_product(250, "Cup"), make_product(300, "Saucer")
    ada = customer_register(name="Ada", email="ada@example.com").aggregate_id
    bob = customer_register(name="Bob", email="bob@example.com").aggregate_id
    with frozen_at(at(DAY1, 9)):
        first = order_place(customer_id=ada, lines=[LineInput(teapot, 1), LineInput(cup, 4)]).order_id
        order_discount_apply(order_id=first, percent=10)  # 2000 - 200
        order_line_add(order_id=first, sku=saucer, quantity=2)  # 2600 - 260
        order_line_remove(order_id=first, sku=cup)  # 1600 - 160
        order_confirm(order_id=first)
        order_ship(order_id=first, tracking_number="TRACK-1")
        order_deliver(order_id=first)
    with frozen_at(at(DAY1, 12)):
        second = order_place(customer_id=bob, lines=[LineInput(cup, 2)]).order_id
        order_discount_apply(order_id=second, amount=100)
        order_cancel(order_id=second, reason="changed mind")  # from PENDING
    with frozen_at(at(DAY1, 23, 59)):
        third = order_place(customer_id=ada, lines=[LineInput(teapot, 2)]).order_id
        order_confirm(order_id=third)
        order_cancel(order_id=third, reason="out of stock")  # from CONFIRMED
    with frozen_at(at(DAY2, 0, 1)):
        fourth = order_place(customer_id=bob, lines=[LineInput(saucer, 1), LineInput(cup, 1)]).order_id
        order_discount_apply(order_id=fourth, amount=50)  # 550 - 50
        order_confirm(order_id=fourth)
    customer_rename(customer_id=ada, name="Ada King")
    customer_deactivate(customer_id=bob)
    return {"ada": ada, "bob": bob, "teapot": teapot, "cup": cup, "saucer": saucer}


def test_the_reports_show_exact_figures(scenario):
    drain("sales")

    totals = sales_summary(start=DAY1, end=DAY2)
    assert {key: totals[key] for key in ("orders", "cancellations", "revenue", "discount_total")} == {
        "orders": 4,
        "cancellations": 2,
        "revenue": 1440 + 500,
        "discount_total": 160 + 50,
    }
    assert totals["average_order_value"] == 970
    series = daily_sales_series(start=DAY1, end=DAY2 + timedelta(days=1))
    assert [(r["day"], r["orders"], r["cancellations"], r["revenue"], r["discount_total"]) for r in series] == [
        (DAY1, 3, 2, 1440, 160),
        (DAY2, 1, 0, 500, 50),
        (DAY2 + timedelta(days=1), 0, 0, 0, 0),
    ]
    teapot, cup, saucer = scenario["teapot"], scenario["cup"], scenario["saucer"]
    assert top_products(start=DAY1, end=DAY2) == [
        {"sku": teapot, "product_name": "Teapot", "units": 1, "revenue": 1000},
        {"sku": saucer, "product_name": "Saucer", "units": 3, "revenue": 900},
        {"sku": cup, "product_name": "Cup", "units": 1, "revenue": 250},
    ]
    # The cup was removed from one order and sold only on a cancelled one on day 1: no row at all.
    assert rows("SELECT day, sku, product_name, units, revenue FROM product_sales ORDER BY day, sku") == sorted(
        [(DAY1, teapot, "Teapot", 1, 1000), (DAY1, saucer, "Saucer", 2, 600),
         (DAY2, cup, "Cup", 1, 250), (DAY2, saucer, "Saucer", 1, 300)]
    )  # fmt: skip
    ada, bob = scenario["ada"], scenario["bob"]
    assert top_customers(start=DAY1, end=DAY2) == [
        {"customer_id": ada, "name": "Ada King", "orders": 2, "revenue": 1440},
        {"customer_id": bob, "name": "Bob", "orders": 2, "revenue": 500},
    ]
    assert rows("SELECT day, customer_id, orders, revenue FROM customer_sales ORDER BY day, customer_id") == [
        (DAY1, ada, 2, 1440),
        (DAY1, bob, 1, 0),
        (DAY2, bob, 1, 500),
    ]
    stats = rows(
        "SELECT customer_id, name, email, is_active, order_count, cancelled_count, lifetime_value, last_order_at,"
        " version FROM customer_stats ORDER BY customer_id"
    )
    assert [(*row[:3], bool(row[3]), *row[4:]) for row in stats] == [
        (ada, "Ada King", "ada@example.com", True, 2, 1, 1440, at(DAY1, 23, 59), 2),
        (bob, "Bob", "bob@example.com", False, 2, 1, 500, at(DAY2, 0, 1), 2),
    ]


def test_replay_from_the_start_and_reapplied_batches_change_nothing(scenario):
    drain("sales")
    before = snapshot()

    reset(clear_tables=False)
    assert drain("sales", batch_size=3) > 0
    assert snapshot() == before

    events = all_events()
    with connection.cursor() as cursor:
        Sales().apply(events, cursor)
        Sales().apply(events, cursor)
    assert snapshot() == before

    reset(clear_tables=True)
    with connection.cursor() as cursor:  # from empty tables: once applies, the second time is redelivery
        Sales().apply(events, cursor)
        Sales().apply(events, cursor)
    assert snapshot() == before


def test_any_batch_size_gives_the_same_tables(scenario):
    results = []
    for batch_size in (1, 2, 7, 500):
        reset(clear_tables=True)
        drain("sales", batch_size=batch_size)
        results.append(snapshot())
    assert all(result == results[0] for result in results)
    assert results[0]["daily_sales"], "the scenario was projected"


def test_a_missing_version_raises_rather_than_applying_past_the_hole(scenario):
    events = all_events()
    hole = next(e for e in events if e.aggregate_type == "order" and e.version == 2)
    with connection.cursor() as cursor, pytest.raises(ProjectionGapError):
        Sales().apply([e for e in events if e is not hole], cursor)


def test_an_order_whose_customer_was_never_seen_still_counts(scenario):
    """Robustness: orders for a customer without a projected registration create an unnamed row."""
    events = [e for e in all_events() if e.aggregate_type == "order"]
    with connection.cursor() as cursor:
        Sales().apply(events, cursor)
    assert rows("SELECT name, order_count, lifetime_value, version FROM customer_stats ORDER BY customer_id") == [
        ("", 2, 1440, 0),
        ("", 2, 500, 0),
    ]


def test_a_batch_costs_a_fixed_number_of_queries(scenario):
    with CaptureQueriesContext(connection) as queries:
        drain_batch(Sales(), batch_size=1000)
    # savepoint/lock, read, load states + customers, 4 increments, product clean-up, state upsert, checkpoint
    assert len(queries) <= 13, [q["sql"][:80] for q in queries]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_histories_agree_with_the_write_side(seed):
    rng = random.Random(seed)
    skus = [f"P{seed}-{index}" for index in range(6)]
    for sku in skus:
        product_add(sku=sku, name=f"Product {sku}", price=rng.randint(1, 5000))
    customers = [
        customer_register(name=f"C{index}", email=f"c{seed}-{index}@example.com").aggregate_id for index in range(5)
    ]
    orders = []
    for step in range(40):
        with frozen_at(at(DAY1 + timedelta(days=rng.randint(0, 3)), rng.randint(0, 23), rng.randint(0, 59))):
            _random_command(rng, customers, skus, orders)
        if step % 9 == 0:
            drain("sales", batch_size=rng.choice([1, 3, 50]))  # part-way drains: later events meet stored state
    drain("sales")

    assert _tables() == _expected_from_write_side()
    before = snapshot()
    reset(clear_tables=False)
    drain("sales", batch_size=4)
    assert snapshot() == before


def _random_command(rng: random.Random, customers: list[int], skus: list[str], orders: list[int]) -> None:
    choice = rng.random()
    try:
        if choice < 0.35 or not orders:
            picked = rng.sample(skus, rng.randint(1, 3))
            lines = [LineInput(sku, rng.randint(1, 5)) for sku in picked]
            orders.append(order_place(customer_id=rng.choice(customers), lines=lines).order_id)
        elif choice < 0.9:
            for _ in range(rng.randint(1, 4)):
                _random_order_change(rng, rng.choice(orders), skus)
        elif choice < 0.96:
            customer_rename(customer_id=rng.choice(customers), name=f"Renamed {rng.randint(1, 999)}")
        else:
            customer_deactivate(customer_id=rng.choice(customers))
    except DomainError:
        pass  # an illegal move for the order's or customer's state: nothing happened


def _random_order_change(rng: random.Random, order_id: int, skus: list[str]) -> None:
    action = rng.choice(["add", "remove", "percent", "amount", "confirm", "ship", "deliver", "cancel", "cancel"])
    try:
        if action == "add":
            order_line_add(order_id=order_id, sku=rng.choice(skus), quantity=rng.randint(1, 5))
        elif action == "remove":
            order_line_remove(order_id=order_id, sku=rng.choice(skus))
        elif action == "percent":
            order_discount_apply(order_id=order_id, percent=rng.randint(0, 60))
        elif action == "amount":
            order_discount_apply(order_id=order_id, amount=rng.randint(0, 800))
        elif action == "confirm":
            order_confirm(order_id=order_id)
        elif action == "ship":
            order_ship(order_id=order_id, tracking_number="T")
        elif action == "deliver":
            order_deliver(order_id=order_id)
        else:
            order_cancel(order_id=order_id, reason="random")
    except DomainError:
        pass


def _tables() -> dict[str, dict]:
    stats = rows(
        "SELECT customer_id, name, email, is_active, order_count, cancelled_count, lifetime_value, last_order_at,"
        " version FROM customer_stats"
    )
    return {
        "daily": {
            r[0]: r[1:] for r in rows("SELECT day, orders, revenue, cancellations, discount_total FROM daily_sales")
        },
        "products": {r[:2]: r[2:] for r in rows("SELECT day, sku, product_name, units, revenue FROM product_sales")},
        "customers": {r[:2]: r[2:] for r in rows("SELECT day, customer_id, orders, revenue FROM customer_sales")},
        "stats": {r[0]: (*r[1:3], bool(r[3]), *r[4:]) for r in stats},
    }


def _expected_from_write_side() -> dict[str, dict]:
    """Compute every sales table from the write-side orders and customers, independently of the projection."""
    daily = defaultdict(lambda: [0, 0, 0, 0])
    products = defaultdict(lambda: ["", 0, 0])
    customers = defaultdict(lambda: [0, 0])
    stats = {c.pk: [c.name, c.email, c.is_active, 0, 0, 0, None, c.version] for c in Customer.objects.order_by("pk")}
    for order in Order.objects.prefetch_related("lines"):
        day, kept = order.placed_at.astimezone(UTC).date(), order.status != "CANCELLED"
        daily[day][0] += 1
        daily[day][1] += order.total if kept else 0
        daily[day][2] += 0 if kept else 1
        daily[day][3] += order.discount if kept else 0
        customers[(day, order.customer_id)][0] += 1
        customers[(day, order.customer_id)][1] += order.total if kept else 0
        row = stats[order.customer_id]
        row[3] += 1
        row[4] += 0 if kept else 1
        row[5] += order.total if kept else 0
        row[6] = order.placed_at if row[6] is None else max(row[6], order.placed_at)
        for line in order.lines.all() if kept else ():
            product = products[(day, line.sku)]
            product[0] = line.product_name
            product[1] += line.quantity
            product[2] += line.line_total
    return {
        "daily": {key: tuple(value) for key, value in daily.items()},
        "products": {key: tuple(value) for key, value in products.items()},
        "customers": {key: tuple(value) for key, value in customers.items()},
        "stats": {key: tuple(value) for key, value in stats.items()},
    }
