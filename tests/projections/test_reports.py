"""The reports projection's rollups (ADR 0021): exact over random histories and ranges, checked by verify.

Every figure the reports read from the rollups (totals, orders by status, rankings, the monthly
series) must equal the same figure computed straight from ``order_summary`` and the per-day
tables, for any history (placements, discounts, line changes, cancellations, transitions, on
both sides of day, month and year boundaries) drained in any batch sizes, and any range.
"""

import contextlib
import itertools
from datetime import UTC, date, datetime, timedelta

from django.db import connection
from django.db.models import Count, Max, Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orders_read.models import CustomerSales, CustomerStats, DailySales, OrderSummary, ProductSales
from orders_read.queries import rollups
from orders_write import clock
from orders_write.errors import DomainError
from orders_write.services import (
    LineInput,
    order_cancel,
    order_confirm,
    order_deliver,
    order_discount_apply,
    order_line_add,
    order_line_remove,
    order_place,
    order_ship,
)
from projections.reports import rollup_differences
from projections.runtime.loop import drain, drain_all
from projections.runtime.verify import verify

SKUS = [f"ROLL-{i}" for i in range(4)]
# Instants on both sides of day, month (a leap February's end among them) and year boundaries.
INSTANTS = [
    datetime(2023, 12, 31, 23, 59, tzinfo=UTC),
    datetime(2024, 1, 1, 0, 0, tzinfo=UTC),
    datetime(2024, 1, 31, 23, 59, 59, tzinfo=UTC),
    datetime(2024, 2, 1, 0, 0, 1, tzinfo=UTC),
    datetime(2024, 2, 15, 12, 0, tzinfo=UTC),
    datetime(2024, 2, 29, 23, 0, tzinfo=UTC),
    datetime(2024, 3, 1, 1, 0, tzinfo=UTC),
    datetime(2024, 12, 31, 22, 0, tzinfo=UTC),
    datetime(2025, 1, 1, 2, 0, tzinfo=UTC),
]
FIRST_DAY, LAST_DAY = date(2023, 12, 1), date(2025, 2, 28)
TODAYS = [date(2024, 2, 10), date(2024, 12, 31), date(2026, 1, 1)]

command = st.one_of(
    st.tuples(
        st.just("place"),
        st.sampled_from(INSTANTS),
        st.integers(0, 2),
        st.lists(st.sampled_from(SKUS), min_size=1, max_size=3, unique=True),
    ),
    st.tuples(st.just("add"), st.integers(0, 9), st.sampled_from(SKUS), st.integers(1, 4)),
    st.tuples(st.just("remove"), st.integers(0, 9), st.sampled_from(SKUS)),
    st.tuples(st.just("discount"), st.integers(0, 9), st.integers(0, 100)),
    st.tuples(st.just("advance"), st.integers(0, 9), st.sampled_from(["confirm", "ship", "deliver", "cancel"])),
    st.tuples(st.just("drain"), st.integers(1, 7)),
)
day_in_range = st.dates(min_value=FIRST_DAY, max_value=LAST_DAY)


def shifted(moment, years: int):
    """Each example places its orders on days of its own (whole leap cycles later), so it starts empty."""
    return moment.replace(year=moment.year + years)


def run(step, customers: list[int], orders: list[int], years: int) -> None:
    kind, *args = step
    if kind == "place":
        moment, customer, skus = args
        with clock.frozen_at(shifted(moment, years)):
            placed = order_place(customer_id=customers[customer], lines=[LineInput(sku, 1) for sku in skus])
        orders.append(placed.order_id)
    elif kind == "drain":
        drain("reports", batch_size=args[0])  # the rollups part-way, so later events meet stored state
    elif orders:
        order_id = orders[args[0] % len(orders)]
        actions = {
            "add": lambda: order_line_add(order_id=order_id, sku=args[1], quantity=args[2]),
            "remove": lambda: order_line_remove(order_id=order_id, sku=args[1]),
            "discount": lambda: order_discount_apply(order_id=order_id, percent=args[1]),
            "confirm": lambda: order_confirm(order_id=order_id),
            "ship": lambda: order_ship(order_id=order_id, tracking_number="T-1"),
            "deliver": lambda: order_deliver(order_id=order_id),
            "cancel": lambda: order_cancel(order_id=order_id, reason="random"),
        }
        actions[args[1] if kind == "advance" else kind]()


# The same figures computed straight from order_summary and the per-day tables -------------------


def direct_totals(start: date, end: date) -> dict[str, int]:
    sums = DailySales.objects.filter(day__range=(start, end)).aggregate(
        orders=Sum("orders"), cancellations=Sum("cancellations"), revenue=Sum("revenue"), discount=Sum("discount_total")
    )
    return {
        "orders": sums["orders"] or 0,
        "cancellations": sums["cancellations"] or 0,
        "revenue": sums["revenue"] or 0,
        "discount_total": sums["discount"] or 0,
    }


def direct_statuses(start: date, end: date) -> dict[str, int]:
    first = datetime.combine(start, datetime.min.time(), tzinfo=UTC)
    after = datetime.combine(end + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    placed = OrderSummary.objects.filter(placed_at__gte=first, placed_at__lt=after)
    rows = placed.values("status").annotate(n=Count("*"))
    counts = dict.fromkeys(("PENDING", "CONFIRMED", "SHIPPED", "DELIVERED", "CANCELLED"), 0)
    counts.update({row["status"]: row["n"] for row in rows})
    return counts


def direct_products(start: date, end: date, limit: int) -> list[dict]:
    rows = (
        ProductSales.objects.filter(day__range=(start, end))
        .values("sku")
        .annotate(name=Max("product_name"), units=Sum("units"), revenue=Sum("revenue"))
        .order_by("-revenue", "sku")[:limit]
    )
    return [{"sku": r["sku"], "product_name": r["name"], "units": r["units"], "revenue": r["revenue"]} for r in rows]


def direct_customers(start: date, end: date, limit: int) -> list[dict]:
    rows = (
        CustomerSales.objects.filter(day__range=(start, end))
        .values("customer_id")
        .annotate(orders=Sum("orders"), revenue=Sum("revenue"))
        .order_by("-revenue", "customer_id")[:limit]
    )
    names = dict(CustomerStats.objects.values_list("customer_id", "name"))
    return [
        {"customer_id": r["customer_id"], "name": names.get(r["customer_id"], ""), "orders": r["orders"],
         "revenue": r["revenue"]}
        for r in rows
    ]  # fmt: skip


def direct_monthly_series(start: date, end: date) -> list[tuple]:
    by_month: dict[date, list[int]] = {}
    for row in DailySales.objects.filter(day__range=(start, end)).order_by("day"):
        sums = by_month.setdefault(row.day.replace(day=1), [0, 0, 0, 0])
        for index, value in enumerate((row.orders, row.cancellations, row.revenue, row.discount_total)):
            sums[index] += value
    return [(month, *values) for month, values in sorted(by_month.items())]


def rolled_up_figures(start: date, end: date, today: date, limit: int) -> dict:
    series = rollups.monthly_series(start=start, end=end)
    return {
        "totals": rollups.sales_totals(start=start, end=end, today=today),
        "statuses": rollups.status_counts(start=start, end=end, today=today),
        "products": rollups.ranked_products(start=start, end=end, limit=limit, today=today),
        "customers": rollups.ranked_customers(start=start, end=end, limit=limit, today=today),
        "series": [
            (row["day"].replace(day=1), *(row[c] for c in rollups.SALES_COLUMNS)) for row in series if row["orders"]
        ],
    }


def direct_figures(start: date, end: date, limit: int) -> dict:
    return {
        "totals": direct_totals(start, end),
        "statuses": direct_statuses(start, end),
        "products": direct_products(start, end, limit),
        "customers": direct_customers(start, end, limit),
        "series": direct_monthly_series(start, end),
    }


def test_every_rollup_figure_equals_the_direct_computation_over_random_histories_and_ranges(
    make_customer, make_product, monkeypatch
):
    customers = [make_customer(name) for name in ("Ada", "Grace", "Edsger")]
    examples = itertools.count()
    for sku in SKUS:
        make_product(sku=sku, price=250)

    @settings(
        max_examples=20,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(
        steps=st.lists(command, min_size=1, max_size=25),
        ranges=st.lists(st.tuples(day_in_range, day_in_range, st.sampled_from(TODAYS)), min_size=1, max_size=6),
        limit=st.integers(1, 5),
        depth=st.sampled_from([1, 2, rollups.RANKING_DEPTH]),  # shallow: the rankings must read deeper
    )
    def check(steps, ranges, limit, depth):
        monkeypatch.setattr(rollups, "RANKING_DEPTH", depth)
        orders: list[int] = []
        years = 4 * (next(examples) % 18)  # leap years stay leap up to 2099
        for step in steps:
            with contextlib.suppress(DomainError):  # illegal commands are part of the mix
                run(step, customers, orders, years)
        drain_all(batch_size=5)
        for first, second, today in ranges:
            start, end = shifted(min(first, second), years), shifted(max(first, second), years)
            today = shifted(today, years)
            assert rolled_up_figures(start, end, today, limit) == direct_figures(start, end, limit), (start, end)
        assert rollup_differences() == []

    check()
    assert verify("reports") == []


@given(
    start=st.dates(min_value=date(2015, 1, 1), max_value=date(2030, 12, 31)),
    length=st.integers(0, 3653),
    today=st.dates(min_value=date(2015, 1, 1), max_value=date(2030, 12, 31)),
    costs=st.sampled_from([rollups.SMALL, rollups.PRODUCTS, rollups.CUSTOMERS]),
)
def test_a_decomposition_covers_each_day_of_the_range_exactly_once_in_few_rows(start, length, today, costs):
    end = start + timedelta(days=length)
    pieces = rollups.decompose(start, end, costs=costs, today=today)

    weight: dict[date, int] = {}
    for piece in pieces:
        day = piece.first
        while day <= piece.last:
            weight[day] = weight.get(day, 0) + piece.sign
            day += timedelta(days=1)
    covered = {day for day, total in weight.items() if total}
    assert all(total in (0, 1) for total in weight.values())
    assert covered == {start + timedelta(days=n) for n in range(length + 1)}
    # Bounded by the periods, not the days: at most two edge months' worth of days up to today,
    # and no more months than the range meets plus one subtracted around each edge.
    days_read = sum((min(p.last, today) - p.first).days + 1 for p in pieces if p.level == "day" and p.first <= today)
    assert days_read <= 2 * 31
    months_met = (end.year - start.year) * 12 + end.month - start.month + 1
    assert sum(p.level == "month" and p.first <= today for p in pieces) <= months_met + 6


def test_verify_reports_a_rollup_that_no_longer_matches(customer, sku):
    with clock.frozen_at(datetime(2024, 1, 31, 23, 0, tzinfo=UTC)):
        first = order_place(customer_id=customer, lines=[LineInput(sku, 2)]).order_id
    with clock.frozen_at(datetime(2024, 2, 1, 1, 0, tzinfo=UTC)):
        order_place(customer_id=customer, lines=[LineInput(sku, 1)])
    order_confirm(order_id=first)
    order_cancel(order_id=first, reason="changed mind")
    drain_all()
    assert verify("reports") == []
    assert rollups.status_counts(start=date(2024, 1, 1), end=date(2024, 2, 29))["CANCELLED"] == 1

    with connection.cursor() as cursor:
        cursor.execute("UPDATE monthly_sales SET revenue = revenue + 1 WHERE month = %s", [date(2024, 2, 1)])
    differences = verify("reports")
    assert differences[0].startswith("monthly_sales: 1 row(s) not in a rebuild")
    assert any(line.startswith("monthly_sales: (datetime.date(2024, 2, 1),) is") for line in differences)


def test_the_rollups_are_compared_with_the_per_day_tables_they_sum(customer, sku):
    with clock.frozen_at(datetime(2024, 3, 31, 23, 59, tzinfo=UTC)):
        order_place(customer_id=customer, lines=[LineInput(sku, 3)])
    drain_all()
    assert rollup_differences() == []

    with connection.cursor() as cursor:  # a per-day row the rollups no longer sum to
        cursor.execute("UPDATE customer_sales SET revenue = revenue + 5")
    differences = rollup_differences()
    assert [line.split(":")[0] for line in differences] == ["customer_sales_month", "customer_sales_year"]


def test_an_order_moving_on_in_a_later_batch_leaves_no_emptied_row(customer, sku):
    with clock.frozen_at(datetime(2024, 5, 31, 23, 30, tzinfo=UTC)):
        order_id = order_place(customer_id=customer, lines=[LineInput(sku, 2)]).order_id
    drain_all()
    order_confirm(order_id=order_id)
    drain_all()
    order_cancel(order_id=order_id, reason="changed mind")
    drain_all()

    with connection.cursor() as cursor:
        cursor.execute("SELECT day, status, orders FROM order_status_day")
        assert cursor.fetchall() == [(date(2024, 5, 31), "CANCELLED", 1)]
        cursor.execute("SELECT COUNT(*) FROM product_sales_month")
        assert cursor.fetchone() == (0,)  # a cancelled order sells nothing
    assert verify("reports") == []
