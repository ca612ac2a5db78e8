"""The order screens' projection: ``order_summary`` and ``order_line_view``.

A batch is folded in memory: the summaries, lines and customer names it touches are loaded
with one query each, every event is applied by its handler (explicit table below), and the
results are written back with one upsert per table. Events at or below a row's stored version
are skipped, so redelivery changes nothing.

Customer names come from this projection's own ``order_views_customer`` table rather than
from ``OrderPlaced``: a rename racing a placement can commit in either order, and taking the
name from the projection's view of the customer (plus fanning renames out to every order of
that customer) converges on the current name whichever way round they land.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from config.databases import read_alias
from events import (
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
)
from orders_read.models import OrderLineView, OrderSummary
from orders_write import lookups
from projections.models import OrderViewsCustomer
from projections.runtime.consumer import Projection, already_applied
from projections.sql import bulk_delete, bulk_upsert, columns_of, fetch_matching
from projections.store import StoredEvent

SUMMARY_COLUMNS = columns_of(OrderSummary)
LINE_COLUMNS = columns_of(OrderLineView)
# The order_summary figures the write side's ``order_facts`` gives, in its order.
_FACT_COLUMNS = (
    "order_id", "customer_id", "customer_name", "status", "subtotal", "discount", "total", "item_count", "version",
    "line_count",
)  # fmt: skip
SHOWN_DIFFERENCES = 20


@dataclass
class _Batch:
    """The rows one batch reads and writes, keyed for the handlers."""

    summaries: dict[int, dict[str, Any]]
    lines: dict[int, dict[str, dict[str, Any]]]
    customers: dict[int, dict[str, Any]]
    changed_orders: set[int] = field(default_factory=set)
    removed_lines: set[tuple[int, str]] = field(default_factory=set)
    changed_customers: set[int] = field(default_factory=set)


def _order_state(row: dict[str, Any], stored: StoredEvent) -> None:
    event: OrderEvent = stored.event
    row.update(
        status=event.status, subtotal=event.subtotal, discount=event.discount, total=event.total,
        item_count=event.item_count, version=stored.version, updated_at=stored.occurred_at,
    )  # fmt: skip


def _placed(batch: _Batch, stored: StoredEvent) -> None:
    event: OrderPlaced = stored.event
    customer = batch.customers.get(event.customer_id)
    batch.summaries[event.order_id] = {
        "order_id": event.order_id,
        "customer_id": event.customer_id,
        "customer_name": customer["name"] if customer else event.customer_name,
        "currency": event.currency,
        "line_count": len(event.lines),
        "last_item": event.lines[-1].product_name,
        "tracking_number": "",
        "placed_at": event.placed_at,
    }
    _order_state(batch.summaries[event.order_id], stored)
    batch.lines[event.order_id] = {line.sku: _line_row(event.order_id, line) for line in event.lines}


def _line_added(batch: _Batch, stored: StoredEvent) -> None:
    event: OrderLineAdded = stored.event
    lines = batch.lines.setdefault(event.order_id, {})
    lines[event.line.sku] = _line_row(event.order_id, event.line)
    batch.removed_lines.discard((event.order_id, event.line.sku))
    summary = batch.summaries[event.order_id]
    summary.update(line_count=len(lines), last_item=event.line.product_name)
    _order_state(summary, stored)


def _line_removed(batch: _Batch, stored: StoredEvent) -> None:
    event: OrderLineRemoved = stored.event
    lines = batch.lines.setdefault(event.order_id, {})
    lines.pop(event.line.sku, None)
    batch.removed_lines.add((event.order_id, event.line.sku))
    summary = batch.summaries[event.order_id]
    summary["line_count"] = len(lines)
    if summary["last_item"] == event.line.product_name and lines:
        # Lines keep no order of addition; pick deterministically so a rebuild agrees.
        summary["last_item"] = lines[min(lines)]["product_name"]
    _order_state(summary, stored)


def _shipped(batch: _Batch, stored: StoredEvent) -> None:
    batch.summaries[stored.aggregate_id]["tracking_number"] = stored.event.tracking_number
    _order_state(batch.summaries[stored.aggregate_id], stored)


def _status_or_money_changed(batch: _Batch, stored: StoredEvent) -> None:
    _order_state(batch.summaries[stored.aggregate_id], stored)


def _customer_named(batch: _Batch, stored: StoredEvent) -> None:
    batch.customers[stored.aggregate_id] = {"name": stored.event.name, "version": stored.version}
    batch.changed_customers.add(stored.aggregate_id)


HANDLERS = {
    OrderPlaced: _placed,
    OrderLineAdded: _line_added,
    OrderLineRemoved: _line_removed,
    OrderDiscountApplied: _status_or_money_changed,
    OrderConfirmed: _status_or_money_changed,
    OrderShipped: _shipped,
    OrderDelivered: _status_or_money_changed,
    OrderCancelled: _status_or_money_changed,
    CustomerRegistered: _customer_named,
    CustomerRenamed: _customer_named,
}


def _line_row(order_id: int, line: Any) -> dict[str, Any]:
    return {
        "order_id": order_id, "sku": line.sku, "product_id": line.product_id, "product_name": line.product_name,
        "quantity": line.quantity, "unit_price": line.unit_price, "line_total": line.line_total,
    }  # fmt: skip


class OrderViews(Projection):
    name = "order_views"
    handlers = HANDLERS
    models = (OrderSummary, OrderLineView, OrderViewsCustomer)
    version_rows = {"order": (OrderSummary, "order_id"), "customer": (OrderViewsCustomer, "customer_id")}

    def apply(self, events: Sequence[StoredEvent], cursor: Any) -> None:
        batch = self._load(events, cursor)
        for stored in events:
            if self._already_applied(batch, stored):
                continue
            HANDLERS[type(stored.event)](batch, stored)
            if stored.aggregate_type == "order":
                batch.changed_orders.add(stored.aggregate_id)
        self._write(batch, cursor)

    def _load(self, events: Sequence[StoredEvent], cursor: Any) -> _Batch:
        order_ids = sorted({e.aggregate_id for e in events if e.aggregate_type == "order"})
        customer_ids = sorted(
            {e.aggregate_id for e in events if e.aggregate_type == "customer"}
            | {e.event.customer_id for e in events if isinstance(e.event, OrderPlaced)}
        )
        summaries, lines, customers = {}, {}, {}
        if order_ids:
            sql = f"SELECT {', '.join(SUMMARY_COLUMNS)} FROM {self.physical_table('order_summary')}"
            summaries = {row["order_id"]: row for row in fetch_matching(cursor, sql, "order_id", order_ids)}
            sql = f"SELECT {', '.join(LINE_COLUMNS)} FROM {self.physical_table('order_line_view')}"
            for row in fetch_matching(cursor, sql, "order_id", order_ids):
                lines.setdefault(row["order_id"], {})[row["sku"]] = row
        if customer_ids:
            sql = f"SELECT customer_id, name, version FROM {self.physical_table('order_views_customer')}"
            rows = fetch_matching(cursor, sql, "customer_id", customer_ids)
            customers = {row.pop("customer_id"): row for row in rows}
        return _Batch(summaries=summaries, lines=lines, customers=customers)

    @staticmethod
    def _already_applied(batch: _Batch, stored: StoredEvent) -> bool:
        if stored.aggregate_type == "customer":
            known = batch.customers.get(stored.aggregate_id, {}).get("version", 0)
        else:
            known = batch.summaries.get(stored.aggregate_id, {}).get("version", 0)
        return already_applied(stored, known)

    def write_side_differences(self, *, caught_up: bool) -> list[str]:
        """Compare every order the projection has reached (same version) field by field.

        Orders the write side has moved past the projection are lag, not differences; an order
        the projection holds at a version the write side never had, or a missing order, is reported.
        """
        # Projected first: every order in it has committed, so the write side read after it holds
        # it too, at that version or later, however the live drain and commands move meanwhile.
        projected = list(OrderSummary.objects.using(read_alias()).values_list(*_FACT_COLUMNS))
        written = lookups.order_facts()
        problems = []
        for row in sorted(projected):
            source = written.get(row[0])
            if source is None or row[8] > source[8]:
                problems.append(f"order_summary: order {row[0]} at v{row[8]} does not exist on the write side")
            elif row[8] == source[8] and row != source:
                problems.append(f"order_summary: order {row[0]} differs from the write side: {row} != {source}")
        return problems[:SHOWN_DIFFERENCES]

    def _write(self, batch: _Batch, cursor: Any) -> None:
        names = {cid: batch.customers[cid] for cid in sorted(batch.changed_customers)}
        bulk_upsert(
            cursor, self.physical_table("order_views_customer"), ("customer_id", "name", "version"), ("customer_id",),
            [(cid, row["name"], row["version"]) for cid, row in names.items()],
        )  # fmt: skip
        orders = sorted(batch.changed_orders)
        bulk_upsert(
            cursor, self.physical_table("order_summary"), SUMMARY_COLUMNS, ("order_id",),
            [[batch.summaries[oid][column] for column in SUMMARY_COLUMNS] for oid in orders],
        )  # fmt: skip
        bulk_delete(cursor, self.physical_table("order_line_view"), ("order_id", "sku"), sorted(batch.removed_lines))
        bulk_upsert(
            cursor, self.physical_table("order_line_view"), LINE_COLUMNS, ("order_id", "sku"),
            [[line[c] for c in LINE_COLUMNS] for oid in orders for _, line in sorted(batch.lines.get(oid, {}).items())],
        )  # fmt: skip
        # Fan a rename out to every order of the customer, including ones placed earlier.
        for customer_id, row in names.items():
            cursor.execute(
                f"UPDATE {self.physical_table('order_summary')} SET customer_name = %s WHERE customer_id = %s",
                [row["name"], customer_id],
            )
