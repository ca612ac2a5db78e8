"""Read a range of days next to the range just before it, for "compared with the previous period".

A dashboard shows a range's totals beside those of the previous range of the same length. The
range's own totals are summed from the series its charts draw anyway (one row per day up to
``MAX_RANGE_DAYS``, one per month beyond); the previous range's come from the rollups
(``rollups.sales_totals``), so the comparison costs two queries over days and months, whatever
the range's length.
"""

from datetime import date, timedelta
from typing import Any

from config.limits import MAX_RANGE_DAYS
from orders_read.queries import rollups
from orders_read.queries.reports import average_order_value, daily_sales_series
from orders_read.queries.tables import reads

_TOTALS = rollups.SALES_COLUMNS


@reads(rollups.monthly_series, daily_sales_series, rollups.sales_totals)
def sales_compared(*, start: date, end: date) -> dict[str, Any]:
    """Return the series of ``start``..``end`` with its totals and the previous range's totals.

    The previous range has the same number of days and ends the day before ``start``. Keys:
    ``series`` (rows as ``daily_sales_series`` yields them; for a range longer than
    ``MAX_RANGE_DAYS``, one row per month as ``rollups.monthly_series`` yields them, with
    ``average_order_value`` added), ``by_month``, ``current`` and ``previous`` (each ``orders``,
    ``cancellations``, ``revenue``, ``discount_total``, ``average_order_value``),
    ``previous_start`` and ``previous_end``. ``start`` must not be after ``end``. Two queries.
    """
    length = (end - start).days + 1
    previous_start, previous_end = start - timedelta(days=length), start - timedelta(days=1)
    by_month = length > MAX_RANGE_DAYS
    if by_month:
        series = rollups.monthly_series(start=start, end=end)
        for row in series:
            row["average_order_value"] = average_order_value(row)
    else:
        series = daily_sales_series(start=start, end=end)
    previous = rollups.sales_totals(start=previous_start, end=previous_end)
    previous["average_order_value"] = average_order_value(previous)
    return {
        "series": series,
        "by_month": by_month,
        "current": _totals(series),
        "previous": previous,
        "previous_start": previous_start,
        "previous_end": previous_end,
    }


def _totals(rows: list[dict[str, Any]]) -> dict[str, int]:
    totals = {name: sum(row[name] for row in rows) for name in _TOTALS}
    totals["average_order_value"] = average_order_value(totals)
    return totals
