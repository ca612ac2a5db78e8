"""Projection health: lag measured in the drain's own order, and the state it implies."""

import json
from datetime import datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orders_write.clock import frozen_at
from orders_write.services import LineInput, order_confirm, order_place
from projections.models import Checkpoint
from projections.runtime.checkpoints import position_of
from projections.runtime.consumer import RELAY
from projections.runtime.loop import drain
from projections.runtime.registry import consumers
from projections.runtime.status import LAG_COUNT_LIMIT, ConsumerHealth, consumer_health
from projections.store import event_store

pytestmark = pytest.mark.django_db(transaction=True)


def health(name: str = "order_views") -> ConsumerHealth:
    (row,) = [row for row in consumer_health() if row.name == name]
    return row


def head() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT MAX(position) FROM outbox_event")
        return cursor.fetchone()[0]


def place_and_confirm(customer: int, sku: str) -> None:
    order_confirm(order_id=order_place(customer_id=customer, lines=[LineInput(sku, 1)]).order_id)


def test_lag_before_and_after_draining(customer, sku):
    # CustomerRegistered + 2 x (OrderPlaced, OrderConfirmed); ProductAdded is not an order_views event.
    with frozen_at(timezone.now() - timedelta(minutes=5)):
        place_and_confirm(customer, sku)
    place_and_confirm(customer, sku)

    before = health()
    assert before.lag_events == 5
    assert before.lag_seconds >= 300
    assert (before.position, before.head, before.events_applied) == (0, head(), 0)
    assert before.last_applied_at is None and before.heartbeat_at is None
    assert before.state == "stuck", "events waiting and no drainer has ever run"
    assert before.parked == 0

    drain("order_views")

    after = health()
    assert (after.lag_events, after.lag_seconds, after.state) == (0, 0.0, "idle")
    assert after.position == after.head == head()
    assert after.events_applied == 5
    assert after.heartbeat_at is not None and after.last_applied_at == after.heartbeat_at


def test_state_moves_from_idle_to_catching_up_to_stuck(customer, sku):
    drain("order_views")
    assert health().state == "idle"

    place_and_confirm(customer, sku)
    row = health()
    assert (row.lag_events, row.state) == (2, "catching_up")
    assert row.lag_seconds > 0

    Checkpoint.objects.filter(projection="order_views").update(heartbeat_at=timezone.now() - timedelta(seconds=61))
    assert health().state == "stuck"

    drain("order_views")
    assert health().state == "idle"


def test_events_of_other_types_are_not_lag(make_product):
    drain("order_views")
    make_product()  # ProductAdded moves the head, not the order_views lag
    row = health()
    assert row.head > row.position
    assert (row.lag_events, row.state) == (0, "idle")


def test_every_projection_is_reported_at_a_fixed_cost(customer, sku):
    for _ in range(3):
        place_and_confirm(customer, sku)
    consumer_health()  # a connection reads the outbox's timelines once (ADR 0017)
    with CaptureQueriesContext(connection) as queries:
        report = consumer_health()
    assert [row.name for row in report] == list(consumers())
    # Checkpoints, parked streams, head, every consumer's lag in one statement (ADR 0024), and each
    # relay's receiver-down record (a shared-cache read: a statement with the database cache).
    relays = sum(consumer.kind == RELAY for consumer in consumers().values())
    assert relays and len(queries) == 4 + relays, [query["sql"][:80] for query in queries]


def test_the_grouped_lag_equals_each_consumers_own(customer, sku):
    for _ in range(3):
        place_and_confirm(customer, sku)
    drain("order_views")
    place_and_confirm(customer, sku)  # order_views 2 behind, the others the whole log
    store = event_store()
    timelines, _ = store.timelines()
    each = {
        name: store.lag(
            after=position_of(Checkpoint.objects.filter(projection=name).first() or Checkpoint(projection=name)),
            event_types=consumer.event_types(),
            timelines=timelines,
            scan=LAG_COUNT_LIMIT,
        )[0]
        for name, consumer in consumers().items()
    }
    grouped = {row.name: row.lag_events for row in consumer_health()}
    assert grouped == each
    assert grouped["order_views"] == 2 and len(set(grouped.values())) > 1, grouped


def test_the_command_prints_json_that_matches(customer, sku):
    place_and_confirm(customer, sku)
    drain("order_views")
    place_and_confirm(customer, sku)
    out = StringIO()

    call_command("projection_status", "--json", stdout=out)

    printed = json.loads(out.getvalue())
    expected = [row.as_dict() for row in consumer_health()]
    assert [row["name"] for row in printed] == [row["name"] for row in expected]
    for row, want in zip(printed, expected, strict=True):
        for moment in ("heartbeat_at", "last_applied_at"):
            assert (row[moment] and datetime.fromisoformat(row[moment])) == want[moment]
        assert row["lag_seconds"] == pytest.approx(want["lag_seconds"], abs=5)
        volatile = {"heartbeat_at", "last_applied_at", "lag_seconds"}
        assert {k: v for k, v in row.items() if k not in volatile} == {
            k: v for k, v in want.items() if k not in volatile
        }
    order_views = next(row for row in printed if row["name"] == "order_views")
    assert (order_views["lag_events"], order_views["state"]) == (2, "catching_up")
    assert datetime.fromisoformat(order_views["heartbeat_at"]).tzinfo is not None


def test_the_command_prints_a_table(customer, sku):
    place_and_confirm(customer, sku)
    out = StringIO()

    call_command("projection_status", stdout=out)

    header, *rows = out.getvalue().splitlines()
    assert header.split() == [
        "name",
        "state",
        "position",
        "head",
        "lag_events",
        "lag_seconds",
        "parked",
        "events_applied",
        "last_applied_at",
        "heartbeat_at",
    ]
    assert [row.split()[0] for row in rows] == list(consumers())
    assert next(row for row in rows if row.startswith("order_views ")).split()[1:5] == ["stuck", "0", str(head()), "3"]
