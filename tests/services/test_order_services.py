"""Order services: exact money, the status machine, line rules, concurrency and idempotency."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from events import OrderStatus, decode
from events.replay import replay_order
from orders_write import clock
from orders_write.models import IdempotencyRecord, Order, OrderLine, OutboxEvent, Product
from orders_write.services import (
    CommandResult,
    LineInput,
    customer_deactivate,
    order_cancel,
    order_confirm,
    order_deliver,
    order_discount_apply,
    order_line_add,
    order_line_remove,
    order_place,
    order_ship,
    product_reprice,
    product_retire,
)
from tests.services.helpers import advance, assert_rejected, events_of, fingerprint, last_event

pytestmark = pytest.mark.django_db

PENDING, CONFIRMED, SHIPPED, DELIVERED, CANCELLED = (
    OrderStatus.PENDING,
    OrderStatus.CONFIRMED,
    OrderStatus.SHIPPED,
    OrderStatus.DELIVERED,
    OrderStatus.CANCELLED,
)
MOMENT = datetime(2024, 3, 1, 12, 30, tzinfo=UTC)


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user(username="alice", password="x")


@pytest.fixture
def bob(django_user_model):
    return django_user_model.objects.create_user(username="bob", password="x")


def money(order_id: int) -> tuple[int, int, int, int | None, int]:
    """(subtotal, discount, total, discount_percent, item_count) as stored."""
    order = Order.objects.get(pk=order_id)
    return order.subtotal, order.discount, order.total, order.discount_percent, order.item_count


def lines_of(order_id: int) -> dict[str, tuple[str, int, int, int]]:
    """sku -> (product_name, quantity, unit_price, line_total) as stored."""
    return {
        line.sku: (line.product_name, line.quantity, line.unit_price, line.line_total)
        for line in OrderLine.objects.filter(order_id=order_id)
    }


def line_payload(sku: str, product_name: str, quantity: int, unit_price: int) -> dict:
    return {
        "sku": sku,
        "product_id": Product.objects.get(sku=sku).pk,
        "product_name": product_name,
        "quantity": quantity,
        "unit_price": unit_price,
        "line_total": quantity * unit_price,
    }


# --- placement and exact money -----------------------------------------------------------------


def test_order_place_freezes_lines_and_records_order_placed(alice, customer, make_product):
    widget, gadget = make_product(price=1250, name="Widget"), make_product(price=399, name="Gadget")
    with clock.frozen_at(MOMENT):
        result = order_place(
            customer_id=customer,
            lines=[LineInput(sku=widget, quantity=2), LineInput(sku=gadget, quantity=3)],
            actor=alice,
        )

    order = Order.objects.get(pk=result.order_id)
    assert (order.customer_id, order.status, order.currency, order.version) == (customer, PENDING, "EUR", 1)
    assert money(order.pk) == (3697, 0, 3697, None, 5)
    assert order.placed_at == order.updated_at == MOMENT
    assert (order.tracking_number, order.cancel_reason) == ("", "")
    assert lines_of(order.pk) == {widget: ("Widget", 2, 1250, 2500), gadget: ("Gadget", 3, 399, 1197)}

    event = last_event()
    assert (result.version, result.position) == (1, event.position)
    assert (event.aggregate_type, event.aggregate_id, event.aggregate_version) == ("order", order.pk, 1)
    assert (event.event_type, event.actor) == ("OrderPlaced", f"user:{alice.pk}:alice")
    assert event.payload == {
        "order_id": order.pk,
        "customer_id": customer,
        "placed_at": MOMENT.isoformat(),
        "currency": "EUR",
        "status": "PENDING",
        "subtotal": 3697,
        "discount": 0,
        "total": 3697,
        "item_count": 5,
        "customer_name": "Ada Lovelace",
        "lines": [line_payload(widget, "Widget", 2, 1250), line_payload(gadget, "Gadget", 3, 399)],
    }
    assert OutboxEvent.objects.filter(aggregate_type="order").count() == 1


@pytest.mark.parametrize("quantity", [1, 999], ids=["min-quantity", "max-quantity"])
def test_order_place_accepts_quantities_at_the_bounds(customer, make_product, quantity):
    result = order_place(
        customer_id=customer, lines=[LineInput(sku=make_product(price=100_000_000), quantity=quantity)]
    )
    assert money(result.order_id) == (quantity * 100_000_000, 0, quantity * 100_000_000, None, quantity)


def test_reprice_after_placing_does_not_change_the_order(customer, make_product):
    sku = make_product(price=1250)
    placed = order_place(customer_id=customer, lines=[LineInput(sku=sku, quantity=2)])
    before = (money(placed.order_id), lines_of(placed.order_id), Order.objects.get(pk=placed.order_id).version)

    product_reprice(sku=sku, price=9999)

    assert (money(placed.order_id), lines_of(placed.order_id), Order.objects.get(pk=placed.order_id).version) == before
    order_confirm(order_id=placed.order_id)
    assert money(placed.order_id) == (2500, 0, 2500, None, 2)
    later = order_place(customer_id=customer, lines=[LineInput(sku=sku, quantity=2)])
    assert money(later.order_id) == (19998, 0, 19998, None, 2)


def test_order_line_add_prices_the_line_when_added_and_records_order_line_added(alice, customer, make_product):
    first, second = make_product(price=1250), make_product(price=800, name="Gizmo")
    placed = order_place(customer_id=customer, lines=[LineInput(sku=first, quantity=2)])
    product_reprice(sku=second, price=875)

    result = order_line_add(order_id=placed.order_id, sku=second, quantity=4, expected_version=1, actor=alice)
    product_reprice(sku=second, price=1)

    assert money(placed.order_id) == (2500 + 3500, 0, 6000, None, 6)
    assert lines_of(placed.order_id)[second] == ("Gizmo", 4, 875, 3500)
    event = events_of("order", placed.order_id)[-1]
    assert (event.event_type, event.aggregate_version, event.position, event.actor) == (
        "OrderLineAdded",
        2,
        result.position,
        f"user:{alice.pk}:alice",
    )
    assert event.payload["line"] == line_payload(second, "Gizmo", 4, 875)
    assert (event.payload["subtotal"], event.payload["total"], event.payload["item_count"]) == (6000, 6000, 6)
    assert result.version == 2


def test_order_line_remove_drops_the_line_and_records_order_line_removed(customer, make_product):
    keep, drop = make_product(price=1250), make_product(price=399, name="Gadget")
    placed = order_place(customer_id=customer, lines=[LineInput(sku=keep, quantity=2), LineInput(sku=drop, quantity=3)])

    result = order_line_remove(order_id=placed.order_id, sku=f"  {drop} ", expected_version=1)

    assert money(placed.order_id) == (2500, 0, 2500, None, 2)
    assert set(lines_of(placed.order_id)) == {keep}
    event = last_event()
    assert (event.event_type, event.aggregate_version, result.version) == ("OrderLineRemoved", 2, 2)
    assert event.payload["line"] == line_payload(drop, "Gadget", 3, 399)
    assert (event.payload["subtotal"], event.payload["total"], event.payload["item_count"]) == (2500, 2500, 2)


@pytest.mark.parametrize(
    ("price", "quantity", "percent", "discount"),
    [
        (1070, 1, 15, 161),  # 160.5 rounds half up (banker's rounding would give 160)
        (1, 1, 50, 1),  # 0.5 -> 1
        (357, 3, 50, 536),  # 535.5 -> 536
        (1003, 1, 15, 150),  # 150.45 -> 150
        (1234, 1, 33, 407),  # 407.22 -> 407
        (1299, 1, 33, 429),  # 428.67 -> 429
        (1250, 2, 10, 250),  # exact
        (999, 1, 0, 0),
        (999, 1, 100, 999),
    ],
    ids=["160.5-up", "0.5-up", "535.5-up", "150.45-down", "407.22-down", "428.67-up", "exact", "zero", "hundred"],
)
def test_percent_discount_rounds_half_up(customer, make_product, price, quantity, percent, discount):
    placed = order_place(customer_id=customer, lines=[LineInput(sku=make_product(price=price), quantity=quantity)])
    result = order_discount_apply(order_id=placed.order_id, percent=percent, expected_version=1)

    subtotal = price * quantity
    assert money(placed.order_id) == (subtotal, discount, subtotal - discount, percent, quantity)
    event = last_event()
    assert (event.event_type, event.aggregate_version, result.version) == ("OrderDiscountApplied", 2, 2)
    assert (event.payload["percent"], event.payload["amount"]) == (percent, None)
    assert (event.payload["discount"], event.payload["total"]) == (discount, subtotal - discount)


def test_percent_discount_follows_later_line_changes(customer, make_product):
    first, second = make_product(price=1250), make_product(price=1070)
    placed = order_place(customer_id=customer, lines=[LineInput(sku=first, quantity=2)])
    order_discount_apply(order_id=placed.order_id, percent=15)
    assert money(placed.order_id) == (2500, 375, 2125, 15, 2)

    order_line_add(order_id=placed.order_id, sku=second, quantity=1)
    assert money(placed.order_id) == (3570, 536, 3034, 15, 3)  # 535.5 -> 536
    assert (last_event().payload["discount"], last_event().payload["total"]) == (536, 3034)

    order_line_remove(order_id=placed.order_id, sku=first)
    assert money(placed.order_id) == (1070, 161, 909, 15, 1)  # 160.5 -> 161
    assert (last_event().payload["discount"], last_event().payload["total"]) == (161, 909)


def test_amount_discount_stays_fixed_through_line_changes(customer, make_product):
    first, second = make_product(price=1250), make_product(price=1070)
    placed = order_place(customer_id=customer, lines=[LineInput(sku=first, quantity=2)])
    order_discount_apply(order_id=placed.order_id, amount=300)
    assert money(placed.order_id) == (2500, 300, 2200, None, 2)
    event = last_event()
    assert (event.payload["percent"], event.payload["amount"], event.payload["discount"]) == (None, 300, 300)

    order_line_add(order_id=placed.order_id, sku=second, quantity=1)
    assert money(placed.order_id) == (3570, 300, 3270, None, 3)
    order_line_remove(order_id=placed.order_id, sku=first)
    assert money(placed.order_id) == (1070, 300, 770, None, 1)


def test_a_later_discount_replaces_the_earlier_one(customer, make_product):
    placed = order_place(customer_id=customer, lines=[LineInput(sku=make_product(price=1000), quantity=1)])
    order_discount_apply(order_id=placed.order_id, percent=20)
    assert money(placed.order_id) == (1000, 200, 800, 20, 1)
    order_discount_apply(order_id=placed.order_id, amount=50)
    assert money(placed.order_id) == (1000, 50, 950, None, 1)
    order_discount_apply(order_id=placed.order_id, percent=5)
    assert money(placed.order_id) == (1000, 50, 950, 5, 1)
    order_discount_apply(order_id=placed.order_id, amount=0)
    assert money(placed.order_id) == (1000, 0, 1000, None, 1)
    assert Order.objects.get(pk=placed.order_id).version == 5


@pytest.mark.parametrize(
    "discount", [{"amount": 1000}, {"percent": 100}], ids=["amount-equal-to-subtotal", "hundred-percent"]
)
def test_a_discount_may_bring_the_total_to_zero(customer, make_product, discount):
    placed = order_place(customer_id=customer, lines=[LineInput(sku=make_product(price=500), quantity=2)])
    order_discount_apply(order_id=placed.order_id, **discount)
    assert money(placed.order_id)[:3] == (1000, 1000, 0)
    order_confirm(order_id=placed.order_id)


def test_an_amount_discount_over_the_subtotal_is_refused(customer, make_product):
    placed = order_place(customer_id=customer, lines=[LineInput(sku=make_product(price=500), quantity=2)])
    error = assert_rejected(
        lambda: order_discount_apply(order_id=placed.order_id, amount=1001),
        "invariant_violated",
        detail="amount",
        order_id=placed.order_id,
    )
    assert error.details == {"amount": ["at most 1000"]}


def test_removing_a_line_may_not_leave_the_amount_discount_above_the_subtotal(customer, make_product):
    big, small = make_product(price=1000), make_product(price=100)
    placed = order_place(customer_id=customer, lines=[LineInput(sku=big, quantity=1), LineInput(sku=small, quantity=1)])
    order_discount_apply(order_id=placed.order_id, amount=500)

    assert_rejected(
        lambda: order_line_remove(order_id=placed.order_id, sku=big),
        "invariant_violated",
        order_id=placed.order_id,
    )
    order_line_remove(order_id=placed.order_id, sku=small)
    assert money(placed.order_id) == (1000, 500, 500, None, 1)


# --- the status machine: the full matrix --------------------------------------------------------


@dataclass
class Staged:
    order_id: int
    spare_sku: str  # active, not on the order
    removable_sku: str  # on the order, not its last line


@pytest.fixture
def stage(customer, make_product) -> Callable[[OrderStatus], Staged]:
    def make(status: OrderStatus) -> Staged:
        first, second, spare = make_product(price=1000), make_product(price=500), make_product(price=300)
        placed = order_place(
            customer_id=customer, lines=[LineInput(sku=first, quantity=1), LineInput(sku=second, quantity=2)]
        )
        advance(placed.order_id, status)
        return Staged(placed.order_id, spare, second)

    return make


COMMANDS: dict[str, Callable[[Staged], CommandResult]] = {
    "add_line": lambda s: order_line_add(order_id=s.order_id, sku=s.spare_sku, quantity=1),
    "remove_line": lambda s: order_line_remove(order_id=s.order_id, sku=s.removable_sku),
    "apply_discount": lambda s: order_discount_apply(order_id=s.order_id, percent=10),
    "confirm": lambda s: order_confirm(order_id=s.order_id),
    "ship": lambda s: order_ship(order_id=s.order_id, tracking_number="1Z999"),
    "deliver": lambda s: order_deliver(order_id=s.order_id),
    "cancel": lambda s: order_cancel(order_id=s.order_id, reason="customer asked"),
}
EVENT_OF = {
    "add_line": "OrderLineAdded",
    "remove_line": "OrderLineRemoved",
    "apply_discount": "OrderDiscountApplied",
    "confirm": "OrderConfirmed",
    "ship": "OrderShipped",
    "deliver": "OrderDelivered",
    "cancel": "OrderCancelled",
}
# (status, command) -> status after; every pair not listed must be refused as invalid_transition.
LEGAL = {
    (PENDING, "add_line"): PENDING,
    (PENDING, "remove_line"): PENDING,
    (PENDING, "apply_discount"): PENDING,
    (PENDING, "confirm"): CONFIRMED,
    (PENDING, "cancel"): CANCELLED,
    (CONFIRMED, "ship"): SHIPPED,
    (CONFIRMED, "cancel"): CANCELLED,
    (SHIPPED, "deliver"): DELIVERED,
}
ALLOWED_FROM = {command: sorted(s.value for (s, c) in LEGAL if c == command) for command in COMMANDS}
MATRIX = [(status, command) for status in OrderStatus for command in COMMANDS]


@pytest.mark.parametrize(
    ("status", "command"),
    MATRIX,
    ids=[f"{s.value}-{c}-{'legal' if (s, c) in LEGAL else 'illegal'}" for s, c in MATRIX],
)
def test_transition_matrix(stage, status, command):
    staged = stage(status)
    order = Order.objects.get(pk=staged.order_id)
    assert order.status == status
    if (status, command) in LEGAL:
        result = COMMANDS[command](staged)
        after = Order.objects.get(pk=staged.order_id)
        assert after.status == LEGAL[(status, command)]
        assert after.version == result.version == order.version + 1
        event = last_event()
        assert (event.event_type, event.aggregate_version, event.position) == (
            EVENT_OF[command],
            result.version,
            result.position,
        )
        assert event.payload["status"] == after.status
    else:
        error = assert_rejected(lambda: COMMANDS[command](staged), "invalid_transition", order_id=staged.order_id)
        assert error.details == {"status": status.value, "action": command, "allowed_from": ALLOWED_FROM[command]}


def test_the_legal_transitions_are_exactly_the_documented_ones():
    # PENDING -> CONFIRMED -> SHIPPED -> DELIVERED; cancel only before SHIPPED; lines and discounts only PENDING.
    status_changes = {(s, c): after for (s, c), after in LEGAL.items() if after != s}
    assert status_changes == {
        (PENDING, "confirm"): CONFIRMED,
        (CONFIRMED, "ship"): SHIPPED,
        (SHIPPED, "deliver"): DELIVERED,
        (PENDING, "cancel"): CANCELLED,
        (CONFIRMED, "cancel"): CANCELLED,
    }
    assert {c for (s, c), after in LEGAL.items() if after == s} == {"add_line", "remove_line", "apply_discount"}
    assert {s for (s, c), after in LEGAL.items() if after == s} == {PENDING}


def test_order_ship_records_the_tracking_number(stage):
    staged = stage(CONFIRMED)
    order_ship(order_id=staged.order_id, tracking_number="  1Z 999 AA1 ")
    assert Order.objects.get(pk=staged.order_id).tracking_number == "1Z 999 AA1"
    assert last_event().payload["tracking_number"] == "1Z 999 AA1"


@pytest.mark.parametrize("status", [PENDING, CONFIRMED], ids=["from-pending", "from-confirmed"])
def test_order_cancel_records_reason_and_previous_status(stage, status):
    staged = stage(status)
    before = money(staged.order_id)
    order_cancel(order_id=staged.order_id, reason=" out of stock ")
    order = Order.objects.get(pk=staged.order_id)
    assert (order.status, order.cancel_reason) == (CANCELLED, "out of stock")
    assert money(staged.order_id) == before
    event = last_event()
    assert (event.event_type, event.payload["reason"], event.payload["previous_status"]) == (
        "OrderCancelled",
        "out of stock",
        status.value,
    )


def test_a_full_lifecycle_numbers_the_order_events_one_to_n(alice, stage):
    staged = stage(PENDING)
    order_line_add(order_id=staged.order_id, sku=staged.spare_sku, quantity=2, actor=alice)
    order_discount_apply(order_id=staged.order_id, percent=10)
    order_line_remove(order_id=staged.order_id, sku=staged.removable_sku)
    order_confirm(order_id=staged.order_id)
    order_ship(order_id=staged.order_id, tracking_number="T")
    order_deliver(order_id=staged.order_id)

    history = events_of("order", staged.order_id)
    assert [(e.aggregate_version, e.event_type) for e in history] == [
        (1, "OrderPlaced"),
        (2, "OrderLineAdded"),
        (3, "OrderDiscountApplied"),
        (4, "OrderLineRemoved"),
        (5, "OrderConfirmed"),
        (6, "OrderShipped"),
        (7, "OrderDelivered"),
    ]
    assert history[1].actor == f"user:{alice.pk}:alice"
    assert Order.objects.get(pk=staged.order_id).version == 7


def test_the_outbox_alone_reproduces_the_order(stage, make_product):
    staged = stage(PENDING)
    order_discount_apply(order_id=staged.order_id, percent=15)
    order_line_add(order_id=staged.order_id, sku=make_product(price=1070), quantity=3)
    order_line_remove(order_id=staged.order_id, sku=staged.removable_sku)
    order_confirm(order_id=staged.order_id)
    order_cancel(order_id=staged.order_id, reason="duplicate")

    history = [
        (e.aggregate_version, e.occurred_at, decode(e.event_type, e.schema_version, e.payload))
        for e in events_of("order", staged.order_id)
    ]
    state = replay_order(history)
    order = Order.objects.get(pk=staged.order_id)
    assert (state.status, state.version, state.subtotal, state.discount, state.total, state.item_count) == (
        order.status,
        order.version,
        order.subtotal,
        order.discount,
        order.total,
        order.item_count,
    )
    assert (state.discount_percent, state.cancel_reason) == (order.discount_percent, order.cancel_reason)
    assert {sku: (line.quantity, line.unit_price, line.line_total) for sku, line in state.lines.items()} == {
        sku: (quantity, unit_price, line_total)
        for sku, (_, quantity, unit_price, line_total) in lines_of(order.pk).items()
    }


# --- lines: at least one, at most 100, one per sku, known and active products -----------------


def test_removing_the_last_line_violates_an_invariant(customer, sku):
    placed = order_place(customer_id=customer, lines=[LineInput(sku=sku, quantity=1)])
    error = assert_rejected(
        lambda: order_line_remove(order_id=placed.order_id, sku=sku), "invariant_violated", order_id=placed.order_id
    )
    assert error.details == {"sku": ["last line"]}


def test_removing_a_line_the_order_does_not_have_is_not_found(stage):
    staged = stage(PENDING)
    assert_rejected(
        lambda: order_line_remove(order_id=staged.order_id, sku=staged.spare_sku),
        "not_found",
        detail="sku",
        order_id=staged.order_id,
    )


def test_adding_a_sku_already_on_the_order_violates_an_invariant(stage):
    staged = stage(PENDING)
    assert_rejected(
        lambda: order_line_add(order_id=staged.order_id, sku=staged.removable_sku, quantity=1),
        "invariant_violated",
        detail="sku",
        order_id=staged.order_id,
    )


@pytest.mark.parametrize("quantity", [1, 999], ids=["min", "max"])
def test_order_line_add_accepts_quantities_at_the_bounds(stage, quantity):
    staged = stage(PENDING)
    order_line_add(order_id=staged.order_id, sku=staged.spare_sku, quantity=quantity)
    assert lines_of(staged.order_id)[staged.spare_sku][1:] == (quantity, 300, 300 * quantity)


@pytest.mark.parametrize("quantity", [0, 1000], ids=["zero", "1000"])
def test_order_line_add_refuses_quantities_outside_1_to_999(stage, quantity):
    staged = stage(PENDING)
    assert_rejected(
        lambda: order_line_add(order_id=staged.order_id, sku=staged.spare_sku, quantity=quantity),
        "validation_error",
        detail="quantity",
        order_id=staged.order_id,
    )


def test_an_order_holds_at_most_100_lines(customer, make_product):
    skus = [make_product(price=100) for _ in range(101)]
    placed = order_place(customer_id=customer, lines=[LineInput(sku=s, quantity=1) for s in skus[:100]])
    assert money(placed.order_id) == (10_000, 0, 10_000, None, 100)

    assert_rejected(
        lambda: order_line_add(order_id=placed.order_id, sku=skus[100], quantity=1),
        "invariant_violated",
        detail="sku",
        order_id=placed.order_id,
    )
    assert_rejected(
        lambda: order_place(customer_id=customer, lines=[LineInput(sku=s, quantity=1) for s in skus]),
        "validation_error",
        detail="lines",
    )
    order_line_remove(order_id=placed.order_id, sku=skus[0])
    order_line_add(order_id=placed.order_id, sku=skus[100], quantity=1)
    assert OrderLine.objects.filter(order_id=placed.order_id).count() == 100


@pytest.mark.parametrize("problem", ["unknown", "retired"])
def test_order_place_needs_known_active_products(customer, make_product, problem):
    good, bad = make_product(), make_product()
    if problem == "retired":
        product_retire(sku=bad)
    else:
        bad = "NO-SUCH-SKU"
    error = assert_rejected(
        lambda: order_place(
            customer_id=customer, lines=[LineInput(sku=good, quantity=1), LineInput(sku=bad, quantity=1)]
        ),
        "invariant_violated",
    )
    assert error.details == {"lines[1].sku": ["unknown product" if problem == "unknown" else "product is retired"]}


def test_order_place_with_no_known_product_names_each_line_not_the_customer(customer, make_product):
    retired = make_product()
    product_retire(sku=retired)
    error = assert_rejected(
        lambda: order_place(customer_id=customer, lines=[LineInput("NO-SUCH-SKU", 1), LineInput(retired, 2)]),
        "invariant_violated",
    )
    assert error.details == {"lines[0].sku": ["unknown product"], "lines[1].sku": ["product is retired"]}


def test_order_place_for_an_unknown_customer_with_unknown_products_names_the_customer(customer):
    error = assert_rejected(
        lambda: order_place(customer_id=customer + 10_000, lines=[LineInput("NO-SUCH-SKU", 1)]), "invariant_violated"
    )
    assert error.details == {"customer_id": ["unknown customer"]}


@pytest.mark.parametrize("problem", ["unknown", "retired"])
def test_order_line_add_needs_a_known_active_product(stage, problem):
    staged = stage(PENDING)
    sku = staged.spare_sku
    if problem == "retired":
        product_retire(sku=sku)
    else:
        sku = "NO-SUCH-SKU"
    error = assert_rejected(
        lambda: order_line_add(order_id=staged.order_id, sku=sku, quantity=1),
        "invariant_violated",
        order_id=staged.order_id,
    )
    assert error.details == {"sku": ["unknown product" if problem == "unknown" else "product is retired"]}


@pytest.mark.parametrize("problem", ["unknown", "deactivated"])
def test_order_place_needs_a_known_active_customer(make_customer, sku, problem):
    customer_id = make_customer()
    if problem == "deactivated":
        customer_deactivate(customer_id=customer_id)
    else:
        customer_id += 10_000
    error = assert_rejected(
        lambda: order_place(customer_id=customer_id, lines=[LineInput(sku=sku, quantity=1)]), "invariant_violated"
    )
    assert error.details == {"customer_id": ["unknown customer" if problem == "unknown" else "inactive customer"]}


# --- optimistic concurrency --------------------------------------------------------------------

# command -> a status it is legal in (the fixture below moves the order past version 1 there)
VERSIONED = {
    "add_line": PENDING,
    "remove_line": PENDING,
    "apply_discount": PENDING,
    "confirm": PENDING,
    "ship": CONFIRMED,
    "deliver": SHIPPED,
    "cancel": CONFIRMED,
}


def _with_expected_version(command: str, staged: Staged, expected_version: int) -> CommandResult:
    calls = {
        "add_line": lambda: order_line_add(
            order_id=staged.order_id, sku=staged.spare_sku, quantity=1, expected_version=expected_version
        ),
        "remove_line": lambda: order_line_remove(
            order_id=staged.order_id, sku=staged.removable_sku, expected_version=expected_version
        ),
        "apply_discount": lambda: order_discount_apply(
            order_id=staged.order_id, amount=10, expected_version=expected_version
        ),
        "confirm": lambda: order_confirm(order_id=staged.order_id, expected_version=expected_version),
        "ship": lambda: order_ship(order_id=staged.order_id, tracking_number="T", expected_version=expected_version),
        "deliver": lambda: order_deliver(order_id=staged.order_id, expected_version=expected_version),
        "cancel": lambda: order_cancel(order_id=staged.order_id, reason="r", expected_version=expected_version),
    }
    return calls[command]()


@pytest.fixture
def staged_at_a_later_version(stage):
    def make(command: str) -> tuple[Staged, int]:
        status = VERSIONED[command]
        staged = stage(status)
        if status == PENDING:
            order_discount_apply(order_id=staged.order_id, percent=0)
        version = Order.objects.get(pk=staged.order_id).version
        assert version >= 2
        return staged, version

    return make


@pytest.mark.parametrize("command", list(VERSIONED))
@pytest.mark.parametrize("offset", [-1, +1], ids=["stale", "ahead"])
def test_a_wrong_expected_version_is_a_conflict(staged_at_a_later_version, command, offset):
    staged, current = staged_at_a_later_version(command)
    error = assert_rejected(
        lambda: _with_expected_version(command, staged, current + offset), "version_conflict", order_id=staged.order_id
    )
    assert error.details == {"expected_version": current + offset, "current_version": current}
    assert error.current_version == current


@pytest.mark.parametrize("command", list(VERSIONED))
def test_the_current_expected_version_is_accepted(staged_at_a_later_version, command):
    staged, current = staged_at_a_later_version(command)
    result = _with_expected_version(command, staged, current)
    assert result.version == current + 1 == Order.objects.get(pk=staged.order_id).version


def test_two_writers_from_the_same_version_one_wins_one_conflicts(stage):
    staged = stage(PENDING)
    seen = Order.objects.get(pk=staged.order_id).version
    order_discount_apply(order_id=staged.order_id, percent=10, expected_version=seen)
    error = assert_rejected(
        lambda: order_confirm(order_id=staged.order_id, expected_version=seen),
        "version_conflict",
        order_id=staged.order_id,
    )
    assert error.current_version == seen + 1
    assert Order.objects.get(pk=staged.order_id).status == PENDING


# --- idempotent placement ----------------------------------------------------------------------


def test_the_same_key_and_request_returns_the_same_result_and_places_one_order(alice, customer, sku):
    lines = [LineInput(sku=sku, quantity=2)]
    first = order_place(customer_id=customer, lines=lines, actor=alice, idempotency_key="key-1")
    before_retry = fingerprint(order_id=first.order_id)

    again = order_place(customer_id=customer, lines=list(lines), actor=alice, idempotency_key="key-1")

    assert again == first
    assert fingerprint(order_id=first.order_id) == before_retry
    assert Order.objects.filter(customer_id=customer).count() == 1
    assert OutboxEvent.objects.filter(event_type="OrderPlaced").count() == 1
    record = IdempotencyRecord.objects.get()
    assert (record.scope, record.key, record.order_id, record.version, record.position) == (
        f"user:{alice.pk}",
        "key-1",
        first.order_id,
        1,
        first.position,
    )


def test_a_retry_returns_the_first_result_even_after_the_order_moved_on(customer, sku):
    first = order_place(customer_id=customer, lines=[LineInput(sku=sku, quantity=1)], idempotency_key="k")
    order_confirm(order_id=first.order_id)
    assert order_place(customer_id=customer, lines=[LineInput(sku=sku, quantity=1)], idempotency_key="k") == first


@pytest.mark.parametrize(
    "change", ["quantity", "sku", "extra-line", "customer", "line-order"], ids=lambda c: f"different-{c}"
)
def test_the_same_key_for_a_different_request_is_refused(make_customer, make_product, change):
    customer, other_customer = make_customer(), make_customer()
    a, b, c = make_product(), make_product(), make_product()
    first = order_place(
        customer_id=customer, lines=[LineInput(sku=a, quantity=1), LineInput(sku=b, quantity=1)], idempotency_key="k"
    )
    request = {
        "quantity": (customer, [(a, 2), (b, 1)]),
        "sku": (customer, [(a, 1), (c, 1)]),
        "extra-line": (customer, [(a, 1), (b, 1), (c, 1)]),
        "customer": (other_customer, [(a, 1), (b, 1)]),
        "line-order": (customer, [(b, 1), (a, 1)]),
    }[change]
    customer_id, lines = request[0], [LineInput(sku=sku, quantity=quantity) for sku, quantity in request[1]]
    error = assert_rejected(
        lambda: order_place(customer_id=customer_id, lines=lines, idempotency_key="k"), "idempotency_key_reused"
    )
    assert error.details == {"idempotency_key": "k", "order_id": first.order_id}


def test_idempotency_keys_are_scoped_per_actor(alice, bob, customer, sku):
    lines = [LineInput(sku=sku, quantity=1)]
    by_alice = order_place(customer_id=customer, lines=lines, actor=alice, idempotency_key="shared")
    by_bob = order_place(customer_id=customer, lines=lines, actor=bob, idempotency_key="shared")
    by_system = order_place(customer_id=customer, lines=lines, actor=None, idempotency_key="shared")

    assert len({by_alice.order_id, by_bob.order_id, by_system.order_id}) == 3
    assert order_place(customer_id=customer, lines=lines, actor=bob, idempotency_key="shared") == by_bob
    assert order_place(customer_id=customer, lines=lines, actor=alice, idempotency_key="shared") == by_alice
    assert IdempotencyRecord.objects.count() == 3
    # bob reusing his key for another request is refused, whatever alice did with hers
    assert_rejected(
        lambda: order_place(
            customer_id=customer, lines=[LineInput(sku=sku, quantity=5)], actor=bob, idempotency_key="shared"
        ),
        "idempotency_key_reused",
    )


def test_without_a_key_every_call_places_a_new_order(customer, sku):
    lines = [LineInput(sku=sku, quantity=1)]
    first = order_place(customer_id=customer, lines=lines)
    second = order_place(customer_id=customer, lines=lines)
    assert first.order_id != second.order_id
    assert IdempotencyRecord.objects.count() == 0


@pytest.mark.parametrize(
    ("stored", "retried"),
    [("key-1", "  key-1 "), ("k" * 255, "k" * 255 + " "), ("k" * 255, "k" * 255 + "\n")],
    ids=["padded", "255-chars-plus-space", "255-chars-plus-newline"],
)
def test_a_key_is_compared_after_trimming_surrounding_whitespace(customer, sku, stored, retried):
    lines = [LineInput(sku=sku, quantity=1)]
    first = order_place(customer_id=customer, lines=lines, idempotency_key=retried)
    assert order_place(customer_id=customer, lines=lines, idempotency_key=retried) == first
    assert order_place(customer_id=customer, lines=lines, idempotency_key=stored) == first
    assert IdempotencyRecord.objects.get().key == stored
