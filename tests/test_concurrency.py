"""Property 3 under real contention: many threads, each on its own PostgreSQL connection,
issue conflicting commands on one order at the same instant.
"""

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from orders_write.errors import DomainError
from orders_write.models import Order, OrderLine, OutboxEvent
from orders_write.services import (
    order_cancel,
    order_confirm,
    order_deliver,
    order_discount_apply,
    order_line_add,
    order_ship,
)
from tests.transitions import LEGAL_FROM, STATUS_AFTER

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 24


def run_at_once(commands: list[tuple[str, Callable[[], Any]]]) -> list[tuple[str, Any]]:
    """Run each command in its own thread, released together; return (name, result or error)."""
    barrier = threading.Barrier(len(commands))
    outcomes: list[tuple[str, Any]] = [("", None)] * len(commands)

    def work(index: int, name: str, call: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            outcomes[index] = (name, call())
        except DomainError as error:
            outcomes[index] = (name, error)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i, *command)) for i, command in enumerate(commands)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a command hung"
    return outcomes


def outbox_versions(order_id: int) -> list[int]:
    return list(
        OutboxEvent.objects.filter(aggregate_type="order", aggregate_id=order_id)
        .order_by("aggregate_version")
        .values_list("aggregate_version", flat=True)
    )


def test_stale_versions_lose_and_exactly_one_command_wins(make_order, make_product):
    order_id = make_order((1000, 2), (500, 1)).order_id
    skus = [make_product(price=100 * (i + 1)) for i in range(THREADS)]
    commands = []
    for i in range(THREADS):
        kind = i % 4
        if kind == 0:
            commands.append(("confirm", lambda: order_confirm(order_id=order_id, expected_version=1)))
        elif kind == 1:
            commands.append(("cancel", lambda: order_cancel(order_id=order_id, reason="race", expected_version=1)))
        elif kind == 2:
            commands.append(
                ("discount", lambda: order_discount_apply(order_id=order_id, percent=10, expected_version=1))
            )
        else:
            commands.append(
                ("add_line", lambda s=skus[i]: order_line_add(order_id=order_id, sku=s, quantity=1, expected_version=1))
            )

    outcomes = run_at_once(commands)

    winners = [(name, result) for name, result in outcomes if not isinstance(result, Exception)]
    losers = [result for _, result in outcomes if isinstance(result, Exception)]
    assert len(winners) == 1
    assert winners[0][1].version == 2
    assert len(losers) == THREADS - 1
    assert {error.code for error in losers} == {"version_conflict"}
    assert {error.details["current_version"] for error in losers} == {2}
    assert outbox_versions(order_id) == [1, 2]
    assert Order.objects.get(pk=order_id).version == 2


def test_commands_without_expected_version_serialise_with_no_lost_update(make_order, make_product):
    order_id = make_order((1000, 1)).order_id
    prices = [100 + 37 * i for i in range(THREADS)]
    skus = [make_product(price=price) for price in prices]
    commands = [
        ("add_line", lambda s=sku, q=(i % 3) + 1: order_line_add(order_id=order_id, sku=s, quantity=q))
        for i, sku in enumerate(skus)
    ]

    outcomes = run_at_once(commands)

    assert not [result for _, result in outcomes if isinstance(result, Exception)]
    assert sorted(result.version for _, result in outcomes) == list(range(2, THREADS + 2))
    order = Order.objects.get(pk=order_id)
    expected_subtotal = 1000 + sum(price * ((i % 3) + 1) for i, price in enumerate(prices))
    assert OrderLine.objects.filter(order_id=order_id).count() == THREADS + 1
    assert (order.subtotal, order.total, order.version) == (expected_subtotal, expected_subtotal, THREADS + 1)
    assert outbox_versions(order_id) == list(range(1, THREADS + 2))


def test_racing_transitions_follow_one_legal_serial_history(make_order):
    order_id = make_order((1000, 1)).order_id
    plan = ["confirm"] * 8 + ["cancel"] * 6 + ["ship"] * 6 + ["deliver"] * 4
    calls = {
        "confirm": lambda: order_confirm(order_id=order_id),
        "cancel": lambda: order_cancel(order_id=order_id, reason="race"),
        "ship": lambda: order_ship(order_id=order_id, tracking_number="TRACK-1"),
        "deliver": lambda: order_deliver(order_id=order_id),
    }

    outcomes = run_at_once([(name, calls[name]) for name in plan])

    failures = Counter(result.code for _, result in outcomes if isinstance(result, Exception))
    assert set(failures) <= {"invalid_transition"}
    history = sorted(
        ((result.version, name) for name, result in outcomes if not isinstance(result, Exception)),
    )
    assert [version for version, _ in history] == list(range(2, len(history) + 2))
    status = "PENDING"
    for _, name in history:
        assert status in LEGAL_FROM[name], f"{name} succeeded from {status}"
        status = STATUS_AFTER[name]
    order = Order.objects.get(pk=order_id)
    assert order.status == status
    assert outbox_versions(order_id) == list(range(1, order.version + 1))
    assert len(history) + sum(failures.values()) == len(plan)
