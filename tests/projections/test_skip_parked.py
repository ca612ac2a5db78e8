"""skip_parked: the failing event is treated as applied and the rest of the stream flows."""

from django.core.management import call_command
from django.db import connection

from orders_write.services import LineInput, order_confirm, order_place, order_ship
from projections.models import ParkedStream
from projections.runtime.loop import drain
from projections.runtime.verify import verify


def poison_confirmation_of(order_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION test_poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"IF NEW.order_id = {order_id} AND NEW.status = 'CONFIRMED' THEN RAISE EXCEPTION 'bad confirm'; "
            "END IF; RETURN NEW; END $$"
        )
        cursor.execute(
            "CREATE TRIGGER test_poison BEFORE INSERT OR UPDATE ON order_summary "
            "FOR EACH ROW EXECUTE FUNCTION test_poison()"
        )


def cure() -> None:
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER IF EXISTS test_poison ON order_summary; DROP FUNCTION IF EXISTS test_poison()")


def summary(order_id: int) -> tuple:
    with connection.cursor() as cursor:
        cursor.execute("SELECT status, version, tracking_number FROM order_summary WHERE order_id = %s", [order_id])
        return cursor.fetchone()


def test_skipping_the_failing_event_lets_the_rest_of_the_stream_apply(customer, sku, capsys):
    order_id = order_place(customer_id=customer, lines=[LineInput(sku=sku, quantity=1)]).order_id
    drain("order_views")
    poison_confirmation_of(order_id)
    try:
        order_confirm(order_id=order_id)
        drain("order_views")
        assert ParkedStream.objects.get().aggregate_id == order_id
        order_ship(order_id=order_id, tracking_number="1Z42")
        drain("order_views")
        assert summary(order_id) == ("PENDING", 1, ""), "held behind the parked confirmation"

        call_command("skip_parked", "--projection", "order_views", "--order", str(order_id))
    finally:
        cure()

    assert "skipped OrderConfirmed v2" in capsys.readouterr().out
    assert summary(order_id) == ("SHIPPED", 3, "1Z42")
    assert not ParkedStream.objects.exists()
    assert verify("order_views") == []


def test_skip_without_parked_streams_changes_nothing(customer, sku, capsys):
    order_place(customer_id=customer, lines=[LineInput(sku=sku, quantity=1)])
    drain("order_views")
    call_command("skip_parked")
    assert "skipped 0 event(s)" in capsys.readouterr().out
    assert verify("order_views") == []
