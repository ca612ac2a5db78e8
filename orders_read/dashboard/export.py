"""CSV downloads of the dashboard's tables, for the same range and under the same right.

Money is written as integer minor units (cents for EUR) in columns named ``…_minor_units``,
beside a ``currency`` column, exactly as the API returns it: spreadsheets divide, nobody
parses "€1,234.56". Rankings and recent orders hold up to ``MAX_PAGE_SIZE`` rows (the page
shows the first ten). Each file costs one query.
"""

import csv
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.views.decorators.http import require_safe

from config.limits import MAX_PAGE_SIZE
from events import OrderStatus
from orders_read.dashboard.access import reports_required
from orders_read.dashboard.figures import recent_orders
from orders_read.dashboard.formatting import shop_currency
from orders_read.dashboard.range import DayRange, choose_range
from orders_read.queries import daily_sales_series, top_customers, top_products
from orders_read.queries.statuses import orders_by_status

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

Rows = Callable[[DayRange, str], Iterable[Sequence]]


@dataclass(frozen=True)
class Table:
    title: str
    header: tuple[str, ...]
    rows: Rows


def _daily_sales(day_range: DayRange, currency: str) -> Iterable[Sequence]:
    for row in daily_sales_series(start=day_range.start, end=day_range.end):
        yield (
            row["day"].isoformat(),
            row["orders"],
            row["cancellations"],
            row["revenue"],
            row["discount_total"],
            row["average_order_value"],
            currency,
        )


def _orders_by_status(day_range: DayRange, currency: str) -> Iterable[Sequence]:
    counts = orders_by_status(start=day_range.start, end=day_range.end)
    return [(status.value, counts[status.value]) for status in OrderStatus]


def _top_products(day_range: DayRange, currency: str) -> Iterable[Sequence]:
    ranked = top_products(start=day_range.start, end=day_range.end, limit=MAX_PAGE_SIZE)
    for rank, row in enumerate(ranked, start=1):
        yield rank, row["sku"], row["product_name"], row["units"], row["revenue"], currency


def _top_customers(day_range: DayRange, currency: str) -> Iterable[Sequence]:
    ranked = top_customers(start=day_range.start, end=day_range.end, limit=MAX_PAGE_SIZE)
    for rank, row in enumerate(ranked, start=1):
        yield rank, row["customer_id"], row["name"], row["orders"], row["revenue"], currency


def _recent_orders(day_range: DayRange, currency: str) -> Iterable[Sequence]:
    for row in recent_orders(day_range, limit=MAX_PAGE_SIZE):
        yield (
            row["order_id"],
            row["placed_at"].isoformat(),
            row["customer_id"],
            row["customer_name"],
            row["status"],
            row["item_count"],
            row["discount"],
            row["total"],
            row["currency"],
            row["version"],
        )


TABLES: dict[str, Table] = {
    "daily-sales": Table(
        "Daily sales",
        (
            "day",
            "orders",
            "cancellations",
            "revenue_minor_units",
            "discount_total_minor_units",
            "average_order_value_minor_units",
            "currency",
        ),
        _daily_sales,
    ),
    "orders-by-status": Table("Orders by status", ("status", "orders"), _orders_by_status),
    "top-products": Table(
        "Top products", ("rank", "sku", "product_name", "units", "revenue_minor_units", "currency"), _top_products
    ),
    "top-customers": Table(
        "Top customers",
        ("rank", "customer_id", "customer_name", "orders", "revenue_minor_units", "currency"),
        _top_customers,
    ),
    "recent-orders": Table(
        "Recent orders",
        (
            "order_id",
            "placed_at",
            "customer_id",
            "customer_name",
            "status",
            "item_count",
            "discount_minor_units",
            "total_minor_units",
            "currency",
            "version",
        ),
        _recent_orders,
    ),
}


@require_safe
@reports_required
def export_csv(request, table: str) -> HttpResponse:
    """Answer the table for ``?from=&to=`` (or ``?range=``) as a CSV attachment; 400 for a bad range."""
    spec = TABLES.get(table)
    if spec is None:
        raise Http404(f"no table {table!r} to export")
    choice = choose_range(request.GET)
    if choice.fell_back:
        problems = "; ".join(f"{field}: {' '.join(errors)}" for field, errors in choice.form.errors.items())
        return HttpResponseBadRequest(f"Invalid range: {problems}\n", content_type="text/plain; charset=utf-8")
    day_range = choice.day_range
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    filename = f"{table}_{day_range.start.isoformat()}_{day_range.end.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    writer = csv.writer(response)
    writer.writerow(spec.header)
    writer.writerows([_cell(value) for value in row] for row in spec.rows(day_range, shop_currency()))
    return response


def _cell(value):
    """Defuse text a spreadsheet would run as a formula (CSV injection) by quoting it as text."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value
