"""Everything the dashboard shows for one range, read through the selectors and formatted.

The page costs the same fixed list of reads whatever the data size, each bounded by the days
and months of the range, never by its orders: the series (``daily_sales``, or ``monthly_sales``
beyond ``MAX_RANGE_DAYS``), the previous range's totals, the status breakdown and the product
and customer rankings (the rollups: whole years and months plus the edge days, ADR 0021), the
newest orders (``order_summary`` by ``placed_at``, ten rows), and the projections' health
(see ``freshness``, which follows the projections owning ``dashboard_figures.reads``).
"""

from datetime import date
from typing import Any

from django.urls import reverse
from django.utils.dates import MONTHS_3, WEEKDAYS_ABBR

from events import OrderStatus
from orders_read.dashboard.formatting import NO_VALUE, currency_exponent, money, number, percent, shop_currency
from orders_read.dashboard.kpis import kpi_cards
from orders_read.dashboard.range import DayRange
from orders_read.queries import order_list, top_customers, top_products
from orders_read.queries.comparison import sales_compared
from orders_read.queries.statuses import orders_by_status
from orders_read.queries.tables import reads

TOP_LIMIT = 10
RECENT_LIMIT = 10


@reads(order_list)
def recent_orders(day_range: DayRange, *, limit: int) -> list[dict[str, Any]]:
    """Return the newest orders placed in the range, at most ``limit`` (1..100). One query."""
    placed_after, placed_before = day_range.instants()
    rows, _ = order_list(placed_after=placed_after, placed_before=placed_before, limit=limit)
    return rows


# The selectors called below: ``dashboard_figures.reads`` is what the page's freshness follows.
@reads(sales_compared, orders_by_status, top_products, top_customers, recent_orders)
def dashboard_figures(day_range: DayRange) -> dict[str, Any]:
    """Return the KPI cards, the chart data, the tables' rows and the currency of the range."""
    currency = shop_currency()
    start, end = day_range.start, day_range.end
    compared = sales_compared(start=start, end=end)
    statuses = orders_by_status(start=start, end=end)
    products = top_products(start=start, end=end, limit=TOP_LIMIT)
    customers = top_customers(start=start, end=end, limit=TOP_LIMIT)
    recent = recent_orders(day_range, limit=RECENT_LIMIT)
    daily = compared["series"]
    return {
        "currency": currency,
        "series_unit": "month" if compared["by_month"] else "day",
        "kpis": kpi_cards(compared["current"], compared["previous"], currency=currency, previous_days=day_range.days),
        "previous_range": DayRange(compared["previous_start"], compared["previous_end"]),
        "daily": with_day_text(
            [_with_money(row, currency, "revenue", "average_order_value") for row in daily],
            by_month=compared["by_month"],
        ),
        "statuses": _status_rows(statuses),
        "products": [_with_money(row, currency, "revenue") for row in products],
        "customers": [_with_money(row, currency, "revenue") for row in customers],
        "recent": [_order_row(row) for row in recent],
        "chart_data": {
            "currency": currency,
            "currency_exponent": currency_exponent(currency),
            "days": [row["day"].isoformat() for row in daily],
            "revenue": [row["revenue"] for row in daily],
            "orders": [row["orders"] for row in daily],
            "cancellations": [row["cancellations"] for row in daily],
            "statuses": [status.value for status in OrderStatus],
            "status_counts": [statuses[status.value] for status in OrderStatus],
        },
    }


def _with_money(row: dict[str, Any], currency: str, *fields: str) -> dict[str, Any]:
    return {**row, **{f"{field}_text": money(row[field], currency) for field in fields}}


def with_day_text(rows: list[dict[str, Any]], *, by_month: bool) -> list[dict[str, Any]]:
    """Add ``day_iso`` and ``day_label`` ("Mon 2 Dec 2026", or "Dec 2026" by month), as ``|date`` would write them.

    Formatted here with the names looked up once: two ``|date`` filters on each of 366 rows
    cost the page about 15 ms of Python (bench/pages.md).
    """
    weekdays = [str(name) for name in WEEKDAYS_ABBR.values()]
    months = [str(name).title() for name in MONTHS_3.values()]

    def texts(day: date) -> dict[str, str]:
        if by_month:
            return {"day_iso": f"{day.year:04d}-{day.month:02d}", "day_label": f"{months[day.month - 1]} {day.year}"}
        label = f"{weekdays[day.weekday()]} {day.day} {months[day.month - 1]} {day.year}"
        return {"day_iso": day.isoformat(), "day_label": label}

    return [{**row, **texts(row["day"])} for row in rows]


def _status_rows(statuses: dict[str, int]) -> list[dict[str, Any]]:
    total = sum(statuses.values())
    return [
        {
            "status": status.value,
            "label": status.value.capitalize(),
            "count": statuses[status.value],
            "count_text": number(statuses[status.value]),
            "share_text": percent(100 * statuses[status.value] / total) if total else NO_VALUE,
        }
        for status in OrderStatus
    ]


def _order_row(row: dict[str, Any]) -> dict[str, Any]:
    order_id = row["order_id"]
    return {
        **row,
        "total_text": money(row["total"], row["currency"]),
        "status_label": row["status"].capitalize(),
        # The staff admin's page for the order (write side: it changes orders through the services).
        "admin_url": f"{reverse('admin:index')}orders_write/order/{order_id}/change/",
        "api_url": reverse("api:order-detail", args=[order_id]),
    }
