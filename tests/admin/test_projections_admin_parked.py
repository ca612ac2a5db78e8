"""Parked streams in the admin: error and traceback shown, retry and skip for managers only.

A stream is parked the way production parks one: a trigger makes the projection's write of
one order fail (as ``tests/projections/test_parking.py`` does), in real transactions.
"""

import time

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.utils import timezone

from config.rights import MANAGE_PROJECTIONS, VIEW_REPORTS
from orders_write.services import LineInput, order_confirm, order_place, order_ship
from projections.models import ParkedStream
from projections.runtime.loop import drain
from projections.runtime.registry import projections
from projections.runtime.status import consumer_health
from tests.admin.staff import login
from tests.api.conftest import client_for, make_user

pytestmark = pytest.mark.django_db(transaction=True)

PARKED = "/admin/projections/parkedstream/"
READ_TABLES = sorted({table for projection in projections().values() for table in projection.tables()})


@pytest.fixture(autouse=True)
def empty_read_tables():
    with connection.cursor() as cursor:
        for table in READ_TABLES:
            cursor.execute(f"DELETE FROM {table}")
    cache.clear()


@pytest.fixture
def poison():
    """Make every write of one order's summary fail (only once it has ``status``, when given)."""

    def make(order_id: int, status: str | None = None) -> None:
        condition = f"NEW.order_id = {order_id}" + (f" AND NEW.status = '{status}'" if status else "")
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE FUNCTION test_poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                f"IF {condition} THEN RAISE EXCEPTION 'poisoned order %', NEW.order_id; END IF; RETURN NEW; END $$"
            )
            cursor.execute(
                "CREATE TRIGGER test_poison BEFORE INSERT OR UPDATE ON order_summary "
                "FOR EACH ROW EXECUTE FUNCTION test_poison()"
            )

    def cure() -> None:
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER IF EXISTS test_poison ON order_summary; DROP FUNCTION IF EXISTS test_poison()")

    make.cure = cure
    yield make
    cure()


def drain_fully(name: str = "order_views", *, within: float = 30.0) -> None:
    """Drain until nothing is left: the drain waits while any transaction on the cluster is older."""
    deadline = time.monotonic() + within
    while True:
        drain(name)
        (row,) = [row for row in consumer_health() if row.name == name]
        if row.lag_events == 0:
            return
        assert time.monotonic() < deadline, f"{name} still lags {row['lag_events']} event(s)"
        time.sleep(0.2)


def summary(order_id: int) -> tuple | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT status, version FROM order_summary WHERE order_id = %s", [order_id])
        return cursor.fetchone()


def act(client: Client, action: str, stream: ParkedStream):
    return client.post(PARKED, {"action": action, "_selected_action": [str(stream.pk)], "index": "0"}, follow=True)


@pytest.fixture
def parked(customer, sku, poison) -> ParkedStream:
    order_id = order_place(customer_id=customer, lines=[LineInput(sku=sku, quantity=1)]).order_id
    poison(order_id)
    drain_fully()
    return ParkedStream.objects.get(aggregate_type="order", aggregate_id=order_id)


def test_parked_streams_show_their_error_and_traceback_to_managers(parked):
    manager = login(VIEW_REPORTS, MANAGE_PROJECTIONS)

    listing = manager.get(PARKED)
    assert listing.status_code == 200 and b"poisoned order" in listing.content
    page = manager.get(f"{PARKED}{parked.pk}/change/").content.decode()
    assert 'id="parked-traceback"' in page and "Traceback (most recent call last)" in page
    assert 'name="_save"' not in page


def test_report_viewers_see_a_parked_stream_but_never_its_error_or_traceback(parked):
    viewer, manager = login(VIEW_REPORTS), login(VIEW_REPORTS, MANAGE_PROJECTIONS)
    pages = [PARKED, f"{PARKED}{parked.pk}/change/", "/admin/projections/projectionhealth/", "/dashboard/"]
    for path in pages:
        assert b"poisoned order" in manager.get(path).content, path  # the control: the error is there
        shown = viewer.get(path)
        assert shown.status_code == 200, path
        assert b"poisoned order" not in shown.content and b"Traceback" not in shown.content, path
    assert f"order {parked.aggregate_id}".encode() in viewer.get(PARKED).content  # the stream itself is listed

    def api_errors(*rights: str) -> list:
        rows = client_for(make_user(*rights)).get("/api/projections/").json()["results"]
        return [row["last_error"] for row in rows if row["name"] == "order_views"]

    assert "poisoned order" in api_errors(MANAGE_PROJECTIONS, VIEW_REPORTS)[0]
    assert api_errors(VIEW_REPORTS) == [None]


def test_retry_now_releases_the_stream_and_the_next_drain_applies_it(parked, poison):
    manager = login(VIEW_REPORTS, MANAGE_PROJECTIONS)
    poison.cure()  # the cause is fixed

    response = act(manager, "retry_now", parked)

    assert "Released 1 parked stream(s)" in response.content.decode()
    parked.refresh_from_db()
    assert (parked.state, parked.attempts) == (ParkedStream.RETRYING, 0) and parked.retry_at <= timezone.now()
    drain_fully()
    assert summary(parked.aggregate_id) == ("PENDING", 1)
    assert not ParkedStream.objects.exists()


def test_skip_gives_up_the_failing_event_and_the_rest_of_the_stream_applies(customer, sku, poison):
    manager = login(VIEW_REPORTS, MANAGE_PROJECTIONS)
    order_id = order_place(customer_id=customer, lines=[LineInput(sku=sku, quantity=1)]).order_id
    drain_fully()
    poison(order_id, status="CONFIRMED")
    order_confirm(order_id=order_id)
    drain_fully()  # parks: the batch writes the order as CONFIRMED
    stream = ParkedStream.objects.get()
    order_ship(order_id=order_id, tracking_number="1Z42")
    drain_fully()  # held back behind the parked confirmation
    assert summary(order_id) == ("PENDING", 1)

    response = act(manager, "skip_failing_event", stream)

    assert "skipped OrderConfirmed v2" in response.content.decode()
    drain_fully()
    assert summary(order_id) == ("SHIPPED", 3)
    assert not ParkedStream.objects.exists()


def test_staff_without_the_right_can_neither_retry_nor_skip(parked):
    viewer = login(VIEW_REPORTS)
    before = ParkedStream.objects.values().get()

    listing = viewer.get(PARKED).content.decode()
    assert "retry_now" not in listing and "skip_failing_event" not in listing
    for action in ("retry_now", "skip_failing_event"):
        act(viewer, action, parked)
        assert ParkedStream.objects.values().get() == before, action
    assert viewer.post(f"{PARKED}{parked.pk}/delete/", {"post": "yes"}).status_code == 403
    assert login().get(PARKED).status_code == 403, "staff without the report right do not see them at all"
