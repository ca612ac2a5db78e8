"""Property-based: random command sequences against one order, checked after every step.

A small reference model predicts each command's outcome (success, or which error code);
after every step the stored order must match it, satisfy every invariant, have outbox
versions 1..n, and equal the state replayed from its own events.
"""

from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from events import decode
from events.replay import replay_order
from orders_write.errors import DomainError
from orders_write.models import Order, OrderLine, OutboxEvent
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
    product_reprice,
    product_retire,
)
from tests.transitions import LEGAL_FROM, STATUS_AFTER

ACTIVE = ["P-A", "P-B", "P-C", "P-D", "P-E"]
RETIRED = "P-OLD"


@dataclass
class Reference:
    """What the order should be, computed independently of the services."""

    prices: dict[str, int]
    status: str = "PENDING"
    version: int = 1
    lines: dict[str, tuple[int, int]] = field(default_factory=dict)  # sku -> (quantity, unit price)
    percent: int | None = None
    amount: int = 0

    @property
    def subtotal(self) -> int:
        return sum(quantity * price for quantity, price in self.lines.values())

    def discount_for(self, subtotal: int) -> int:
        return (subtotal * self.percent + 50) // 100 if self.percent is not None else self.amount


class OrderMachine(RuleBasedStateMachine):
    customer_id: int
    prices: dict[str, int]

    @initialize(
        first=st.lists(st.sampled_from(ACTIVE), min_size=1, max_size=3, unique=True),
        quantity=st.integers(1, 5),
    )
    def place(self, first, quantity):
        self.ref = Reference(prices=self.prices)
        result = order_place(
            customer_id=self.customer_id, lines=[LineInput(sku=sku, quantity=quantity) for sku in first]
        )
        self.order_id = result.order_id
        self.ref.lines = {sku: (quantity, self.prices[sku]) for sku in first}

    def attempt(self, call, expected_error: str | None):
        """Run a command and check it failed with ``expected_error`` or succeeded when None."""
        try:
            result = call()
        except DomainError as error:
            assert error.code == expected_error, f"got {error.code}: {error.message}; expected {expected_error}"
            return False
        assert expected_error is None, f"succeeded; expected {expected_error}"
        self.ref.version += 1
        assert result.version == self.ref.version
        return True

    @rule(sku=st.sampled_from([*ACTIVE, RETIRED]), quantity=st.integers(-2, 1002))
    def add_line(self, sku, quantity):
        ref = self.ref
        if not 1 <= quantity <= 999:
            expected = "validation_error"
        elif ref.status != "PENDING":
            expected = "invalid_transition"
        elif sku == RETIRED or sku in ref.lines:
            expected = "invariant_violated"
        else:
            expected = None
        if self.attempt(lambda: order_line_add(order_id=self.order_id, sku=sku, quantity=quantity), expected):
            ref.lines[sku] = (quantity, self.prices[sku])

    @rule(sku=st.sampled_from(ACTIVE))
    def remove_line(self, sku):
        ref = self.ref
        remaining = {s: line for s, line in ref.lines.items() if s != sku}
        remaining_subtotal = sum(q * p for q, p in remaining.values())
        if ref.status != "PENDING":
            expected = "invalid_transition"
        elif sku not in ref.lines:
            expected = "not_found"
        elif not remaining or ref.discount_for(remaining_subtotal) > remaining_subtotal:
            expected = "invariant_violated"
        else:
            expected = None
        if self.attempt(lambda: order_line_remove(order_id=self.order_id, sku=sku), expected):
            ref.lines = remaining

    @rule(percent=st.integers(-5, 110))
    def discount_percent(self, percent):
        ref = self.ref
        expected = (
            "validation_error" if not 0 <= percent <= 100 else None if ref.status == "PENDING" else "invalid_transition"
        )
        if self.attempt(lambda: order_discount_apply(order_id=self.order_id, percent=percent), expected):
            ref.percent, ref.amount = percent, 0

    @rule(amount=st.integers(-10, 60_000))
    def discount_amount(self, amount):
        ref = self.ref
        if amount < 0:
            expected = "validation_error"
        elif ref.status != "PENDING":
            expected = "invalid_transition"
        elif amount > ref.subtotal:
            expected = "invariant_violated"
        else:
            expected = None
        if self.attempt(lambda: order_discount_apply(order_id=self.order_id, amount=amount), expected):
            ref.percent, ref.amount = None, amount

    @rule(action=st.sampled_from(sorted(LEGAL_FROM)))
    def transition(self, action):
        calls = {
            "confirm": lambda: order_confirm(order_id=self.order_id),
            "ship": lambda: order_ship(order_id=self.order_id, tracking_number="1Z999"),
            "deliver": lambda: order_deliver(order_id=self.order_id),
            "cancel": lambda: order_cancel(order_id=self.order_id, reason="customer asked"),
        }
        expected = None if self.ref.status in LEGAL_FROM[action] else "invalid_transition"
        if self.attempt(calls[action], expected):
            self.ref.status = STATUS_AFTER[action]

    @rule(offset=st.sampled_from([-1, 1, 5]))
    def stale_version(self, offset):
        stale = self.ref.version + offset
        if stale < 1:
            return
        self.attempt(lambda: order_confirm(order_id=self.order_id, expected_version=stale), "version_conflict")

    @rule(sku=st.sampled_from(ACTIVE), price=st.integers(1, 20_000))
    def reprice(self, sku, price):
        """Catalogue changes affect only lines added later: prices are frozen on lines."""
        product_reprice(sku=sku, price=price)
        self.prices[sku] = price

    @invariant()
    def order_matches_reference_and_invariants(self):
        order = Order.objects.get(pk=self.order_id)
        lines = {line.sku: line for line in OrderLine.objects.filter(order=order)}
        ref = self.ref
        assert {sku: (line.quantity, line.unit_price) for sku, line in lines.items()} == ref.lines
        assert (order.status, order.version) == (ref.status, ref.version)
        discount = ref.discount_for(ref.subtotal)
        assert (order.subtotal, order.discount, order.total) == (ref.subtotal, discount, ref.subtotal - discount)
        assert len(lines) >= 1
        assert all(
            1 <= line.quantity <= 999 and line.line_total == line.quantity * line.unit_price for line in lines.values()
        )
        assert order.total == sum(line.line_total for line in lines.values()) - order.discount >= 0
        assert order.item_count == sum(line.quantity for line in lines.values())

    @invariant()
    def replaying_the_log_reproduces_the_order(self):
        order = Order.objects.get(pk=self.order_id)
        rows = OutboxEvent.objects.filter(aggregate_type="order", aggregate_id=self.order_id).order_by("position")
        history = [
            (row.aggregate_version, row.occurred_at, decode(row.event_type, row.schema_version, row.payload))
            for row in rows
        ]
        assert [version for version, _, _ in history] == list(range(1, order.version + 1))
        state = replay_order(history)
        lines = {line.sku: (line.quantity, line.unit_price) for line in OrderLine.objects.filter(order=order)}
        assert {sku: (line.quantity, line.unit_price) for sku, line in state.lines.items()} == lines
        assert (state.status, state.version, state.subtotal, state.discount, state.total, state.item_count) == (
            order.status,
            order.version,
            order.subtotal,
            order.discount,
            order.total,
            order.item_count,
        )
        assert (state.discount_percent, state.tracking_number, state.cancel_reason) == (
            order.discount_percent,
            order.tracking_number,
            order.cancel_reason,
        )
        assert state.updated_at == order.updated_at


@pytest.mark.django_db
def test_random_command_sequences_keep_every_invariant(customer, make_product):
    prices = {sku: 250 * (index + 1) + 99 for index, sku in enumerate(ACTIVE)}
    for sku, price in prices.items():
        make_product(sku=sku, price=price)
    make_product(sku=RETIRED, price=999)
    product_retire(sku=RETIRED)
    OrderMachine.customer_id = customer
    OrderMachine.prices = prices
    run_state_machine_as_test(
        OrderMachine,
        settings=settings(
            max_examples=60,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
