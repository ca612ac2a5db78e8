"""Property 1: a command's state change and its outbox event commit together or not at all.

Failures are injected by the real database (PL/pgSQL triggers), immediately or deferred to
COMMIT, after the other half of the command has already been written in the transaction.
Tests use real transactions (``transaction=True``) so commit and rollback really happen.
"""

from contextlib import contextmanager

import pytest
from django.db import DatabaseError, connection
from django.test import override_settings

from orders_write.models import Order, OrderLine, OutboxEvent
from orders_write.services import LineInput, order_confirm, order_place

pytestmark = pytest.mark.django_db(transaction=True)

NUDGES: list[str] = []


def record_nudge() -> None:
    NUDGES.append("nudged")


@contextmanager
def failing_trigger(table: str, operation: str, *, at_commit: bool):
    """Make every ``operation`` on ``table`` fail, immediately or when the transaction commits."""
    timing = "DEFERRABLE INITIALLY DEFERRED" if at_commit else ""
    kind = "CONSTRAINT TRIGGER" if at_commit else "TRIGGER"
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION test_fail() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'injected failure on %', TG_TABLE_NAME; END $$"
        )
        cursor.execute(
            f"CREATE {kind} test_fail AFTER {operation} ON {table} {timing} FOR EACH ROW EXECUTE FUNCTION test_fail()"
        )
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TRIGGER test_fail ON {table}")
            cursor.execute("DROP FUNCTION test_fail()")


def _place(customer: int, sku: str):
    return order_place(customer_id=customer, lines=[LineInput(sku=sku, quantity=2)])


@pytest.mark.parametrize("at_commit", [False, True], ids=["immediately", "at-commit"])
def test_failed_outbox_insert_leaves_no_order(customer, sku, at_commit):
    events_before = OutboxEvent.objects.count()
    with failing_trigger("outbox_event", "INSERT", at_commit=at_commit), pytest.raises(DatabaseError, match="injected"):
        _place(customer, sku)
    assert Order.objects.count() == 0
    assert OrderLine.objects.count() == 0
    assert OutboxEvent.objects.count() == events_before


@pytest.mark.parametrize("at_commit", [False, True], ids=["immediately", "at-commit"])
def test_failed_outbox_insert_leaves_order_unchanged(customer, sku, at_commit):
    placed = _place(customer, sku)
    with failing_trigger("outbox_event", "INSERT", at_commit=at_commit), pytest.raises(DatabaseError, match="injected"):
        order_confirm(order_id=placed.order_id)
    order = Order.objects.get(pk=placed.order_id)
    assert (order.status, order.version) == ("PENDING", 1)
    assert list(OutboxEvent.objects.filter(aggregate_type="order").values_list("event_type", flat=True)) == [
        "OrderPlaced"
    ]


@pytest.mark.parametrize("at_commit", [False, True], ids=["immediately", "at-commit"])
def test_failed_state_write_leaves_no_event(customer, sku, at_commit):
    """At commit, the outbox row is already written: it must vanish with the failed update."""
    placed = _place(customer, sku)
    last_position = OutboxEvent.objects.latest("position").position
    with failing_trigger("orders_write_order", "UPDATE", at_commit=at_commit), pytest.raises(DatabaseError):
        order_confirm(order_id=placed.order_id)
    assert OutboxEvent.objects.filter(position__gt=last_position).count() == 0
    assert Order.objects.get(pk=placed.order_id).status == "PENDING"


def test_failed_line_write_leaves_no_order_and_no_event(customer, sku):
    events_before = OutboxEvent.objects.count()
    with failing_trigger("orders_write_orderline", "INSERT", at_commit=True), pytest.raises(DatabaseError):
        _place(customer, sku)
    assert (Order.objects.count(), OutboxEvent.objects.count()) == (0, events_before)


@override_settings(OUTBOX_NUDGE="tests.test_atomicity.record_nudge")
def test_nudge_runs_once_after_commit_and_never_after_rollback(customer, sku):
    NUDGES.clear()
    _place(customer, sku)
    assert NUDGES == ["nudged"]
    with failing_trigger("outbox_event", "INSERT", at_commit=True), pytest.raises(DatabaseError):
        _place(customer, sku)
    assert NUDGES == ["nudged"]


def test_every_committed_change_has_exactly_its_events(customer, sku):
    placed = _place(customer, sku)
    order_confirm(order_id=placed.order_id)
    versions = list(
        OutboxEvent.objects.filter(aggregate_type="order", aggregate_id=placed.order_id).values_list(
            "aggregate_version", flat=True
        )
    )
    assert versions == [1, 2] == list(range(1, Order.objects.get(pk=placed.order_id).version + 1))
