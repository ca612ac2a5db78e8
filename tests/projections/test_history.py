"""An order's history from the outbox, and the order as it was at any moment."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orders_write.clock import frozen_at
from orders_write.models import Order
from orders_write.outbox import correlated
from orders_write.services import (
    LineInput,
    order_confirm,
    order_discount_apply,
    order_line_add,
    order_line_remove,
    order_place,
)
from projections.history import order_as_of, order_history

pytestmark = pytest.mark.django_db(transaction=True)

T0 = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
T1, T2, T3, T4 = (T0 + timedelta(hours=hours) for hours in (1, 2, 3, 4))


@pytest.fixture
def order(customer, make_product) -> dict:
    """An order placed at T0, changed at T1 (line added), T2 (line removed), T3 (discount), T4 (confirmed)."""
    teapot, cup, saucer = (
        make_product(price=1000, name="Teapot", sku="A-TEAPOT"),
        make_product(price=250, name="Cup", sku="B-CUP"),
        make_product(price=100, name="Saucer", sku="C-SAUCER"),
    )
    placement = uuid.uuid4()
    with frozen_at(T0), correlated(placement):
        order_id = order_place(customer_id=customer, lines=[LineInput(teapot, 1), LineInput(cup, 2)]).order_id
    with frozen_at(T1):
        order_line_add(order_id=order_id, sku=saucer, quantity=3)
    with frozen_at(T2):
        order_line_remove(order_id=order_id, sku=cup)
    with frozen_at(T3):
        order_discount_apply(order_id=order_id, percent=10)
    with frozen_at(T4):
        order_confirm(order_id=order_id)
    return {"order_id": order_id, "customer_id": customer, "placement": str(placement)}


def test_history_lists_every_event_in_version_order(order):
    history = order_history(order_id=order["order_id"])

    assert [(event["version"], event["event_type"], event["occurred_at"]) for event in history] == [
        (1, "OrderPlaced", T0),
        (2, "OrderLineAdded", T1),
        (3, "OrderLineRemoved", T2),
        (4, "OrderDiscountApplied", T3),
        (5, "OrderConfirmed", T4),
    ]
    positions = [event["position"] for event in history]
    assert positions == sorted(positions) and len(set(positions)) == 5
    assert {event["actor"] for event in history} == {"system"}
    assert history[0]["correlation_id"] == order["placement"]
    assert set(history[0]) == {"position", "version", "event_type", "occurred_at", "actor", "correlation_id", "payload"}
    placed = history[0]["payload"]
    assert placed["order_id"] == order["order_id"] and placed["placed_at"] == T0.isoformat()
    assert [(line["sku"], line["quantity"]) for line in placed["lines"]] == [("A-TEAPOT", 1), ("B-CUP", 2)]
    assert history[3]["payload"]["percent"] == 10 and history[3]["payload"]["discount"] == 130
    assert history[4]["payload"]["status"] == "CONFIRMED"


def test_an_unknown_order_has_no_history_and_no_state():
    assert order_history(order_id=999_999) == []
    assert order_as_of(order_id=999_999, at=T4) is None


def test_before_placement_the_order_did_not_exist(order):
    assert order_as_of(order_id=order["order_id"], at=T0 - timedelta(microseconds=1)) is None


def test_between_changes_the_order_reads_as_it_was_then(order):
    at_placement = order_as_of(order_id=order["order_id"], at=T0)
    assert at_placement == {
        "order_id": order["order_id"],
        "customer_id": order["customer_id"],
        "customer_name": "Ada Lovelace",
        "status": "PENDING",
        "currency": at_placement["currency"],
        "subtotal": 1500,
        "discount": 0,
        "total": 1500,
        "item_count": 3,
        "version": 1,
        "placed_at": T0,
        "updated_at": T0,
        "lines": [
            {"sku": "A-TEAPOT", "product_name": "Teapot", "quantity": 1, "unit_price": 1000, "line_total": 1000},
            {"sku": "B-CUP", "product_name": "Cup", "quantity": 2, "unit_price": 250, "line_total": 500},
        ],
    }

    after_add = order_as_of(order_id=order["order_id"], at=T2 - timedelta(minutes=1))
    assert [line["sku"] for line in after_add["lines"]] == ["A-TEAPOT", "B-CUP", "C-SAUCER"]
    assert (after_add["version"], after_add["total"], after_add["item_count"]) == (2, 1800, 6)
    assert after_add["updated_at"] == T1

    discounted = order_as_of(order_id=order["order_id"], at=T3)
    assert [line["sku"] for line in discounted["lines"]] == ["A-TEAPOT", "C-SAUCER"]
    assert (discounted["status"], discounted["subtotal"], discounted["discount"], discounted["total"]) == (
        "PENDING",
        1300,
        130,
        1170,
    )


def test_after_the_last_change_the_order_equals_the_current_one(order):
    state = order_as_of(order_id=order["order_id"], at=datetime.now(UTC))
    current = Order.objects.select_related("customer").get(pk=order["order_id"])

    assert state == {
        "order_id": current.pk,
        "customer_id": current.customer_id,
        "customer_name": current.customer.name,
        "status": current.status,
        "currency": current.currency,
        "subtotal": current.subtotal,
        "discount": current.discount,
        "total": current.total,
        "item_count": current.item_count,
        "version": current.version,
        "placed_at": current.placed_at,
        "updated_at": current.updated_at,
        "lines": [
            {
                "sku": line.sku,
                "product_name": line.product_name,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "line_total": line.line_total,
            }
            for line in current.lines.order_by("sku")
        ],
    }
    assert state["status"] == "CONFIRMED" and state["version"] == 5


def test_a_naive_time_is_refused(order):
    with pytest.raises(ValueError, match="aware"):
        order_as_of(order_id=order["order_id"], at=datetime(2024, 3, 1, 12, 0))


def test_each_answer_costs_one_query(order):
    with CaptureQueriesContext(connection) as queries:
        order_history(order_id=order["order_id"])
        order_as_of(order_id=order["order_id"], at=T2)
    assert len(queries) == 2, [query["sql"][:80] for query in queries]
