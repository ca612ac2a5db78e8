"""verify_projections: clean after a drain; any tampering with a read table is reported."""

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from orders_write.services import (
    LineInput,
    customer_rename,
    order_cancel,
    order_discount_apply,
    order_line_add,
    order_place,
)
from projections.runtime.loop import drain
from projections.runtime.verify import verify


@pytest.fixture
def some_orders(customer, make_product):
    skus = [make_product(price=100 * (i + 1)) for i in range(4)]
    ids = [order_place(customer_id=customer, lines=[LineInput(sku=sku, quantity=2)]).order_id for sku in skus]
    order_line_add(order_id=ids[0], sku=skus[1], quantity=3)
    order_discount_apply(order_id=ids[0], percent=15)
    order_cancel(order_id=ids[1], reason="changed mind")
    customer_rename(customer_id=customer, name="Ada Byron")
    drain("order_views")
    return ids


def snapshot() -> list:
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM order_summary ORDER BY order_id")
        summaries = cursor.fetchall()
        cursor.execute("SELECT * FROM order_line_view ORDER BY order_id, sku")
        return [summaries, cursor.fetchall()]


def test_drained_tables_verify_clean(some_orders, capsys):
    assert verify("order_views") == []
    call_command("verify_projections")
    assert "order_views: ok" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("tampering", "expected"),
    [
        ("UPDATE order_summary SET total = total + 1 WHERE order_id = {order}", "differs from the write side"),
        ("DELETE FROM order_line_view WHERE order_id = {order}", "order_line_view: 0 row(s) not in a rebuild"),
        ("UPDATE order_summary SET customer_name = 'Ada Lovelace'", "order_summary: 4 row(s) not in a rebuild"),
    ],
    ids=["wrong-total", "lost-lines", "stale-name"],
)
def test_tampered_tables_are_reported_and_left_as_they_were(some_orders, tampering, expected):
    with connection.cursor() as cursor:
        cursor.execute(tampering.format(order=some_orders[0]))
    before = snapshot()
    differences = verify("order_views")
    assert any(expected in line for line in differences), differences
    assert snapshot() == before, "verify must roll its rebuild back"
    with pytest.raises(CommandError, match="read tables differ"):
        call_command("verify_projections", "--no-drain")


def test_sales_tables_are_checked_against_the_orders(some_orders):
    drain("sales")
    assert verify("sales") == []
    with connection.cursor() as cursor:
        cursor.execute("UPDATE daily_sales SET revenue = revenue + 1")
        cursor.execute("UPDATE customer_stats SET lifetime_value = lifetime_value - 5")
    differences = verify("sales")
    assert any("daily_sales:" in line and "the orders say" in line for line in differences), differences
    assert any("customer_stats:" in line and "the orders say" in line for line in differences), differences
