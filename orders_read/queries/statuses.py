"""Count the orders placed in a range of UTC days by their current status.

``sales_summary`` computes the same breakdown beside totals a caller may already hold (the
dashboard takes its totals from ``sales_compared``); this reads only the breakdown.
"""

from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Count

from events import OrderStatus
from orders_read.models import OrderSummary


def orders_by_status(*, start: date, end: date) -> dict[str, int]:
    """Return ``{status: count}`` for every status (zeros included) of the orders placed ``start``..``end``.

    Days are UTC and inclusive. One query: a range of ``order_summary``'s ``placed_at`` index,
    grouped by status.
    """
    first_instant = datetime.combine(start, time.min, tzinfo=UTC)
    after_last = first_instant + timedelta(days=(end - start).days + 1)
    counts = (
        OrderSummary.objects.filter(placed_at__gte=first_instant, placed_at__lt=after_last)
        .values("status")
        .annotate(count=Count("*"))
        .order_by()
    )
    by_status = {status.value: 0 for status in OrderStatus}
    by_status.update((row["status"], row["count"]) for row in counts)
    return by_status
