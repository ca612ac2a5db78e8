"""Poison isolation (property 8): one order's failing event parks that order only."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from orders_write.services import LineInput, order_confirm, order_place
from projections.models import ParkedStream
from projections.runtime import parking
from projections.runtime.loop import drain
from projections.runtime.verify import verify


@pytest.fixture
def poison(request):
    """Make every write of one order's summary fail, as a buggy handler or bad data would."""
    created = []

    def make(order_id: int) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE FUNCTION test_poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                f"IF NEW.order_id = {order_id} THEN RAISE EXCEPTION 'poisoned order %', NEW.order_id; END IF; "
                "RETURN NEW; END $$"
            )
            cursor.execute(
                "CREATE TRIGGER test_poison BEFORE INSERT OR UPDATE ON order_summary "
                "FOR EACH ROW EXECUTE FUNCTION test_poison()"
            )
        created.append(order_id)

    def cure() -> None:
        if created:
            with connection.cursor() as cursor:
                cursor.execute("DROP TRIGGER test_poison ON order_summary; DROP FUNCTION test_poison()")
            created.clear()

    make.cure = cure
    yield make
    cure()


def projected_orders() -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT order_id FROM order_summary")
        return {row[0] for row in cursor.fetchall()}


def status_of(order_id: int) -> str | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT status FROM order_summary WHERE order_id = %s", [order_id])
        row = cursor.fetchone()
    return row[0] if row else None


def place(customer: int, sku: str) -> int:
    return order_place(customer_id=customer, lines=[LineInput(sku=sku, quantity=1)]).order_id


def test_a_poison_order_parks_alone_while_a_thousand_others_project(customer, sku, poison):
    orders = [place(customer, sku) for _ in range(1000)]
    bad = orders[437]
    poison(bad)

    drain("order_views")

    assert projected_orders() == set(orders) - {bad}
    parked = ParkedStream.objects.get()
    assert (parked.aggregate_type, parked.aggregate_id, parked.state) == ("order", bad, ParkedStream.RETRYING)
    assert "poisoned order" in parked.error and "Traceback" in parked.traceback

    # Later events: the parked order's wait behind it, everyone else's keep flowing.
    order_confirm(order_id=bad)
    order_confirm(order_id=orders[0])
    drain("order_views")
    assert status_of(orders[0]) == "CONFIRMED"
    assert status_of(bad) is None

    poison.cure()
    call_command("retry_parked", "--order", str(bad))
    assert status_of(bad) == "CONFIRMED"
    assert not ParkedStream.objects.exists()
    assert verify("order_views") == []


def test_an_event_that_cannot_be_decoded_parks_its_order_alone(customer, sku):
    orders = [place(customer, sku) for _ in range(50)]
    bad = orders[20]
    with connection.cursor() as cursor:  # a v2 the codec cannot read (fields missing), as bad data would be
        cursor.execute(
            "INSERT INTO outbox_event (event_id, aggregate_type, aggregate_id, aggregate_version, event_type, "
            "schema_version, payload, occurred_at, correlation_id, actor) "
            "VALUES (gen_random_uuid(), 'order', %s, 2, 'OrderConfirmed', 1, '{}', now(), gen_random_uuid(), 'x')",
            [bad],
        )
    order_confirm(order_id=orders[0])

    drain("order_views")
    drain("sales")

    parked = {(p.projection, p.aggregate_id): p for p in ParkedStream.objects.all()}
    assert set(parked) == {("order_views", bad), ("sales", bad)}
    assert "cannot decode OrderConfirmed v1" in parked[("order_views", bad)].error
    assert status_of(orders[0]) == "CONFIRMED", "the other orders keep flowing"
    assert projected_orders() == set(orders) - {bad}


def test_parked_streams_retry_with_backoff_then_wait_for_staff(customer, sku, poison):
    bad = place(customer, sku)
    poison(bad)
    drain("order_views")
    parked = ParkedStream.objects.get()
    assert parked.retry_at > timezone.now(), "the first retry waits for its backoff"

    for attempt in range(2, parking.MAX_ATTEMPTS + 1):
        ParkedStream.objects.update(retry_at=timezone.now() - timedelta(seconds=1))
        drain("order_views")
        parked.refresh_from_db()
        assert parked.attempts == attempt
    assert (parked.state, parked.retry_at) == (ParkedStream.PARKED, None)

    poison.cure()
    drain("order_views")
    assert status_of(bad) is None, "a parked stream waits for retry_parked"
    call_command("retry_parked")
    assert status_of(bad) == "PENDING"


def test_status_reports_parked_streams_and_their_error(customer, sku, poison):
    from projections.runtime.status import consumer_health

    bad = place(customer, sku)
    poison(bad)
    drain("order_views")
    health = next(row for row in consumer_health() if row.name == "order_views")
    assert (health.parked, health.state) == (1, "parked")
    assert "poisoned order" in health.last_error


def test_verify_holds_a_parked_stream_back_as_the_drain_does_and_names_it(customer, sku, poison, capsys):
    orders = [place(customer, sku) for _ in range(5)]
    poison(orders[2])
    drain("order_views")
    assert ParkedStream.objects.get().aggregate_id == orders[2]

    assert verify("order_views") == [], "the other orders are checked; the parked one is held back, not replayed"
    call_command("verify_projections")
    out = capsys.readouterr().out
    assert "order_views: ok" in out and "sales: ok" in out
    assert f"parked: order {orders[2]} held back from position" in out
