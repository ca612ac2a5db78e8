"""Put rows straight into the read tables, as a projection would, so selectors can be tested alone.

Read-side tests own their fixtures: the selectors must answer from whatever the tables hold,
so there is no need to go through the write side and the projections here. Each helper also adds
its row to the rollups above it (month, year), as the reports projection keeps them (ADR 0021).
"""

import itertools
import re
from datetime import UTC, datetime
from typing import Any

from django.db.models import F

from orders_read.models import (
    CustomerSales,
    CustomerSalesMonth,
    CustomerSalesYear,
    CustomerStats,
    DailySales,
    MonthlySales,
    OrderLineView,
    OrderStatusDay,
    OrderStatusMonth,
    OrderSummary,
    ProductSales,
    ProductSalesMonth,
)
from orders_read.queries.orders import ORDER_FIELDS

NOON = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
READ_TABLES = {
    "order_summary", "order_line_view", "customer_stats", "daily_sales", "product_sales", "customer_sales",
    "order_status_day", "order_status_month", "monthly_sales", "product_sales_month", "customer_sales_month",
    "customer_sales_year",
}  # fmt: skip

_TABLE_AFTER_FROM_OR_JOIN = re.compile(r'\b(?:FROM|JOIN)\s+"?(\w+)"?', re.IGNORECASE)
_COMMON_TABLE_EXPRESSION = re.compile(r'(?:\bWITH|,)\s+"?(\w+)"?\s+AS\s+\(', re.IGNORECASE)


def tables_named(sql: str) -> set[str]:
    """Return the tables a statement reads (after FROM or JOIN), leaving out its own WITH names."""
    return set(_TABLE_AFTER_FROM_OR_JOIN.findall(sql)) - set(_COMMON_TABLE_EXPRESSION.findall(sql))


_order_ids = itertools.count(1_000)
_product_ids = itertools.count(1)


def order_summary(**fields: Any) -> OrderSummary:
    """Return an unsaved order_summary row with plausible values for the fields not given."""
    placed_at = fields.pop("placed_at", NOON)
    values = {
        "order_id": next(_order_ids),
        "customer_id": 1,
        "customer_name": "Ada Lovelace",
        "status": "PENDING",
        "currency": "EUR",
        "subtotal": 2500,
        "discount": 0,
        "total": 2500,
        "item_count": 2,
        "line_count": 1,
        "last_item": "Widget",
        "version": 1,
        "placed_at": placed_at,
        "updated_at": placed_at,
        **fields,
    }
    return OrderSummary(**values)


def roll_up(model: Any, key: dict[str, Any], **values: int) -> None:
    """Add ``values`` to the rollup row ``key`` of ``model`` (created at zero first)."""
    fields = {name: F(name) + value for name, value in values.items()}
    if not model.objects.filter(**key).update(**fields):
        model.objects.create(**key, **values, **({"product_name": ""} if model is ProductSalesMonth else {}))


def _roll_order(row: OrderSummary) -> None:
    day = row.placed_at.astimezone(UTC).date()
    roll_up(OrderStatusDay, {"day": day, "status": row.status}, orders=1)
    roll_up(OrderStatusMonth, {"month": day.replace(day=1), "status": row.status}, orders=1)


def add_order(**fields: Any) -> OrderSummary:
    """Insert one order_summary row (and count it in the status rollups) and return it."""
    row = order_summary(**fields)
    row.save(force_insert=True)
    _roll_order(row)
    return row


def add_orders(*rows: OrderSummary) -> list[OrderSummary]:
    """Insert many order_summary rows in one statement (and count them in the status rollups)."""
    created = OrderSummary.objects.bulk_create(rows)
    for row in created:
        _roll_order(row)
    return created


def add_line(*, order_id: int, sku: str, quantity: int = 1, unit_price: int = 1000, name: str = "") -> OrderLineView:
    """Insert one order_line_view row."""
    return OrderLineView.objects.create(
        order_id=order_id,
        sku=sku,
        product_id=next(_product_ids),
        product_name=name or f"Product {sku}",
        quantity=quantity,
        unit_price=unit_price,
        line_total=quantity * unit_price,
    )


def add_day(day, *, orders: int, revenue: int, cancellations: int = 0, discount_total: int = 0) -> DailySales:
    """Insert one daily_sales row (and add it to its month's)."""
    totals = {"orders": orders, "revenue": revenue, "cancellations": cancellations, "discount_total": discount_total}
    roll_up(MonthlySales, {"month": day.replace(day=1)}, **totals)
    return DailySales.objects.create(day=day, **totals)


def add_product_day(day, *, sku: str, units: int, revenue: int, name: str = "") -> ProductSales:
    """Insert one product_sales row (and add it to its month's)."""
    roll_up(ProductSalesMonth, {"month": day.replace(day=1), "sku": sku}, units=units, revenue=revenue)
    ProductSalesMonth.objects.filter(month=day.replace(day=1), sku=sku).update(product_name=name or f"Product {sku}")
    return ProductSales.objects.create(
        day=day, sku=sku, product_name=name or f"Product {sku}", units=units, revenue=revenue
    )


def add_customer_day(day, *, customer_id: int, orders: int, revenue: int) -> CustomerSales:
    """Insert one customer_sales row (and add it to its month's and year's)."""
    sums = {"orders": orders, "revenue": revenue}
    roll_up(CustomerSalesMonth, {"month": day.replace(day=1), "customer_id": customer_id}, **sums)
    roll_up(CustomerSalesYear, {"year": day.replace(month=1, day=1), "customer_id": customer_id}, **sums)
    return CustomerSales.objects.create(day=day, customer_id=customer_id, orders=orders, revenue=revenue)


def add_customer(*, customer_id: int, name: str) -> CustomerStats:
    """Insert one customer_stats row."""
    return CustomerStats.objects.create(
        customer_id=customer_id, name=name, email=f"c{customer_id}@example.com", is_active=True, version=1
    )


def as_read(row: OrderSummary) -> dict[str, Any]:
    """Return the dict a list selector yields for ``row``."""
    return {field: getattr(row, field) for field in ORDER_FIELDS}
