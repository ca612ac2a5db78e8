"""Read orders: one order with its lines, a customer's recent orders, and the filtered list.

Every function reads ``order_summary`` (and ``order_line_view`` for the detail) through one
index range, and returns plain dicts, never model instances, so callers cannot lazily trigger
more queries. Lists are ordered newest first by (placed_at, order_id), the key of every
``order_summary`` index.
"""

from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet

from config.limits import MAX_PAGE_SIZE
from orders_read.models import OrderLineView, OrderSummary
from orders_read.queries.pagination import decode_cursor, encode_cursor
from orders_read.queries.tables import reads

ORDER_FIELDS = (
    "order_id",
    "customer_id",
    "customer_name",
    "status",
    "currency",
    "subtotal",
    "discount",
    "total",
    "item_count",
    "line_count",
    "last_item",
    "tracking_number",
    "version",
    "placed_at",
    "updated_at",
)
LINE_FIELDS = ("sku", "product_name", "quantity", "unit_price", "line_total")
NEWEST_FIRST = ("-placed_at", "-order_id")


@reads(OrderSummary, OrderLineView)
def order_detail(*, order_id: int) -> dict[str, Any] | None:
    """Return one order's summary with its ``lines`` (by sku), or None when it is unknown.

    Two queries when the order exists (summary, then lines, each by primary key), one when not.
    """
    summaries = list(OrderSummary.objects.filter(order_id=order_id).values(*ORDER_FIELDS)[:1])
    if not summaries:
        return None
    order = summaries[0]
    order["lines"] = list(OrderLineView.objects.filter(order_id=order_id).order_by("sku").values(*LINE_FIELDS))
    return order


@reads(OrderSummary)
def customer_recent_orders(*, customer_id: int, limit: int = 20) -> list[dict[str, Any]]:
    """Return a customer's newest orders, at most ``limit`` (clamped to 1..100), in one query."""
    limit = _clamp(limit)
    rows = OrderSummary.objects.filter(customer_id=customer_id).order_by(*NEWEST_FIRST).values(*ORDER_FIELDS)
    return list(rows[:limit])


@reads(OrderSummary)
def order_list(
    *,
    customer_id: int | None = None,
    status: str | None = None,
    placed_after: datetime | None = None,
    placed_before: datetime | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[dict[str, Any]], str | None]:
    """Return one page of orders, newest first, and the cursor of the next page (None on the last).

    Filters combine with AND; ``placed_after`` is inclusive and ``placed_before`` exclusive, so
    adjacent ranges never share an order. ``limit`` is clamped to 1..100. One query: it fetches
    ``limit + 1`` rows to learn whether another page follows. A malformed ``cursor`` raises
    ``InvalidCursor`` before any query runs.
    """
    limit = _clamp(limit)
    rows = OrderSummary.objects.all()
    if customer_id is not None:
        rows = rows.filter(customer_id=customer_id)
    if status is not None:
        rows = rows.filter(status=status)
    if placed_after is not None:
        rows = rows.filter(placed_at__gte=placed_after)
    if placed_before is not None:
        rows = rows.filter(placed_at__lt=placed_before)
    if cursor is not None:
        rows = _after(rows, *decode_cursor(cursor))
    page = list(rows.order_by(*NEWEST_FIRST).values(*ORDER_FIELDS)[: limit + 1])
    if len(page) <= limit:
        return page, None
    page = page[:limit]
    last = page[-1]
    return page, encode_cursor(placed_at=last["placed_at"], order_id=last["order_id"])


def _after(rows: QuerySet, placed_at: datetime, order_id: int) -> QuerySet:
    # (placed_at, order_id) < (cursor) in newest-first order. The redundant `placed_at <= cursor`
    # gives the planner a plain range bound on the index; the OR settles ties on placed_at.
    return rows.filter(Q(placed_at__lte=placed_at), Q(placed_at__lt=placed_at) | Q(order_id__lt=order_id))


def _clamp(limit: int) -> int:
    return max(1, min(limit, MAX_PAGE_SIZE))
