"""Read a range of days next to the range just before it, for "compared with the previous period".

A dashboard shows a range's totals beside those of the previous range of the same length. Both
come from one primary-key range of ``daily_sales`` that spans the two, so the comparison costs
no more than the daily series the charts draw anyway.
"""

from datetime import date, timedelta
from typing import Any

from orders_read.queries.reports import average_order_value, daily_sales_series

_TOTALS = ("orders", "cancellations", "revenue", "discount_total")


def sales_compared(*, start: date, end: date) -> dict[str, Any]:
    """Return the daily series of ``start``..``end`` with its totals and the previous range's totals.

    The previous range has the same number of days and ends the day before ``start``. Keys:
    ``series`` (rows as ``daily_sales_series`` yields them, ``start`` to ``end``), ``current``
    and ``previous`` (each ``orders``, ``cancellations``, ``revenue``, ``discount_total``,
    ``average_order_value``), ``previous_start`` and ``previous_end``. ``start`` must not be
    after ``end``. One query.
    """
    length = (end - start).days + 1
    previous_start = start - timedelta(days=length)
    rows = daily_sales_series(start=previous_start, end=end)
    series = rows[length:]
    return {
        "series": series,
        "current": _totals(series),
        "previous": _totals(rows[:length]),
        "previous_start": previous_start,
        "previous_end": start - timedelta(days=1),
    }


def _totals(rows: list[dict[str, Any]]) -> dict[str, int]:
    totals = {name: sum(row[name] for row in rows) for name in _TOTALS}
    totals["average_order_value"] = average_order_value(totals)
    return totals
