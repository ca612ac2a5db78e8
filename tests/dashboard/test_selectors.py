"""The selectors added for the dashboard: a range beside the previous one, and the status breakdown."""

from datetime import UTC, date, datetime

import pytest

from orders_read.queries.comparison import sales_compared
from orders_read.queries.statuses import orders_by_status
from tests.read.rows import add_day, add_order

pytestmark = pytest.mark.usefixtures("read_tables")


def test_sales_compared_reads_the_range_and_the_totals_of_the_one_before(django_assert_num_queries):
    add_day(date(2024, 2, 26), orders=50, revenue=50_000)  # before the previous range
    add_day(date(2024, 2, 27), orders=2, revenue=3_000, cancellations=1, discount_total=10)
    add_day(date(2024, 2, 29), orders=1, revenue=1_000)
    add_day(date(2024, 3, 1), orders=4, revenue=7_000, cancellations=2)
    add_day(date(2024, 3, 3), orders=1, revenue=0, cancellations=1)
    add_day(date(2024, 3, 4), orders=99, revenue=99_000)  # after the range

    with django_assert_num_queries(2):  # the range's series, the previous range's totals (rollups)
        compared = sales_compared(start=date(2024, 3, 1), end=date(2024, 3, 3))

    assert (compared["previous_start"], compared["previous_end"]) == (date(2024, 2, 27), date(2024, 2, 29))
    assert [row["day"] for row in compared["series"]] == [date(2024, 3, 1), date(2024, 3, 2), date(2024, 3, 3)]
    assert compared["current"] == {
        "orders": 5,
        "cancellations": 3,
        "revenue": 7_000,
        "discount_total": 0,
        "average_order_value": 3_500,
    }
    assert compared["previous"] == {
        "orders": 3,
        "cancellations": 1,
        "revenue": 4_000,
        "discount_total": 10,
        "average_order_value": 2_000,
    }


def test_orders_by_status_counts_the_inclusive_utc_days_in_one_query(django_assert_num_queries):
    add_order(status="PENDING", placed_at=datetime(2024, 2, 29, 23, 59, 59, 999_999, tzinfo=UTC))
    add_order(status="PENDING", placed_at=datetime(2024, 3, 1, tzinfo=UTC))
    add_order(status="SHIPPED", placed_at=datetime(2024, 3, 2, 12, tzinfo=UTC))
    add_order(status="SHIPPED", placed_at=datetime(2024, 3, 2, 23, 59, 59, 999_999, tzinfo=UTC))
    add_order(status="CANCELLED", placed_at=datetime(2024, 3, 3, tzinfo=UTC))

    with django_assert_num_queries(1):
        counts = orders_by_status(start=date(2024, 3, 1), end=date(2024, 3, 2))

    assert counts == {"PENDING": 1, "CONFIRMED": 0, "SHIPPED": 2, "DELIVERED": 0, "CANCELLED": 0}
