"""Convergence (property 7): random commands, drained in random batch sizes, always verify clean."""

import contextlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orders_write.errors import DomainError
from orders_write.services import (
    LineInput,
    customer_rename,
    order_cancel,
    order_confirm,
    order_deliver,
    order_discount_apply,
    order_line_add,
    order_line_remove,
    order_place,
    order_ship,
    product_reprice,
)
from projections.runtime.loop import drain_all
from projections.runtime.registry import projections
from projections.runtime.verify import verify

SKUS = [f"CONV-{i}" for i in range(5)]

command = st.one_of(
    st.tuples(st.just("place"), st.lists(st.sampled_from(SKUS), min_size=1, max_size=3, unique=True)),
    st.tuples(st.just("add"), st.integers(0, 9), st.sampled_from(SKUS), st.integers(1, 4)),
    st.tuples(st.just("remove"), st.integers(0, 9), st.sampled_from(SKUS)),
    st.tuples(st.just("discount"), st.integers(0, 9), st.integers(0, 100)),
    st.tuples(st.just("advance"), st.integers(0, 9), st.sampled_from(["confirm", "ship", "deliver", "cancel"])),
    st.tuples(st.just("rename"), st.sampled_from(["Ada", "Grace", "Edsger"])),
    st.tuples(st.just("reprice"), st.sampled_from(SKUS), st.integers(1, 5000)),
    st.tuples(st.just("drain"), st.integers(1, 12)),
)


def run(step, customer: int, orders: list[int]) -> None:
    kind, *args = step
    if kind == "place":
        orders.append(order_place(customer_id=customer, lines=[LineInput(sku, 1) for sku in args[0]]).order_id)
        return
    if kind == "rename":
        customer_rename(customer_id=customer, name=args[0])
    elif kind == "reprice":
        product_reprice(sku=args[0], price=args[1])
    elif kind == "drain":
        drain_all(batch_size=args[0])
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


def test_random_commands_drained_in_random_batches_converge(customer, make_product):
    for sku in SKUS:
        make_product(sku=sku, price=250)

    @settings(
        max_examples=25,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(steps=st.lists(command, min_size=1, max_size=25), final_batch=st.integers(1, 50))
    def check(steps, final_batch):
        orders: list[int] = []
        for step in steps:
            with contextlib.suppress(DomainError):  # illegal commands are part of the mix
                run(step, customer, orders)
        drain_all(batch_size=final_batch)
        assert {name: verify(name) for name in projections()} == {name: [] for name in projections()}

    check()
