"""Count the orders placed in a range of UTC days by their current status.

``sales_summary`` computes the same breakdown beside totals a caller may already hold (the
dashboard takes its totals from ``sales_compared``); this reads only the breakdown.
"""

from datetime import date

from orders_read.queries import rollups
from orders_read.queries.tables import reads


@reads(rollups.status_counts)
def orders_by_status(*, start: date, end: date) -> dict[str, int]:
    """Return ``{status: count}`` for every status (zeros included) of the orders placed ``start``..``end``.

    Days are UTC and inclusive. One query over ``order_status_month`` and ``order_status_day``
    (the range's whole months and its edge days, ``rollups``), never over the orders.
    """
    return rollups.status_counts(start=start, end=end)
