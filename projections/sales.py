"""The sales reports' projection: ``daily_sales``, ``product_sales``, ``customer_sales``, ``customer_stats``.

The report rows are sums over many orders, so an event cannot simply overwrite them. The
projection keeps, per order, what it has counted (``sales_order_state``: version, day,
customer, cancelled, total, discount and lines). A batch loads the state of its orders and the
``customer_stats`` rows of its customers (one query each), skips events at or below the stored
version, refuses a version hole, folds each order's events in memory, and writes per table one
increment-upsert of ``contribution(after) - contribution(before)`` summed per key
(``projections/sales_contributions.py``). The state rows are written in the same transaction,
so redelivery and replay from an older checkpoint add nothing.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from config.databases import read_alias
from events import (
    CustomerDeactivated,
    CustomerRegistered,
    CustomerRenamed,
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
from orders_read.models import CustomerSales, CustomerStats, DailySales, ProductSales
from orders_write import lookups
from projections.models import SalesOrderState
from projections.runtime.consumer import Projection, already_applied
from projections.sales_contributions import (
    CUSTOMER_SALES_INCREMENTS,
    DAILY_INCREMENTS,
    PRODUCT_INCREMENTS,
    STATS_INCREMENTS,
    Deltas,
    OrderState,
)
from projections.sql import bulk_increment, bulk_upsert, columns_of, fetch_matching, in_clause
from projections.store import StoredEvent

STATE_COLUMNS = columns_of(SalesOrderState)
CUSTOMER_COLUMNS = ("name", "email", "is_active", "version", "last_order_at")


@dataclass
class _Batch:
    before: dict[int, OrderState]
    orders: dict[int, OrderState]
    customers: dict[int, dict[str, Any]]
    changed_orders: set[int] = field(default_factory=set)
    changed_customers: set[int] = field(default_factory=set)


def _money(state: OrderState, stored: StoredEvent) -> None:
    event: OrderEvent = stored.event
    state.version = stored.version
    state.cancelled = event.status == OrderStatus.CANCELLED
    state.total, state.discount = event.total, event.discount


def _placed(batch: _Batch, stored: StoredEvent) -> None:
    event: OrderPlaced = stored.event
    placed_at = _aware(event.placed_at)
    batch.orders[event.order_id] = state = OrderState(
        order_id=event.order_id, version=stored.version, customer_id=event.customer_id, day=placed_at.date(),
        placed_at=placed_at, cancelled=False, total=0, discount=0, lines={},
    )  # fmt: skip
    for line in event.lines:
        state.lines[line.sku] = (line.sku, line.product_name, line.quantity, line.line_total)
    _money(state, stored)


def _line_added(batch: _Batch, stored: StoredEvent) -> None:
    line = stored.event.line
    state = batch.orders[stored.aggregate_id]
    state.lines[line.sku] = (line.sku, line.product_name, line.quantity, line.line_total)
    _money(state, stored)


def _line_removed(batch: _Batch, stored: StoredEvent) -> None:
    state = batch.orders[stored.aggregate_id]
    state.lines.pop(stored.event.line.sku, None)
    _money(state, stored)


def _status_or_money_changed(batch: _Batch, stored: StoredEvent) -> None:
    _money(batch.orders[stored.aggregate_id], stored)


def _customer(batch: _Batch, customer_id: int) -> dict[str, Any]:
    """Return the customer's stats row, creating an unnamed one if its registration was not seen."""
    blank = {"name": "", "email": "", "is_active": True, "version": 0, "last_order_at": None}
    return batch.customers.setdefault(customer_id, blank)


def _registered(batch: _Batch, stored: StoredEvent) -> None:
    event: CustomerRegistered = stored.event
    _customer(batch, event.customer_id).update(name=event.name, email=event.email, version=stored.version)


def _renamed(batch: _Batch, stored: StoredEvent) -> None:
    _customer(batch, stored.aggregate_id).update(name=stored.event.name, version=stored.version)


def _deactivated(batch: _Batch, stored: StoredEvent) -> None:
    _customer(batch, stored.aggregate_id).update(is_active=False, version=stored.version)


HANDLERS = {
    OrderPlaced: _placed,
    OrderLineAdded: _line_added,
    OrderLineRemoved: _line_removed,
    OrderDiscountApplied: _status_or_money_changed,
    OrderConfirmed: _status_or_money_changed,
    OrderShipped: _status_or_money_changed,
    OrderDelivered: _status_or_money_changed,
    OrderCancelled: _status_or_money_changed,
    CustomerRegistered: _registered,
    CustomerRenamed: _renamed,
    CustomerDeactivated: _deactivated,
}


class Sales(Projection):
    name = "sales"
    handlers = HANDLERS
    models = (DailySales, ProductSales, CustomerSales, CustomerStats, SalesOrderState)
    version_rows = {"order": (SalesOrderState, "order_id"), "customer": (CustomerStats, "customer_id")}

    def write_side_differences(self, *, caught_up: bool) -> list[str]:
        """Compare the day and customer sums with the orders' own, once every event is applied.

        Sums cannot be compared row by row at equal versions as orders can, so while the
        projection is behind there is nothing to say.
        """
        if not caught_up:
            return []
        daily = DailySales.objects.using(read_alias()).values_list(
            "day", "orders", "cancellations", "revenue", "discount_total"
        )
        customers = (
            CustomerStats.objects.using(read_alias())
            .filter(order_count__gt=0)
            .values_list("customer_id", "order_count", "cancelled_count", "lifetime_value")
        )
        return _compare_sums("daily_sales", lookups.daily_sales_facts(), daily) + _compare_sums(
            "customer_stats", lookups.customer_sales_facts(), customers
        )

    def apply(self, events: Sequence[StoredEvent], cursor: Any) -> None:
        batch = self._load(events, cursor)
        for stored in events:
            if self._already_applied(batch, stored):
                continue
            HANDLERS[type(stored.event)](batch, stored)
            changed = batch.changed_orders if stored.aggregate_type == "order" else batch.changed_customers
            changed.add(stored.aggregate_id)
        self._write(batch, cursor)

    def _load(self, events: Sequence[StoredEvent], cursor: Any) -> _Batch:
        order_ids = sorted({e.aggregate_id for e in events if e.aggregate_type == "order"})
        customer_ids = sorted(
            {e.aggregate_id for e in events if e.aggregate_type == "customer"}
            | {e.event.customer_id for e in events if isinstance(e.event, OrderEvent)}
        )
        orders, customers = {}, {}
        if order_ids:
            sql = f"SELECT {', '.join(STATE_COLUMNS)} FROM {self.physical_table('sales_order_state')}"
            orders = {row["order_id"]: _state(row) for row in fetch_matching(cursor, sql, "order_id", order_ids)}
        if customer_ids:
            sql = f"SELECT customer_id, {', '.join(CUSTOMER_COLUMNS)} FROM {self.physical_table('customer_stats')}"
            for row in fetch_matching(cursor, sql, "customer_id", customer_ids):
                row.update(is_active=bool(row["is_active"]), last_order_at=_aware(row["last_order_at"]))
                customers[row.pop("customer_id")] = row
        # The handlers replace fields and edit ``lines`` in place; its values are tuples, so a copy of
        # each state with its own ``lines`` dict keeps the "before" intact (8x cheaper than deepcopy).
        before = {order_id: replace(state, lines=dict(state.lines)) for order_id, state in orders.items()}
        return _Batch(before=before, orders=orders, customers=customers)

    @staticmethod
    def _already_applied(batch: _Batch, stored: StoredEvent) -> bool:
        if stored.aggregate_type == "customer":
            known = batch.customers.get(stored.aggregate_id, {}).get("version", 0)
        else:
            state = batch.orders.get(stored.aggregate_id)
            known = state.version if state else 0
        return already_applied(stored, known)

    def _write(self, batch: _Batch, cursor: Any) -> None:
        deltas = Deltas()
        orders = sorted(batch.changed_orders)
        for order_id in orders:
            deltas.add(batch.before.get(order_id), -1)
            deltas.add(batch.orders[order_id], +1)
            if order_id not in batch.before:  # a new placement: the customer's latest order may move
                state = batch.orders[order_id]
                customer = _customer(batch, state.customer_id)
                if customer["last_order_at"] is None or state.placed_at > customer["last_order_at"]:
                    customer["last_order_at"] = state.placed_at
                batch.changed_customers.add(state.customer_id)

        daily = deltas.rows(deltas.daily)
        bulk_increment(
            cursor, self.physical_table("daily_sales"), ("day",), (), DAILY_INCREMENTS,
            [[d, *v] for d, v in daily.items()],
        )  # fmt: skip
        products = deltas.rows(deltas.products)
        bulk_increment(
            cursor, self.physical_table("product_sales"), ("day", "sku"), ("product_name",), PRODUCT_INCREMENTS,
            [[day, sku, deltas.names[sku], *values] for (day, sku), values in products.items()],
        )  # fmt: skip
        if emptied := sorted({day for (day, _), values in products.items() if values[0] < 0}):
            # A cancelled order can leave a (day, sku) with nothing sold: drop it, as a rebuild would never create it.
            sql = f"DELETE FROM {self.physical_table('product_sales')} WHERE units = 0 AND day IN {in_clause(emptied)}"
            cursor.execute(sql, emptied)
        bulk_increment(
            cursor, self.physical_table("customer_sales"), ("day", "customer_id"), (), CUSTOMER_SALES_INCREMENTS,
            [[day, customer_id, *values] for (day, customer_id), values in deltas.rows(deltas.customer_sales).items()],
        )  # fmt: skip
        stats = deltas.rows(deltas.stats)
        customer_ids = sorted(batch.changed_customers | set(stats))
        bulk_increment(
            cursor, self.physical_table("customer_stats"), ("customer_id",), CUSTOMER_COLUMNS, STATS_INCREMENTS,
            [
                [cid, *(_customer(batch, cid)[column] for column in CUSTOMER_COLUMNS), *stats.get(cid, (0, 0, 0))]
                for cid in customer_ids
            ],
        )  # fmt: skip
        bulk_upsert(
            cursor,
            self.physical_table("sales_order_state"),
            STATE_COLUMNS,
            ("order_id",),
            [_state_row(batch.orders[o]) for o in orders],
        )


def _state(row: dict[str, Any]) -> OrderState:
    placed_at = _aware(row["placed_at"])
    lines = {sku: (sku, name, quantity, total) for sku, name, quantity, total in json.loads(row["lines"])}
    return OrderState(
        order_id=row["order_id"], version=row["version"], customer_id=row["customer_id"], day=placed_at.date(),
        placed_at=placed_at, cancelled=bool(row["cancelled"]), total=row["total"], discount=row["discount"],
        lines=lines,
    )  # fmt: skip


def _state_row(state: OrderState) -> list[Any]:
    lines = json.dumps([list(line) for _, line in sorted(state.lines.items())])
    return [
        state.order_id, state.version, state.customer_id, state.day, state.placed_at, state.cancelled,
        state.total, state.discount, lines,
    ]  # fmt: skip


def _aware(value: datetime | str | None) -> datetime | None:
    """Return ``value`` as an aware UTC datetime (SQLite hands back naive UTC, sometimes as text)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _compare_sums(table: str, written: dict[str, tuple], projected_rows: Any) -> list[str]:
    projected = {str(key): tuple(int(value) for value in values) for key, *values in projected_rows}
    wrong = [key for key in sorted(written.keys() | projected.keys()) if written.get(key) != projected.get(key)]
    return [f"{table}: {key} is {projected.get(key)}, the orders say {written.get(key)}" for key in wrong[:5]]
