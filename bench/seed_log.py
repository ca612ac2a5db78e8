"""Bulk-load a large shop for the benchmarks: write tables and their event log, at COPY speed.

The services place about 190 orders a second on this machine (bench/seed_demo.md), so a
million orders through them would take an hour and a half. This loader writes exactly what the
services would have written — customers, products, orders and lines in their final state, and
the events that lead there (``CustomerRegistered``, ``ProductAdded``, ``OrderPlaced`` and, with
``--lifecycle full``, discounts, confirmations, shipments, deliveries and cancellations), encoded
by the shared event codec — with ``COPY``, a chunk of orders per transaction. The database's
CHECK constraints still hold every row to the write side's rules. The read tables are left
empty: filling them is the drain's job, which the benchmarks time.

One customer (the first) is *heavy*: ``--heavy-orders`` of the orders are theirs, the rest are
spread over the other customers. Events are written in time order across orders, one outbox
position each, so the log interleaves aggregates as a live shop's would.

    .venv/bin/python -m bench.seed_log bench_reads --orders 1000000 --lifecycle placed
    .venv/bin/python -m bench.seed_log bench_log --orders 250000 --lifecycle full
    .venv/bin/python -m bench.seed_log bench_reports --orders 1000000 --days 730 --lifecycle full

The database is (re)created on the PostgreSQL server of ``DATABASE_URL`` (``bench/stack.py``).
Standard library, psycopg and the ``events`` package (plain Python) only; migrations run in a
child ``manage.py``.
"""

from __future__ import annotations

import argparse
import json
import random
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg

from bench import stack
from events import (
    CustomerRegistered,
    Event,
    LineSnapshot,
    OrderCancelled,
    OrderConfirmed,
    OrderDelivered,
    OrderDiscountApplied,
    OrderPlaced,
    OrderShipped,
    OrderStatus,
    ProductAdded,
    encode,
)

CURRENCY = "EUR"
ACTOR = "system"
WINDOW = timedelta(days=365)
CHUNK_ORDERS = 50_000
OUTBOX_COLUMNS = (
    "event_id", "aggregate_type", "aggregate_id", "aggregate_version", "event_type", "schema_version",
    "payload", "occurred_at", "correlation_id", "actor",
)  # fmt: skip
ORDER_COLUMNS = (
    "id", "customer_id", "status", "currency", "subtotal", "discount", "discount_percent", "total", "item_count",
    "tracking_number", "cancel_reason", "version", "placed_at", "updated_at",
)  # fmt: skip
LINE_COLUMNS = ("order_id", "product_id", "sku", "product_name", "quantity", "unit_price", "line_total")


@dataclass(frozen=True)
class Product:
    id: int
    sku: str
    name: str
    price: int


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("database", help="database to (re)create, e.g. bench_reads")
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--products", type=int, default=500)
    parser.add_argument("--heavy-orders", type=int, default=2_000, help="orders of customer 1")
    parser.add_argument("--lifecycle", choices=("placed", "full"), default="placed")
    parser.add_argument("--days", type=int, default=365, help="the orders spread evenly over this many days")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.orders < 1 or args.days < 1:
        parser.error("--orders and --days must be at least 1")

    started = time.monotonic()
    url = stack.create_database(args.database)
    stack.migrate(stack.stack_env(url))
    loader = LogLoader(
        url, seed=args.seed, lifecycle=args.lifecycle, now=datetime.now(UTC), window=timedelta(days=args.days)
    )
    loader.load_catalogue(customers=args.customers, products=args.products)
    loader.load_orders(args.orders, heavy_orders=args.heavy_orders)
    loader.finish()
    print(
        f"{args.database}: {args.orders:,} orders, {args.customers:,} customers, {args.products:,} products, "
        f"{loader.events:,} events in {time.monotonic() - started:.0f} s"
    )


class LogLoader:
    def __init__(self, url: str, *, seed: int, lifecycle: str, now: datetime, window: timedelta = WINDOW) -> None:
        self.window = window
        self.connection = psycopg.connect(url)
        self.random = random.Random(seed)
        self.lifecycle = lifecycle
        self.now = now
        self.customers: list[tuple[int, str]] = []
        self.products: list[Product] = []
        self.events = 0

    def load_catalogue(self, *, customers: int, products: int) -> None:
        start = self.now - self.window - timedelta(days=1)
        customer_rows, product_rows, events = [], [], []
        for n in range(1, customers + 1):
            name = f"Customer {n:06d}"
            email = f"customer{n}@example.com"
            self.customers.append((n, name))
            customer_rows.append((n, name, email, True, 1, start, start))
            events.append((CustomerRegistered(customer_id=n, name=name, email=email), 1, start))
        for n in range(1, products + 1):
            product = Product(n, f"SKU-{n:05d}", f"Product {n}", self.random.randrange(199, 12_999))
            self.products.append(product)
            product_rows.append((n, product.sku, product.name, product.price, True, 1, start, start))
            events.append((ProductAdded(product_id=n, sku=product.sku, name=product.name, price=product.price,
                                        currency=CURRENCY), 1, start))  # fmt: skip
        with self.connection.transaction():
            self._copy("orders_write_customer", ("id", "name", "email", "is_active", "version", "created_at",
                                                 "updated_at"), customer_rows)  # fmt: skip
            self._copy("orders_write_product", ("id", "sku", "name", "price", "is_active", "version", "created_at",
                                                "updated_at"), product_rows)  # fmt: skip
            self._copy_events(events)

    def load_orders(self, count: int, *, heavy_orders: int) -> None:
        """Place ``count`` orders over the window (a year by default), a chunk per transaction, events in time order."""
        step = self.window / count
        heavy = set(self.random.sample(range(count), k=min(heavy_orders, count)))
        for chunk_start in range(0, count, CHUNK_ORDERS):
            orders, lines, events = [], [], []
            for index in range(chunk_start, min(count, chunk_start + CHUNK_ORDERS)):
                placed_at = self.now - self.window + step * index
                customer = self.customers[0] if index in heavy else self.random.choice(self.customers[1:])
                order, order_lines, order_events = self._order(index + 1, customer, placed_at)
                orders.append(order)
                lines.extend(order_lines)
                events.extend(order_events)
            events.sort(key=lambda item: item[2])
            with self.connection.transaction():
                self._copy("orders_write_order", ORDER_COLUMNS, orders)
                self._copy("orders_write_orderline", LINE_COLUMNS, lines)
                self._copy_events(events)
            print(f"  {chunk_start + len(orders):,} orders, {self.events:,} events", flush=True)

    def _order(self, order_id: int, customer: tuple[int, str], placed_at: datetime) -> tuple:
        rng = self.random
        picked = rng.sample(self.products, k=rng.choice((1, 1, 1, 2, 2, 3, 4)))
        snapshots = []
        for product in picked:
            quantity = rng.choice((1, 1, 1, 2, 3))
            snapshots.append(LineSnapshot(sku=product.sku, product_id=product.id, product_name=product.name,
                                          quantity=quantity, unit_price=product.price,
                                          line_total=quantity * product.price))  # fmt: skip
        subtotal = sum(line.line_total for line in snapshots)
        state = {
            "order_id": order_id, "customer_id": customer[0], "placed_at": placed_at, "currency": CURRENCY,
            "status": OrderStatus.PENDING.value, "subtotal": subtotal, "discount": 0, "total": subtotal,
            "item_count": sum(line.quantity for line in snapshots),
        }  # fmt: skip
        events = [(OrderPlaced(**state, customer_name=customer[1], lines=tuple(snapshots)), 1, placed_at)]
        extra = {"discount_percent": None, "tracking_number": "", "cancel_reason": ""}
        moment = placed_at
        if self.lifecycle == "full":
            moment = self._lifecycle(state, extra, events, moment)
        order = (
            order_id, customer[0], state["status"], CURRENCY, subtotal, state["discount"], extra["discount_percent"],
            state["total"], state["item_count"], extra["tracking_number"], extra["cancel_reason"], len(events),
            placed_at, moment,
        )  # fmt: skip
        lines = [(order_id, s.product_id, s.sku, s.product_name, s.quantity, s.unit_price, s.line_total)
                 for s in snapshots]  # fmt: skip
        return order, lines, events

    def _lifecycle(self, state: dict, extra: dict, events: list, moment: datetime) -> datetime:
        """Discount 15%, cancel 8% (some after confirmation), else confirm, ship and deliver as time allows."""
        rng = self.random

        def then(event_class: type[Event], **fields) -> None:
            nonlocal moment
            moment = moment + timedelta(minutes=rng.randrange(5, 600))
            events.append((event_class(**state, **fields), len(events) + 1, moment))

        if rng.random() < 0.15:
            percent = rng.choice((5, 10, 15, 20))
            state["discount"] = state["subtotal"] * percent // 100
            state["total"] = state["subtotal"] - state["discount"]
            extra["discount_percent"] = percent
            then(OrderDiscountApplied, percent=percent, amount=None)
        if rng.random() < 0.08:
            previous = state["status"]
            if rng.random() < 0.5:
                state["status"] = OrderStatus.CONFIRMED.value
                then(OrderConfirmed)
                previous = state["status"]
            state["status"] = OrderStatus.CANCELLED.value
            extra["cancel_reason"] = "customer changed their mind"
            then(OrderCancelled, reason=extra["cancel_reason"], previous_status=previous)
            return moment
        for status, event_class in ((OrderStatus.CONFIRMED, OrderConfirmed), (OrderStatus.SHIPPED, OrderShipped),
                                    (OrderStatus.DELIVERED, OrderDelivered)):  # fmt: skip
            if moment + timedelta(hours=10) > self.now:
                break
            state["status"] = status.value
            if event_class is OrderShipped:
                extra["tracking_number"] = f"DHL{state['order_id']:010d}"
                then(event_class, tracking_number=extra["tracking_number"])
            else:
                then(event_class)
        return moment

    def _copy_events(self, events: list[tuple[Event, int, datetime]]) -> None:
        rows = []
        for event, version, occurred_at in events:
            rows.append((
                uuid.uuid4(), event.aggregate_type, getattr(event, event.aggregate_id_field), version,
                event.event_type, event.schema_version, json.dumps(encode(event)), occurred_at, uuid.uuid4(), ACTOR,
            ))  # fmt: skip
        self._copy("outbox_event", OUTBOX_COLUMNS, rows)
        self.events += len(rows)

    def _copy(self, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
        with self.connection.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def finish(self) -> None:
        """Move the id sequences past the loaded rows and give the planner statistics (autovacuum may be off)."""
        self.connection.autocommit = True
        for table in ("orders_write_customer", "orders_write_product", "orders_write_order",
                      "orders_write_orderline", "outbox_event"):  # fmt: skip
            column = "position" if table == "outbox_event" else "id"
            self.connection.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), (SELECT MAX({column}) FROM {table}))"
            )
        self.connection.execute("VACUUM (ANALYZE)")
        self.connection.close()


if __name__ == "__main__":
    main()
