"""The drain: gap-safe under out-of-order commits, exactly once under redelivery and crashes.

Real transactions throughout (``transaction=True``): the gap-safe read only sees transactions
older than every running one, which a test wrapped in one big transaction would never be.
"""

import threading
import time

import psycopg
import pytest
from django.db import DatabaseError, connection, connections
from django.test.utils import CaptureQueriesContext

from orders_write.services import LineInput, customer_register, customer_rename, order_confirm, order_place
from projections.models import Checkpoint
from projections.order_views import OrderViews
from projections.runtime.loop import _Pacer, drain, drain_all, drain_batch
from tests.postgres import database_dsn
from tests.test_atomicity import failing_trigger

pytestmark = pytest.mark.django_db(transaction=True)

HELD_LOCK = 4242
SUMMARY_FIELDS = ("customer_name", "status", "total", "version", "line_count")


def table(name: str, order_by: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {name} ORDER BY {order_by}")
        return cursor.fetchall()


def read_tables() -> tuple[list[tuple], list[tuple]]:
    return table("order_summary", "order_id"), table("order_line_view", "order_id, sku")


def summary(order_id: int) -> dict | None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT customer_name, status, total, version, line_count FROM order_summary WHERE order_id = %s",
            [order_id],
        )
        row = cursor.fetchone()
    return None if row is None else dict(zip(SUMMARY_FIELDS, row, strict=True))


def place(customer_id: int, sku: str, quantity: int = 1) -> int:
    return order_place(customer_id=customer_id, lines=[LineInput(sku=sku, quantity=quantity)]).order_id


def test_orders_and_renames_reach_the_order_views(customer, make_product):
    sku_a, sku_b = make_product(price=1000, name="Teapot"), make_product(price=250, name="Cup")
    order_id = order_place(customer_id=customer, lines=[LineInput(sku_a, 1), LineInput(sku_b, 4)]).order_id
    order_confirm(order_id=order_id)
    customer_rename(customer_id=customer, name="Ada King")

    drain("order_views")

    assert summary(order_id) == {
        "customer_name": "Ada King",
        "status": "CONFIRMED",
        "total": 2000,
        "version": 2,
        "line_count": 2,
    }
    with connection.cursor() as cursor:
        cursor.execute("SELECT sku, product_name, quantity, unit_price, line_total FROM order_line_view ORDER BY sku")
        assert cursor.fetchall() == sorted([(sku_a, "Teapot", 1, 1000, 1000), (sku_b, "Cup", 4, 250, 1000)])


def test_an_event_committed_late_is_applied_not_skipped(make_customer, sku):
    """A writer holds its transaction open while later writers commit and the drain runs."""
    early_customer = make_customer()
    held_customer = make_customer(name="Held Writer")
    early_order = place(early_customer, sku)
    with connection.cursor() as cursor:  # make the held customer's placement wait mid-transaction
        cursor.execute(
            "CREATE FUNCTION test_hold() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"IF NEW.customer_id = {held_customer} THEN PERFORM pg_advisory_lock_shared({HELD_LOCK}); "
            f"PERFORM pg_advisory_unlock_shared({HELD_LOCK}); END IF; RETURN NEW; END $$"
        )
        cursor.execute(
            "CREATE TRIGGER test_hold AFTER INSERT ON orders_write_order FOR EACH ROW EXECUTE FUNCTION test_hold()"
        )
    holder = psycopg.connect(database_dsn(), autocommit=True)
    holder.execute("SELECT pg_advisory_lock(%s)", [HELD_LOCK])
    held: dict = {}
    writer = threading.Thread(target=lambda: held.update(order_id=place(held_customer, sku)) or connection.close())
    try:
        writer.start()
        _wait_until_blocked_on_advisory_lock(holder)
        later_orders = [place(early_customer, sku) for _ in range(3)]

        drain("order_views")
        assert summary(early_order) is not None
        assert [summary(order_id) for order_id in later_orders] == [None] * 3, "must wait for the older open writer"

        holder.execute("SELECT pg_advisory_unlock(%s)", [HELD_LOCK])
        writer.join(timeout=30)
        drain("order_views")
    finally:
        holder.close()
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER test_hold ON orders_write_order; DROP FUNCTION test_hold()")
    assert held["order_id"] < later_orders[0], "the held order took its position before the later ones"
    assert all(summary(order_id) is not None for order_id in [early_order, held["order_id"], *later_orders])


def _wait_until_blocked_on_advisory_lock(holder: psycopg.Connection) -> None:
    for _ in range(300):
        waiting = holder.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        ).fetchone()[0]
        if waiting:
            return
        time.sleep(0.01)
    raise AssertionError("the held writer never reached its lock")


def test_redelivery_and_replay_from_an_older_checkpoint_change_nothing(customer, make_product):
    for index in range(5):
        order_id = place(customer, make_product(price=100 + index), quantity=index + 1)
        order_confirm(order_id=order_id)
    customer_rename(customer_id=customer, name="Renamed")
    drain("order_views")
    before = read_tables()

    Checkpoint.objects.filter(projection="order_views").update(last_txid=0, last_position=0)
    assert drain("order_views", batch_size=3) > 0
    assert read_tables() == before

    from projections.store import START, event_store

    batch = event_store().read_batch(after=START, event_types=OrderViews.event_types(), limit=1000).events
    with connection.cursor() as cursor:
        OrderViews().apply(batch, cursor)
        OrderViews().apply(batch, cursor)
    assert read_tables() == before


def test_a_crash_before_commit_applies_nothing_and_the_next_drain_converges(customer, sku):
    order_ids = [place(customer, sku) for _ in range(4)]
    with failing_trigger("projection_checkpoint", "UPDATE", at_commit=True), pytest.raises(DatabaseError):
        drain("order_views")
    assert read_tables() == ([], [])
    assert Checkpoint.objects.get(projection="order_views").last_position == 0

    drain("order_views")
    assert [summary(order_id)["version"] for order_id in order_ids] == [1, 1, 1, 1]


def test_a_second_drainer_skips_while_the_first_holds_the_checkpoint(customer, sku):
    place(customer, sku)
    drain("order_views")
    place(customer, sku)
    other = psycopg.connect(database_dsn())
    try:
        other.execute("SELECT 1 FROM projection_checkpoint WHERE projection = 'order_views' FOR UPDATE")
        result = drain_batch(OrderViews(), batch_size=100)
        assert result.locked_elsewhere and result.events == 0
    finally:
        other.rollback()
        other.close()
    assert drain_batch(OrderViews(), batch_size=100).events == 1


def test_a_batch_costs_a_fixed_number_of_queries(customer, make_product):
    for index in range(30):
        place(customer, make_product(price=100 + index))
    customer_register(name="Someone", email="someone@example.com")
    with CaptureQueriesContext(connection) as queries:
        drain_batch(OrderViews(), batch_size=1000)
    # timeout, lock, read, due retries, held streams, savepoint, 3 loads, 3 upserts, release, checkpoint
    assert len(queries) <= 15, [q["sql"][:80] for q in queries]


def backends() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database()")
        return cursor.fetchone()[0]


def checkpoint_position(name: str) -> int:
    with psycopg.connect(database_dsn()) as other:
        row = other.execute("SELECT last_position FROM projection_checkpoint WHERE projection = %s", [name]).fetchone()
    return row[0] if row else 0


def test_drain_all_drains_each_projection_on_its_own_while_the_other_waits(customer, sku):
    """One projection blocked on its table must not hold the other back (taking turns would)."""
    order_ids = [place(customer, sku) for _ in range(3)]
    before = backends()
    blocker = psycopg.connect(database_dsn())
    blocker.execute("LOCK TABLE order_summary IN ACCESS EXCLUSIVE MODE")  # order_views drains first in turn
    applied: dict[str, int] = {}

    def drain_then_close() -> None:
        applied.update(drain_all())
        connections.close_all()  # this test thread's own; the drain threads must close theirs

    worker = threading.Thread(target=drain_then_close)
    try:
        worker.start()
        deadline = time.monotonic() + 10
        while checkpoint_position("sales") == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        sales_done_while_blocked = checkpoint_position("sales")
        order_views_while_blocked = checkpoint_position("order_views")
    finally:
        blocker.rollback()
        blocker.close()
        worker.join(timeout=30)
    assert sales_done_while_blocked > 0 and order_views_while_blocked == 0
    # the customer's registration and three placements (reports reads only the placements); the
    # webhooks relay takes every event, the product's too
    assert applied == {"order_views": 4, "sales": 4, "reports": 3, "webhooks": 5}
    assert [summary(order_id)["version"] for order_id in order_ids] == [1, 1, 1]
    # The drain threads closed their connections (a closed backend leaves pg_stat_activity a moment later).
    deadline = time.monotonic() + 5
    while backends() != before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert backends() == before


def test_the_pacer_keeps_drain_threads_within_one_batch_of_each_other():
    pacer = _Pacer(["fast", "slow"])
    done = {"fast": 0, "slow": 0}
    widest_gap_while_both_ran = 0

    def run(name: str, batches: int, pause: float) -> None:
        nonlocal widest_gap_while_both_ran
        for _ in range(batches):
            time.sleep(pause)
            done[name] += 1
            if done["slow"] < 5:
                widest_gap_while_both_ran = max(widest_gap_while_both_ran, done["fast"] - done["slow"])
            pacer.wait_for_others(name)
        pacer.finished(name)

    threads = [threading.Thread(target=run, args=("fast", 12, 0)), threading.Thread(target=run, args=("slow", 5, 0.01))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert done == {"fast": 12, "slow": 5}  # the fast one ran on alone once the slow one had finished
    # While both ran, the fast one started a batch only when at most one ahead: it finished at most two ahead.
    assert widest_gap_while_both_ran == 2
