"""Check the sales reports against the write tables (part of ``verify_projections``).

Sums cannot be compared row by row at equal versions as orders can, so the check runs only
when the sales projection has applied every event there is: then each day's orders,
cancellations, revenue and discounts, and each customer's counts and lifetime value, must
equal the same sums computed from the orders themselves.
"""

from django.db import connections

from projections.drain import READ_DB
from projections.outbox_reader import WRITE_DB

_DAY = {"postgresql": "(placed_at AT TIME ZONE 'UTC')::date", "sqlite": "date(placed_at)"}
_WRITE_DAILY = """
    SELECT {day}, COUNT(*),
           SUM(CASE WHEN status = 'CANCELLED' THEN 1 ELSE 0 END),
           SUM(CASE WHEN status = 'CANCELLED' THEN 0 ELSE total END),
           SUM(CASE WHEN status = 'CANCELLED' THEN 0 ELSE discount END)
    FROM orders_write_order GROUP BY 1
"""
_READ_DAILY = "SELECT day, orders, cancellations, revenue, discount_total FROM daily_sales"
_WRITE_CUSTOMERS = """
    SELECT customer_id, COUNT(*), SUM(CASE WHEN status = 'CANCELLED' THEN 1 ELSE 0 END),
           SUM(CASE WHEN status = 'CANCELLED' THEN 0 ELSE total END)
    FROM orders_write_order GROUP BY customer_id
"""
_READ_CUSTOMERS = (
    "SELECT customer_id, order_count, cancelled_count, lifetime_value FROM customer_stats WHERE order_count > 0"
)
SHOWN = 5


def sales_against_write_side(*, caught_up: bool) -> list[str]:
    """Return differences between the sales tables and the orders; nothing to say while behind."""
    if not caught_up:
        return []
    write, read = connections[WRITE_DB], connections[READ_DB]
    problems = _compare(
        "daily_sales", _rows(write, _WRITE_DAILY.format(day=_DAY[write.vendor])), _rows(read, _READ_DAILY)
    )
    problems += _compare("customer_stats", _rows(write, _WRITE_CUSTOMERS), _rows(read, _READ_CUSTOMERS))
    return problems


def _rows(connection, sql: str) -> dict[str, tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return {str(row[0]): tuple(int(value) for value in row[1:]) for row in cursor.fetchall()}


def _compare(table: str, written: dict[str, tuple], projected: dict[str, tuple]) -> list[str]:
    wrong = [key for key in sorted(written.keys() | projected.keys()) if written.get(key) != projected.get(key)]
    return [f"{table}: {key} is {projected.get(key)}, the orders say {written.get(key)}" for key in wrong[:SHOWN]]
