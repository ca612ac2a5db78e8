"""Report selectors: totals, the daily series, and the product and customer rankings."""

from datetime import UTC, date, datetime, timedelta

import pytest

from orders_read.queries import (
    average_order_value,
    daily_sales_series,
    rollups,
    sales_summary,
    top_customers,
    top_products,
)
from tests.read.rows import add_customer, add_customer_day, add_day, add_order, add_product_day

pytestmark = pytest.mark.django_db

MARCH_1, MARCH_2, MARCH_3, MARCH_4, MARCH_5 = (date(2024, 3, day) for day in range(1, 6))
NO_STATUSES = {"PENDING": 0, "CONFIRMED": 0, "SHIPPED": 0, "DELIVERED": 0, "CANCELLED": 0}


def _at(day: date, *clock: int) -> datetime:
    return datetime(day.year, day.month, day.day, *clock, tzinfo=UTC)


def test_sales_summary_adds_up_the_inclusive_day_range_in_two_queries(django_assert_num_queries):
    add_day(MARCH_1, orders=100, revenue=99_999, cancellations=50, discount_total=999)  # before the range
    add_day(MARCH_2, orders=3, revenue=2_000, cancellations=1, discount_total=100)
    add_day(MARCH_3, orders=2, revenue=1_001, cancellations=0, discount_total=50)
    add_day(MARCH_4, orders=1, revenue=0, cancellations=1, discount_total=0)
    add_day(MARCH_5, orders=100, revenue=99_999, cancellations=50, discount_total=999)  # after the range

    with django_assert_num_queries(2):
        summary = sales_summary(start=MARCH_2, end=MARCH_4)

    assert summary == {
        "orders": 6,
        "cancellations": 2,
        "revenue": 3_001,
        "discount_total": 150,
        "average_order_value": 750,  # 3001 / 4 = 750.25
        "orders_by_status": NO_STATUSES,
    }
    assert all(type(summary[key]) is int for key in ("orders", "cancellations", "revenue", "discount_total"))


def test_sales_summary_counts_statuses_of_orders_placed_within_the_utc_days():
    add_order(status="PENDING", placed_at=_at(MARCH_1, 23, 59, 59, 999_999))  # the day before
    add_order(status="PENDING", placed_at=_at(MARCH_2))  # first instant of the range
    add_order(status="CONFIRMED", placed_at=_at(MARCH_2, 13))
    add_order(status="CONFIRMED", placed_at=_at(MARCH_3, 9))
    add_order(status="CANCELLED", placed_at=_at(MARCH_3, 23, 59, 59, 999_999))  # last instant of the range
    add_order(status="SHIPPED", placed_at=_at(MARCH_4))  # the day after

    summary = sales_summary(start=MARCH_2, end=MARCH_3)

    assert summary["orders_by_status"] == {**NO_STATUSES, "PENDING": 1, "CONFIRMED": 2, "CANCELLED": 1}


def test_sales_summary_of_a_range_without_sales_is_all_zeros(django_assert_num_queries):
    add_day(MARCH_1, orders=5, revenue=500)
    with django_assert_num_queries(2):
        summary = sales_summary(start=MARCH_3, end=MARCH_4)
    assert summary == {
        "orders": 0,
        "cancellations": 0,
        "revenue": 0,
        "discount_total": 0,
        "average_order_value": 0,
        "orders_by_status": NO_STATUSES,
    }


def test_sales_summary_of_a_reversed_range_is_empty():
    add_day(MARCH_2, orders=5, revenue=500)
    add_order(placed_at=_at(MARCH_2, 10))
    summary = sales_summary(start=MARCH_3, end=MARCH_1)
    assert summary["orders"] == 0 and summary["orders_by_status"] == NO_STATUSES


@pytest.mark.parametrize(
    ("orders", "cancellations", "revenue", "average"),
    [
        (2, 0, 1_001, 501),  # 500.5 rounds up
        (3, 0, 1_000, 333),  # 333.33 rounds down
        (3, 0, 2, 1),  # 0.67 rounds up
        (2, 0, 5, 3),  # 2.5 rounds up
        (4, 1, 1_000, 333),  # cancelled orders are not in the denominator
        (4, 1, 1_001, 334),  # 333.67
        (3, 3, 0, 0),  # everything cancelled
        (0, 0, 0, 0),  # nothing placed
    ],
)
def test_the_average_order_value_rounds_half_up_over_kept_orders(orders, cancellations, revenue, average):
    assert average_order_value({"orders": orders, "cancellations": cancellations, "revenue": revenue}) == average
    add_day(MARCH_2, orders=orders, cancellations=cancellations, revenue=revenue)
    assert sales_summary(start=MARCH_2, end=MARCH_2)["average_order_value"] == average
    assert daily_sales_series(start=MARCH_2, end=MARCH_2)[0]["average_order_value"] == average


def test_the_daily_series_has_a_row_for_every_day_zeros_included_in_one_query(django_assert_num_queries):
    add_day(MARCH_1, orders=9, revenue=9_000)  # before the range
    add_day(MARCH_2, orders=3, revenue=2_001, cancellations=1, discount_total=100)
    add_day(MARCH_4, orders=1, revenue=700)

    with django_assert_num_queries(1):
        series = daily_sales_series(start=MARCH_2, end=MARCH_5)

    columns = ("day", "orders", "cancellations", "revenue", "discount_total", "average_order_value")
    assert series == [
        dict(zip(columns, values, strict=True))
        for values in [
            (MARCH_2, 3, 1, 2_001, 100, 1_001),
            (MARCH_3, 0, 0, 0, 0, 0),
            (MARCH_4, 1, 0, 700, 0, 700),
            (MARCH_5, 0, 0, 0, 0, 0),
        ]
    ]


def test_the_daily_series_of_one_day_and_of_a_reversed_range():
    add_day(MARCH_2, orders=1, revenue=100)
    assert [row["day"] for row in daily_sales_series(start=MARCH_2, end=MARCH_2)] == [MARCH_2]
    assert daily_sales_series(start=MARCH_3, end=MARCH_2) == []


def test_the_daily_series_spans_month_and_year_ends():
    series = daily_sales_series(start=date(2023, 12, 30), end=date(2024, 1, 2))
    assert [row["day"] for row in series] == [date(2023, 12, 30) + timedelta(days=n) for n in range(4)]


def test_top_products_sum_units_and_revenue_over_the_range_best_first_in_one_query(django_assert_num_queries):
    add_product_day(MARCH_1, sku="TEA", units=100, revenue=100_000)  # before the range
    add_product_day(MARCH_2, sku="TEA", units=2, revenue=900, name="Green tea")
    add_product_day(MARCH_3, sku="TEA", units=1, revenue=450, name="Green tea")
    add_product_day(MARCH_2, sku="CUP", units=1, revenue=1_350, name="Cup")
    add_product_day(MARCH_3, sku="POT", units=1, revenue=3_000, name="Teapot")
    add_product_day(MARCH_3, sku="BAG", units=5, revenue=1_350, name="Tea bags")

    with django_assert_num_queries(1):
        ranking = top_products(start=MARCH_2, end=MARCH_3)

    assert ranking == [
        {"sku": "POT", "product_name": "Teapot", "units": 1, "revenue": 3_000},
        {"sku": "BAG", "product_name": "Tea bags", "units": 5, "revenue": 1_350},  # tie: by sku
        {"sku": "CUP", "product_name": "Cup", "units": 1, "revenue": 1_350},
        {"sku": "TEA", "product_name": "Green tea", "units": 3, "revenue": 1_350},
    ]
    assert all(type(row["units"]) is int and type(row["revenue"]) is int for row in ranking)


def test_top_products_stop_at_the_limit():
    for rank in range(12):
        add_product_day(MARCH_2, sku=f"SKU-{rank:02}", units=1, revenue=1_000 - rank)
    assert [row["sku"] for row in top_products(start=MARCH_2, end=MARCH_2)] == [f"SKU-{n:02}" for n in range(10)]
    assert [row["sku"] for row in top_products(start=MARCH_2, end=MARCH_2, limit=2)] == ["SKU-00", "SKU-01"]
    assert len(top_products(start=MARCH_2, end=MARCH_2, limit=0)) == 1
    assert top_products(start=MARCH_3, end=MARCH_4) == []


def test_top_customers_sum_the_range_and_carry_names_in_one_query(django_assert_num_queries):
    add_customer(customer_id=1, name="Ada")
    add_customer(customer_id=2, name="Grace")
    add_customer(customer_id=3, name="Edsger")
    add_customer_day(MARCH_1, customer_id=3, orders=50, revenue=50_000)  # before the range
    add_customer_day(MARCH_2, customer_id=1, orders=1, revenue=1_000)
    add_customer_day(MARCH_3, customer_id=1, orders=2, revenue=1_500)
    add_customer_day(MARCH_2, customer_id=2, orders=1, revenue=2_500)
    add_customer_day(MARCH_3, customer_id=3, orders=1, revenue=900)
    add_customer_day(MARCH_3, customer_id=4, orders=1, revenue=100)  # stats row not projected yet

    with django_assert_num_queries(1):
        ranking = top_customers(start=MARCH_2, end=MARCH_3)

    assert ranking == [
        {"customer_id": 1, "name": "Ada", "orders": 3, "revenue": 2_500},
        {"customer_id": 2, "name": "Grace", "orders": 1, "revenue": 2_500},  # tie: by customer id
        {"customer_id": 3, "name": "Edsger", "orders": 1, "revenue": 900},
        {"customer_id": 4, "name": "", "orders": 1, "revenue": 100},
    ]
    assert all(type(row["orders"]) is int and type(row["revenue"]) is int for row in ranking)


def test_top_customers_stop_at_the_limit():
    for customer_id in range(1, 13):
        add_customer_day(MARCH_2, customer_id=customer_id, orders=1, revenue=100 * customer_id)
    assert [row["customer_id"] for row in top_customers(start=MARCH_2, end=MARCH_2)] == list(range(12, 2, -1))
    assert [row["customer_id"] for row in top_customers(start=MARCH_2, end=MARCH_2, limit=3)] == [12, 11, 10]
    assert len(top_customers(start=MARCH_2, end=MARCH_2, limit=-1)) == 1
    assert top_customers(start=MARCH_3, end=MARCH_4) == []


# No piece's best customer is the best of the range: February as its month row plus 1-2 March as
# days; and February from the 3rd, its month row minus the 1st and 2nd (a subtracted piece).
SPLIT_LEADER = (
    date(2024, 2, 1), MARCH_2,
    [(date(2024, 2, 10), 1, 100), (MARCH_1, 2, 100), (date(2024, 2, 20), 3, 60), (MARCH_2, 3, 60)],
    {"customer_id": 3, "name": "", "orders": 2, "revenue": 120},
)  # fmt: skip
SUBTRACTED_LEADER = (
    date(2024, 2, 3), date(2024, 2, 29),
    [(date(2024, 2, 1), 1, 500), (date(2024, 2, 10), 1, 10), (date(2024, 2, 15), 2, 100)],
    {"customer_id": 2, "name": "", "orders": 1, "revenue": 100},
)  # fmt: skip


# Orders with no revenue (cancelled): the bound is zero, and the second read takes every row.
NO_REVENUE = (
    date(2024, 2, 1), date(2024, 2, 29),
    [(date(2024, 2, 10), 1, 0), (date(2024, 2, 11), 2, 0)],
    {"customer_id": 1, "name": "", "orders": 1, "revenue": 0},
)  # fmt: skip


@pytest.mark.parametrize(
    "case", [SPLIT_LEADER, SUBTRACTED_LEADER, NO_REVENUE], ids=["split", "subtracted", "no revenue"]
)
@pytest.mark.parametrize("depth, queries", [(1, 2), (256, 1)])
def test_top_customers_read_deeper_until_no_unread_customer_can_win(
    monkeypatch, django_assert_num_queries, case, depth, queries
):
    start, end, days, winner = case
    monkeypatch.setattr(rollups, "RANKING_DEPTH", depth)
    for day, customer_id, revenue in days:
        add_customer_day(day, customer_id=customer_id, orders=1, revenue=revenue)

    with django_assert_num_queries(queries):
        ranking = top_customers(start=start, end=end, limit=1)

    assert ranking == [winner]
