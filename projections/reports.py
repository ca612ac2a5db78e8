"""The reports projection: rollups by UTC day, month and year, so any range is read in few rows (ADR 0021).

Tables: ``order_status_day`` and ``order_status_month`` (orders by placement period and current
status, moved on every transition), ``monthly_sales`` (``daily_sales`` per month),
``product_sales_month``, ``customer_sales_month`` and ``customer_sales_year`` (the per-day
ranking rows per month and year). A report over a range sums whole years and months plus the
days at its edges (``orders_read/queries/rollups.py``), so its cost is bounded by the periods in
the range, never by its orders.

It works as ``projections/sales.py`` does: per order it keeps what it has counted
(``reports_order_state``: version, day, customer, status, total, discount and lines), loads the
state of a batch's orders with one query, skips events at or below the stored version, refuses a
version hole, folds the events in memory and writes per table one increment-upsert of
``contribution(after) - contribution(before)`` summed per key. Rows a rebuild would never create
(a status or product emptied to zero) are deleted, so a replay compares equal row for row. Every
figure equals the one computed from ``order_summary`` and the per-day tables; ``verify`` checks
that whenever the three projections stand at the same position (``write_side_differences``).
"""

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any

from django.db import connections, transaction

from config.databases import read_alias
from events import (
    OrderCancelled,
    OrderConfirmed,
    OrderDelivered,
    OrderDiscountApplied,
    OrderEvent,
    OrderLineAdded,
    OrderLineRemoved,
    OrderPlaced,
    OrderShipped,
    OrderStatus,
)
from orders_read.models import (
    CustomerSales,
    CustomerSalesMonth,
    CustomerSalesYear,
    DailySales,
    MonthlySales,
    OrderStatusDay,
    OrderStatusMonth,
    OrderSummary,
    ProductSales,
    ProductSalesMonth,
)
from projections.models import ReportsOrderState
from projections.runtime.consumer import Projection, already_applied
from projections.runtime.status import consumer_health
from projections.sql import bulk_increment, bulk_upsert, columns_of, fetch_matching, in_clause, on_postgresql
from projections.store import StoredEvent

STATE_COLUMNS = columns_of(ReportsOrderState)
SALES_INCREMENTS = ("orders", "revenue", "cancellations", "discount_total")
SHOWN_DIFFERENCES = 5
# The projections whose tables the rollups are compared with (order_summary; the per-day tables).
COMPARED_WITH = ("order_views", "sales")


@dataclass
class OrderState:
    """The reports projection's view of one order: what it counts in the rollups."""

    order_id: int
    version: int
    customer_id: int
    day: date
    status: str
    total: int
    discount: int
    lines: dict[str, tuple[str, str, int, int]]  # sku -> (sku, product_name, quantity, line_total)


def month_of(day: date) -> date:
    return day.replace(day=1)


def year_of(day: date) -> date:
    return day.replace(month=1, day=1)


@dataclass
class Deltas:
    """Summed differences per rollup table and key; ``names`` holds the product name of each sku."""

    status_days: dict[tuple[date, str], list[int]] = field(default_factory=lambda: defaultdict(lambda: [0]))
    status_months: dict[tuple[date, str], list[int]] = field(default_factory=lambda: defaultdict(lambda: [0]))
    months: dict[date, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0] * 4))
    products: dict[tuple[date, str], list[int]] = field(default_factory=lambda: defaultdict(lambda: [0] * 2))
    customer_months: dict[tuple[date, int], list[int]] = field(default_factory=lambda: defaultdict(lambda: [0] * 2))
    customer_years: dict[tuple[date, int], list[int]] = field(default_factory=lambda: defaultdict(lambda: [0] * 2))
    names: dict[str, str] = field(default_factory=dict)

    def add(self, state: OrderState | None, sign: int) -> None:
        """Add ``sign`` times what ``state`` contributes: counted once per period, money only if kept."""
        if state is None:
            return
        cancelled = state.status == OrderStatus.CANCELLED
        kept = not cancelled
        month, year = month_of(state.day), year_of(state.day)
        self.status_days[(state.day, state.status)][0] += sign
        self.status_months[(month, state.status)][0] += sign
        _add(self.months[month], sign, 1, state.total * kept, int(cancelled), state.discount * kept)
        _add(self.customer_months[(month, state.customer_id)], sign, 1, state.total * kept)
        _add(self.customer_years[(year, state.customer_id)], sign, 1, state.total * kept)
        for sku, name, quantity, line_total in state.lines.values():
            self.names[sku] = name
            if kept:
                _add(self.products[(month, sku)], sign, quantity, line_total)


def _add(target: list[int], sign: int, *values: int) -> None:
    for index, value in enumerate(values):
        target[index] += sign * value


def _changed(table: dict[Any, list[int]]) -> dict[Any, list[int]]:
    """Return the keys whose deltas are not all zero, in key order (deadlock-free, like sales)."""
    return {key: deltas for key, deltas in sorted(table.items()) if any(deltas)}


def _placed(orders: dict[int, OrderState], stored: StoredEvent) -> None:
    event: OrderPlaced = stored.event
    orders[event.order_id] = OrderState(
        order_id=event.order_id, version=stored.version, customer_id=event.customer_id,
        day=_aware(event.placed_at).date(), status=event.status, total=event.total, discount=event.discount,
        lines={line.sku: (line.sku, line.product_name, line.quantity, line.line_total) for line in event.lines},
    )  # fmt: skip


def _moved(orders: dict[int, OrderState], stored: StoredEvent) -> OrderState:
    """Take the status and money every order event carries; return the state for line changes."""
    event: OrderEvent = stored.event
    state = orders[stored.aggregate_id]
    state.version, state.status, state.total, state.discount = stored.version, event.status, event.total, event.discount
    return state


def _line_added(orders: dict[int, OrderState], stored: StoredEvent) -> None:
    line = stored.event.line
    _moved(orders, stored).lines[line.sku] = (line.sku, line.product_name, line.quantity, line.line_total)


def _line_removed(orders: dict[int, OrderState], stored: StoredEvent) -> None:
    _moved(orders, stored).lines.pop(stored.event.line.sku, None)


HANDLERS = {
    OrderPlaced: _placed,
    OrderLineAdded: _line_added,
    OrderLineRemoved: _line_removed,
    OrderDiscountApplied: _moved,
    OrderConfirmed: _moved,
    OrderShipped: _moved,
    OrderDelivered: _moved,
    OrderCancelled: _moved,
}


class Reports(Projection):
    name = "reports"
    handlers = HANDLERS
    models = (
        OrderStatusDay, OrderStatusMonth, MonthlySales, ProductSalesMonth, CustomerSalesMonth, CustomerSalesYear,
        ReportsOrderState,
    )  # fmt: skip
    version_rows = {"order": (ReportsOrderState, "order_id")}

    def apply(self, events: Sequence[StoredEvent], cursor: Any) -> None:
        order_ids = sorted({event.aggregate_id for event in events})
        sql = f"SELECT {', '.join(STATE_COLUMNS)} FROM {self.physical_table('reports_order_state')}"
        orders = {row["order_id"]: _state(row) for row in fetch_matching(cursor, sql, "order_id", order_ids)}
        # Handlers replace fields and edit ``lines`` in place; its values are tuples, so a copy with
        # its own ``lines`` dict keeps the "before" intact.
        before = {order_id: replace(state, lines=dict(state.lines)) for order_id, state in orders.items()}
        changed: set[int] = set()
        for stored in events:
            state = orders.get(stored.aggregate_id)
            if already_applied(stored, state.version if state else 0):
                continue
            HANDLERS[type(stored.event)](orders, stored)
            changed.add(stored.aggregate_id)
        deltas = Deltas()
        for order_id in sorted(changed):
            deltas.add(before.get(order_id), -1)
            deltas.add(orders[order_id], +1)
        self._write(deltas, cursor)
        bulk_upsert(
            cursor, self.physical_table("reports_order_state"), STATE_COLUMNS, ("order_id",),
            [_state_row(orders[order_id]) for order_id in sorted(changed)],
        )  # fmt: skip

    def _write(self, deltas: Deltas, cursor: Any) -> None:
        for table, period, counts in (
            ("order_status_day", "day", deltas.status_days),
            ("order_status_month", "month", deltas.status_months),
        ):
            rows = _changed(counts)
            bulk_increment(cursor, self.physical_table(table), (period, "status"), (), ("orders",),
                           [[*key, *values] for key, values in rows.items()])  # fmt: skip
            # An order moving on leaves its old (period, status) at zero: drop it, as a rebuild never creates it.
            self._drop_emptied(cursor, table, period, "orders", [key for key, (n,) in rows.items() if n < 0])
        months = _changed(deltas.months)
        bulk_increment(cursor, self.physical_table("monthly_sales"), ("month",), (), SALES_INCREMENTS,
                       [[month, *values] for month, values in months.items()])  # fmt: skip
        products = _changed(deltas.products)
        bulk_increment(
            cursor, self.physical_table("product_sales_month"), ("month", "sku"), ("product_name",),
            ("units", "revenue"),
            [[month, sku, deltas.names[sku], *values] for (month, sku), values in products.items()],
        )  # fmt: skip
        self._drop_emptied(cursor, "product_sales_month", "month", "units",
                           [key for key, values in products.items() if values[0] < 0])  # fmt: skip
        for table, period, sums in (
            ("customer_sales_month", "month", deltas.customer_months),
            ("customer_sales_year", "year", deltas.customer_years),
        ):
            bulk_increment(cursor, self.physical_table(table), (period, "customer_id"), (), ("orders", "revenue"),
                           [[*key, *values] for key, values in _changed(sums).items()])  # fmt: skip

    def _drop_emptied(self, cursor: Any, table: str, period: str, count: str, keys: list[tuple]) -> None:
        if periods := sorted({key[0] for key in keys}):
            cursor.execute(
                f"DELETE FROM {self.physical_table(table)} WHERE {count} = 0 AND {period} IN {in_clause(periods)}",
                [cursor.db.ops.adapt_datefield_value(p) for p in periods],
            )

    def write_side_differences(self, *, caught_up: bool) -> list[str]:
        """Compare every rollup with the same figure summed from ``order_summary`` and the per-day tables.

        Those tables belong to other projections, so the comparison runs in one REPEATABLE READ
        snapshot in which all three have applied every event with nothing parked (else there is
        nothing to say yet, as for sales' sums while it is behind). Lag measured after the
        snapshot can only be larger than at it, so "no lag" holds for the snapshot too.
        """
        if not caught_up:
            return []
        with transaction.atomic(using=read_alias()):
            if on_postgresql(read_alias()):
                with connections[read_alias()].cursor() as cursor:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            compared = {self.name, *COMPARED_WITH}
            health = [row for row in consumer_health() if row.name in compared]
            if len(health) != len(compared) or any(row.lag_events or row.parked for row in health):
                return []
            return rollup_differences()


def rollup_differences() -> list[str]:
    """Return how the live rollups differ from the sums of the tables they roll up (``[]`` when equal)."""
    expected = _expected_rollups(read_alias())
    actual = {
        "order_status_day": (OrderStatusDay, ("day", "status"), ("orders",)),
        "order_status_month": (OrderStatusMonth, ("month", "status"), ("orders",)),
        "monthly_sales": (MonthlySales, ("month",), SALES_INCREMENTS),
        "product_sales_month": (ProductSalesMonth, ("month", "sku"), ("product_name", "units", "revenue")),
        "customer_sales_month": (CustomerSalesMonth, ("month", "customer_id"), ("orders", "revenue")),
        "customer_sales_year": (CustomerSalesYear, ("year", "customer_id"), ("orders", "revenue")),
    }
    differences = []
    for table, (model, key, values) in actual.items():
        rows = model.objects.using(read_alias()).values_list(*key, *values).iterator(10_000)
        projected = {tuple(row[: len(key)]): tuple(row[len(key) :]) for row in rows}
        wanted = {k: tuple(v) for k, v in expected[table].items()}
        wrong = (projected.keys() ^ wanted.keys()) | {k for k in projected.keys() & wanted.keys()
                                                     if projected[k] != wanted[k]}  # fmt: skip
        differences += [
            f"{table}: {k} is {projected.get(k)}, the per-day tables say {wanted.get(k)}"
            for k in sorted(wrong)[:SHOWN_DIFFERENCES]
        ]
    return differences


def _expected_rollups(alias: str) -> dict[str, dict[tuple, list]]:
    """Sum ``order_summary`` and the per-day tables into the rollups' keys (one pass over each)."""
    expected: dict[str, dict[tuple, list]] = {name: {} for name in (
        "order_status_day", "order_status_month", "monthly_sales", "product_sales_month", "customer_sales_month",
        "customer_sales_year",
    )}  # fmt: skip

    def add(table: str, key: tuple, *values: int, name: str | None = None) -> None:
        target = expected[table].setdefault(key, ([name] if name is not None else []) + [0] * len(values))
        offset = 1 if name is not None else 0
        for index, value in enumerate(values):
            target[offset + index] += int(value)

    for placed_at, status in OrderSummary.objects.using(alias).values_list("placed_at", "status").iterator(10_000):
        day = _aware(placed_at).date()
        add("order_status_day", (day, status), 1)
        add("order_status_month", (month_of(day), status), 1)
    for day, *values in DailySales.objects.using(alias).values_list("day", *SALES_INCREMENTS).iterator(10_000):
        add("monthly_sales", (month_of(day),), *values)
    products = ProductSales.objects.using(alias).values_list("day", "sku", "product_name", "units", "revenue")
    for day, sku, name, units, revenue in products.iterator(10_000):
        add("product_sales_month", (month_of(day), sku), units, revenue, name=name)
    customers = CustomerSales.objects.using(alias).values_list("day", "customer_id", "orders", "revenue")
    for day, customer_id, orders, revenue in customers.iterator(10_000):
        add("customer_sales_month", (month_of(day), customer_id), orders, revenue)
        add("customer_sales_year", (year_of(day), customer_id), orders, revenue)
    return expected


def _state(row: dict[str, Any]) -> OrderState:
    lines = {sku: (sku, name, quantity, total) for sku, name, quantity, total in json.loads(row["lines"])}
    return OrderState(
        order_id=row["order_id"], version=row["version"], customer_id=row["customer_id"], day=_day(row["day"]),
        status=row["status"], total=row["total"], discount=row["discount"], lines=lines,
    )  # fmt: skip


def _state_row(state: OrderState) -> list[Any]:
    lines = json.dumps([list(line) for _, line in sorted(state.lines.items())])
    return [state.order_id, state.version, state.customer_id, state.day, state.status, state.total,
            state.discount, lines]  # fmt: skip


def _day(value: date | str) -> date:
    """SQLite hands dates back as text."""
    return date.fromisoformat(value) if isinstance(value, str) else value


def _aware(value: datetime | str) -> datetime:
    """Return ``value`` as an aware UTC datetime (SQLite hands back naive UTC, sometimes as text)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
