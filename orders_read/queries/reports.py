"""Read sales reports over an inclusive range of UTC days, from the pre-aggregated day tables.

Each report reads one primary-key range of a per-day table (``daily_sales``, ``product_sales``,
``customer_sales``), so its cost grows with the number of days and products or customers, not
with the number of orders. The one exception is the status breakdown of ``sales_summary``, a
range of ``order_summary`` by ``placed_at``. A range whose ``start`` is after its ``end`` is empty.
"""

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db import connections
from django.db.models import Count, Max, Sum
from django.db.models.functions import Coalesce

from config.databases import read_alias
from config.limits import MAX_PAGE_SIZE
from events import OrderStatus
from orders_read.models import DailySales, OrderSummary, ProductSales

_DAY_TOTALS = ("orders", "cancellations", "revenue", "discount_total")


def sales_summary(*, start: date, end: date) -> dict[str, Any]:
    """Return the totals of orders placed from ``start`` to ``end`` (UTC days, inclusive).

    Keys: ``orders``, ``cancellations``, ``revenue``, ``discount_total``,
    ``average_order_value`` and ``orders_by_status`` (every status, zeros included).
    Two queries: the totals sum ``daily_sales`` rows; the status counts group the
    ``order_summary`` rows placed in the range (a range of its ``placed_at`` index).
    """
    totals = DailySales.objects.filter(day__range=(start, end)).aggregate(
        **{name: Coalesce(Sum(name), 0) for name in _DAY_TOTALS}
    )
    totals["average_order_value"] = average_order_value(totals)
    range_start, range_end = _utc_bounds(start, end)
    counts = (
        OrderSummary.objects.filter(placed_at__gte=range_start, placed_at__lt=range_end)
        .values("status")
        .annotate(count=Count("*"))
        .order_by()
    )
    by_status = {status.value: 0 for status in OrderStatus}
    by_status.update((row["status"], row["count"]) for row in counts)
    totals["orders_by_status"] = by_status
    return totals


def daily_sales_series(*, start: date, end: date) -> list[dict[str, Any]]:
    """Return one row per UTC day from ``start`` to ``end`` inclusive, zeros on days without sales.

    Rows hold ``day``, ``orders``, ``cancellations``, ``revenue``, ``discount_total`` and
    ``average_order_value``. One query; the missing days are filled in here.
    """
    stored = {
        row["day"]: row
        for row in DailySales.objects.filter(day__range=(start, end)).values("day", *_DAY_TOTALS).order_by("day")
    }
    series = []
    for offset in range((end - start).days + 1):
        day = start + timedelta(days=offset)
        row = stored.get(day) or {"day": day, **dict.fromkeys(_DAY_TOTALS, 0)}
        row["average_order_value"] = average_order_value(row)
        series.append(row)
    return series


def top_products(*, start: date, end: date, limit: int = 10) -> list[dict[str, Any]]:
    """Return the products with the most line revenue in the range, best first (ties by sku).

    Rows hold ``sku``, ``product_name``, ``units`` and ``revenue`` (before order discounts);
    ``limit`` is clamped to 1..100. One query.
    """
    ranked = (
        ProductSales.objects.filter(day__range=(start, end))
        .values("sku")
        .annotate(name=Max("product_name"), units_sum=Sum("units"), revenue_sum=Sum("revenue"))
        .order_by("-revenue_sum", "sku")[: _clamp(limit)]
    )
    return [
        {"sku": row["sku"], "product_name": row["name"], "units": row["units_sum"], "revenue": row["revenue_sum"]}
        for row in ranked
    ]


# Rank in the inner query, then join only the winners to customer_stats for their names. A LEFT
# JOIN keeps a customer whose stats row has not been projected yet (name ""), rather than
# silently dropping them from the ranking.
_TOP_CUSTOMERS_SQL = """
    SELECT ranked.customer_id, COALESCE(stats.name, ''), ranked.orders, ranked.revenue
    FROM (
        SELECT customer_id, SUM(orders) AS orders, SUM(revenue) AS revenue
        FROM customer_sales
        WHERE day >= %s AND day <= %s
        GROUP BY customer_id
        ORDER BY revenue DESC, customer_id
        LIMIT %s
    ) AS ranked
    LEFT JOIN customer_stats AS stats ON stats.customer_id = ranked.customer_id
    ORDER BY ranked.revenue DESC, ranked.customer_id
"""


def top_customers(*, start: date, end: date, limit: int = 10) -> list[dict[str, Any]]:
    """Return the customers with the most revenue in the range, best first (ties by customer id).

    Rows hold ``customer_id``, ``name``, ``orders`` and ``revenue``; ``limit`` is clamped to
    1..100. One query: ``customer_sales`` summed over the days, joined to ``customer_stats``.
    """
    connection = connections[read_alias()]
    params = [connection.ops.adapt_datefield_value(start), connection.ops.adapt_datefield_value(end), _clamp(limit)]
    with connection.cursor() as cursor:
        cursor.execute(_TOP_CUSTOMERS_SQL, params)
        rows = cursor.fetchall()
    return [
        {"customer_id": customer_id, "name": name, "orders": int(orders), "revenue": int(revenue)}
        for customer_id, name, orders, revenue in rows
    ]


def average_order_value(totals: dict[str, int]) -> int:
    """Return revenue per non-cancelled order, rounded half up, or 0 when there is none."""
    kept = totals["orders"] - totals["cancellations"]
    if kept <= 0:
        return 0
    return (2 * totals["revenue"] + kept) // (2 * kept)


def _utc_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """Return the half-open instant range [start 00:00 UTC, day after end 00:00 UTC)."""
    first_instant = datetime.combine(start, time.min, tzinfo=UTC)
    if end == date.max:  # no day after it: up to the last representable instant
        return first_instant, datetime.max.replace(tzinfo=UTC)
    return first_instant, first_instant + timedelta(days=(end - start).days + 1)


def _clamp(limit: int) -> int:
    return max(1, min(limit, MAX_PAGE_SIZE))
