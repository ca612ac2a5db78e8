"""Order selectors: one order with its lines, a customer's recent orders, the filtered list."""

from datetime import timedelta

import pytest

from orders_read.queries import customer_recent_orders, order_detail, order_list
from tests.read.rows import NOON, add_line, add_order, add_orders, as_read, order_summary

pytestmark = pytest.mark.django_db

CONTRACT_ORDER_FIELDS = {
    "order_id",
    "customer_id",
    "customer_name",
    "status",
    "total",
    "discount",
    "currency",
    "item_count",
    "placed_at",
    "updated_at",
    "version",
}


def test_order_detail_returns_the_summary_and_its_lines_by_sku_in_two_queries(django_assert_num_queries):
    order = add_order(customer_name="Grace Hopper", tracking_number="TRK-1", status="SHIPPED", version=4)
    add_line(order_id=order.order_id, sku="TEA-2", quantity=3, unit_price=450, name="Green tea")
    add_line(order_id=order.order_id, sku="CUP-1", quantity=1, unit_price=1200, name="Cup")
    add_line(order_id=add_order().order_id, sku="OTHER", quantity=9)

    with django_assert_num_queries(2):
        detail = order_detail(order_id=order.order_id)

    assert detail == {
        **as_read(order),
        "lines": [
            {"sku": "CUP-1", "product_name": "Cup", "quantity": 1, "unit_price": 1200, "line_total": 1200},
            {"sku": "TEA-2", "product_name": "Green tea", "quantity": 3, "unit_price": 450, "line_total": 1350},
        ],
    }
    assert detail.keys() >= CONTRACT_ORDER_FIELDS


def test_order_detail_of_an_unknown_order_is_none_after_one_query(django_assert_num_queries):
    add_order()
    with django_assert_num_queries(1):
        assert order_detail(order_id=987_654_321) is None


def test_customer_recent_orders_are_that_customers_newest_first_in_one_query(django_assert_num_queries):
    oldest = add_order(customer_id=7, placed_at=NOON - timedelta(days=2))
    tie_low, tie_high = add_order(customer_id=7, order_id=50_001), add_order(customer_id=7, order_id=50_002)
    newest = add_order(customer_id=7, placed_at=NOON + timedelta(seconds=1))
    add_order(customer_id=8, placed_at=NOON + timedelta(days=1))

    with django_assert_num_queries(1):
        recent = customer_recent_orders(customer_id=7)

    assert recent == [as_read(newest), as_read(tie_high), as_read(tie_low), as_read(oldest)]


def test_customer_recent_orders_stop_at_the_limit(django_assert_num_queries):
    rows = add_orders(*(order_summary(customer_id=3, placed_at=NOON + timedelta(minutes=i)) for i in range(5)))
    with django_assert_num_queries(1):
        recent = customer_recent_orders(customer_id=3, limit=2)
    assert [row["order_id"] for row in recent] == [rows[4].order_id, rows[3].order_id]


@pytest.mark.parametrize(("asked", "served"), [(0, 1), (-5, 1), (100, 100), (101, 100), (10_000, 100)])
def test_customer_recent_orders_clamp_the_limit_to_1_through_100(asked, served):
    add_orders(*(order_summary(customer_id=4, placed_at=NOON + timedelta(seconds=i)) for i in range(120)))
    assert len(customer_recent_orders(customer_id=4, limit=asked)) == served


def test_customer_recent_orders_of_a_customer_without_orders_is_empty():
    add_order(customer_id=1)
    assert customer_recent_orders(customer_id=2) == []


@pytest.fixture
def assorted_orders():
    """Orders of two customers in several statuses, one hour apart, newest last."""
    specs = [(1, "PENDING"), (2, "CONFIRMED"), (1, "SHIPPED"), (1, "CONFIRMED"), (2, "CANCELLED"), (1, "CONFIRMED")]
    return add_orders(
        *(
            order_summary(customer_id=customer, status=status, placed_at=NOON + timedelta(hours=hour))
            for hour, (customer, status) in enumerate(specs)
        )
    )


def _ids(rows):
    return [row["order_id"] for row in rows]


def test_order_list_without_filters_is_every_order_newest_first(assorted_orders, django_assert_num_queries):
    with django_assert_num_queries(1):
        rows, cursor = order_list()
    assert rows == [as_read(row) for row in reversed(assorted_orders)]
    assert cursor is None


@pytest.mark.parametrize(
    ("filters", "expected_hours"),
    [
        ({"customer_id": 1}, [5, 3, 2, 0]),
        ({"status": "CONFIRMED"}, [5, 3, 1]),
        ({"customer_id": 1, "status": "CONFIRMED"}, [5, 3]),
        ({"status": "DELIVERED"}, []),
        ({"placed_after": NOON + timedelta(hours=2)}, [5, 4, 3, 2]),
        ({"placed_before": NOON + timedelta(hours=2)}, [1, 0]),
        ({"placed_after": NOON + timedelta(hours=1), "placed_before": NOON + timedelta(hours=4)}, [3, 2, 1]),
        ({"customer_id": 2, "placed_after": NOON + timedelta(minutes=61)}, [4]),
    ],
)
def test_order_list_filters_combine(assorted_orders, filters, expected_hours, django_assert_num_queries):
    with django_assert_num_queries(1):
        rows, cursor = order_list(**filters)
    assert _ids(rows) == [assorted_orders[hour].order_id for hour in expected_hours]
    assert cursor is None


def test_order_list_after_is_inclusive_and_before_exclusive_so_ranges_tile(assorted_orders):
    split = NOON + timedelta(hours=3)
    earlier, _ = order_list(placed_before=split)
    later, _ = order_list(placed_after=split)
    assert sorted(_ids(earlier) + _ids(later)) == sorted(row.order_id for row in assorted_orders)
    assert not set(_ids(earlier)) & set(_ids(later))
