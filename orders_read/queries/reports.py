"""Read sales reports over an inclusive range of UTC days, from the pre-aggregated tables.

The daily series reads one primary-key range of ``daily_sales``; the totals, the status
breakdown and the rankings read the rollups (``rollups``: whole years and months plus the edge
days), so no report's cost grows with the number of orders (ADR 0021). A range whose ``start``
is after its ``end`` is empty.
"""

from datetime import date, timedelta
from typing import Any

from orders_read.models import DailySales
from orders_read.queries import rollups
from orders_read.queries.tables import reads

_DAY_TOTALS = ("orders", "cancellations", "revenue", "discount_total")


@reads(rollups.sales_totals, rollups.status_counts)
def sales_summary(*, start: date, end: date) -> dict[str, Any]:
    """Return the totals of orders placed from ``start`` to ``end`` (UTC days, inclusive).

    Keys: ``orders``, ``cancellations``, ``revenue``, ``discount_total``,
    ``average_order_value`` and ``orders_by_status`` (every status, zeros included).
    Two queries, each over the range's whole months and its edge days (``rollups``), so ten
    years cost about 120 monthly rows and a few dozen daily ones.
    """
    totals: dict[str, Any] = rollups.sales_totals(start=start, end=end)
    totals["average_order_value"] = average_order_value(totals)
    totals["orders_by_status"] = rollups.status_counts(start=start, end=end)
    return totals


@reads(DailySales)
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


@reads(rollups.ranked_products)
def top_products(*, start: date, end: date, limit: int = 10) -> list[dict[str, Any]]:
    """Return the products with the most line revenue in the range, best first (ties by sku).

    Rows hold ``sku``, ``product_name``, ``units`` and ``revenue`` (before order discounts);
    ``limit`` is clamped to 1..100. One query over the range's months and edge days (``rollups``).
    """
    return rollups.ranked_products(start=start, end=end, limit=limit)


@reads(rollups.ranked_customers)
def top_customers(*, start: date, end: date, limit: int = 10) -> list[dict[str, Any]]:
    """Return the customers with the most revenue in the range, best first (ties by customer id).

    Rows hold ``customer_id``, ``name``, ``orders`` and ``revenue``; ``limit`` is clamped to
    1..100. One query, two at most: the best customers of the range's years, months and edge
    days first, read deeper only when they do not settle the ranking (``rollups``, a threshold
    algorithm), joined to ``customer_stats`` for the winners' names.
    """
    return rollups.ranked_customers(start=start, end=end, limit=limit)


def average_order_value(totals: dict[str, int]) -> int:
    """Return revenue per non-cancelled order, rounded half up, or 0 when there is none."""
    kept = totals["orders"] - totals["cancellations"]
    if kept <= 0:
        return 0
    return (2 * totals["revenue"] + kept) // (2 * kept)
