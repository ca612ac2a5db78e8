"""rebuild_projections (property 9): shadow tables from position 0, catch up, atomic swap, no downtime.

Real transactions throughout: readers, writers and the drain run on their own connections in
threads while the rebuild builds and swaps.
"""

import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from events import OrderConfirmed
from orders_read.queries.orders import customer_recent_orders, order_detail, order_list
from orders_read.queries.reports import sales_summary, top_customers
from orders_write.services import (
    LineInput,
    customer_rename,
    order_cancel,
    order_confirm,
    order_discount_apply,
    order_line_add,
    order_place,
)
from projections import order_views
from projections.models import Checkpoint
from projections.runtime.loop import drain, drain_all
from projections.runtime.rebuild import RebuildError, rebuild, rebuild_many
from projections.runtime.registry import projections
from projections.runtime.verify import verify
from projections.store.postgres import PostgresEventStore
from tests.postgres import database_dsn

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
OWNED = {name: projection.tables() for name, projection in projections().items()}
ALL_TABLES = sorted(table for tables in OWNED.values() for table in tables)


@pytest.fixture(autouse=True)
def no_shadows_left():
    yield
    with connection.cursor() as cursor:
        for table in ALL_TABLES:
            cursor.execute(f"DROP TABLE IF EXISTS {table}__shadow")


def snapshot(tables=ALL_TABLES) -> dict[str, list[tuple]]:
    with connection.cursor() as cursor:
        result = {}
        for table in tables:
            cursor.execute(f"SELECT * FROM {table}")
            result[table] = sorted(cursor.fetchall(), key=repr)
    return result


def shadow_tables() -> list[str]:
    return [name for name in connection.introspection.table_names() if name.endswith("__shadow")]


@pytest.fixture
def orders(make_customer, make_product) -> list[int]:
    """Orders of three customers in mixed states, drained into every projection."""
    customers = [make_customer(name=f"Customer {i}") for i in range(3)]
    skus = [make_product(price=100 * (i + 1), name=f"Product {i}") for i in range(4)]
    ids = []
    for index in range(24):
        lines = [LineInput(sku=skus[index % 4], quantity=1 + index % 3)]
        ids.append(order_place(customer_id=customers[index % 3], lines=lines).order_id)
    order_line_add(order_id=ids[0], sku=skus[1], quantity=2)
    order_discount_apply(order_id=ids[0], percent=10)
    for order_id in ids[1:8]:
        order_confirm(order_id=order_id)
    order_cancel(order_id=ids[9], reason="changed mind")
    customer_rename(customer_id=customers[0], name="Customer Zero")
    drain_all()
    return ids


class Reader:
    """Runs the selectors in a loop on its own connection; records errors and the smallest counts seen."""

    def __init__(self, order_id: int) -> None:
        self.order_id = order_id
        self.errors: list[BaseException] = []
        self.smallest = {"order_list": 10**9, "summary_orders": 10**9, "lines": 10**9, "top_customers": 10**9}
        self.rounds = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run)

    def once(self) -> None:
        today = datetime.now(UTC).date()
        page, _ = order_list(limit=100)
        detail = order_detail(order_id=self.order_id)
        summary = sales_summary(start=today - timedelta(days=1), end=today + timedelta(days=1))
        ranking = top_customers(start=today - timedelta(days=1), end=today + timedelta(days=1))
        customer_recent_orders(customer_id=page[0]["customer_id"] if page else 0)
        seen = {
            "order_list": len(page),
            "summary_orders": summary["orders"],
            "lines": len(detail["lines"]) if detail else 0,
            "top_customers": len(ranking),
        }
        self.smallest = {key: min(value, seen[key]) for key, value in self.smallest.items()}
        self.rounds += 1

    def _run(self) -> None:
        try:
            while not self.stop.is_set():
                try:
                    self.once()
                except BaseException as error:
                    self.errors.append(error)
        finally:
            connection.close()

    def __enter__(self) -> "Reader":
        self.thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop.set()
        self.thread.join(timeout=60)


def _wait_for_waiting_lock(watcher: psycopg.Connection, mode: str) -> None:
    for _ in range(500):
        waiting = watcher.execute("SELECT count(*) FROM pg_locks WHERE mode = %s AND NOT granted", [mode]).fetchone()[0]
        if waiting:
            return
        time.sleep(0.01)
    raise AssertionError(f"no {mode} lock was ever waited for")


def _connect() -> psycopg.Connection:
    return psycopg.connect(database_dsn(), autocommit=True)


def test_readers_never_fail_nor_see_partial_tables_during_a_rebuild(orders):
    """A reader holds the swap up, so other readers queue behind its lock: they wait, then read the new tables."""
    before = snapshot()
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = ANY(%s) ORDER BY 1", [ALL_TABLES])
        indexes_before = cursor.fetchall()
    blocker, watcher = _connect(), _connect()
    blocker.execute("BEGIN")
    blocker.execute("SELECT count(*) FROM order_summary")  # an AccessShare lock the swap must wait for
    outcome: dict = {}

    def run_rebuild():
        try:
            outcome["result"] = rebuild("order_views", batch_size=5)
        except BaseException as error:
            outcome["error"] = error
        finally:
            connection.close()

    try:
        with Reader(orders[0]) as looping:
            rebuilder = threading.Thread(target=run_rebuild)
            rebuilder.start()
            _wait_for_waiting_lock(watcher, "AccessExclusiveLock")  # the swap is waiting for the blocker
            queued = [Reader(orders[0]) for _ in range(3)]
            queued_threads = [threading.Thread(target=lambda r=r: (r.once(), connection.close())) for r in queued]
            for thread in queued_threads:
                thread.start()
            time.sleep(0.3)
            assert all(thread.is_alive() for thread in queued_threads), "readers queue behind the swap"
            blocker.execute("COMMIT")
            rebuilder.join(timeout=60)
            for thread in queued_threads:
                thread.join(timeout=30)
            time.sleep(0.1)  # a few more reads of the new tables
    finally:
        blocker.close()
        watcher.close()

    assert "error" not in outcome, outcome
    assert outcome["result"].events > 0
    assert looping.errors == [] and looping.rounds > 0
    for reader in [looping, *queued]:
        assert reader.errors == []
        assert reader.smallest == {"order_list": 24, "summary_orders": 24, "lines": 2, "top_customers": 3}
    assert [reader.rounds for reader in queued] == [1, 1, 1]
    assert snapshot() == before
    assert verify("order_views") == [] and verify("sales") == []
    assert shadow_tables() == []
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = ANY(%s) ORDER BY 1", [ALL_TABLES])
        assert cursor.fetchall() == indexes_before, "the swapped-in tables carry the original index names"


def test_a_rebuild_repairs_tampered_tables_and_can_run_again(orders):
    expected = snapshot()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE order_summary SET total = total + 1, customer_name = 'X' WHERE order_id = %s", [orders[0]]
        )
        cursor.execute("DELETE FROM order_line_view WHERE order_id = %s", [orders[1]])
        cursor.execute("UPDATE customer_stats SET lifetime_value = 0, order_count = 99")
        cursor.execute("DELETE FROM daily_sales")
    assert verify("order_views") and verify("sales")

    call_command("rebuild_projections")

    assert verify("order_views") == [] and verify("sales") == []
    assert snapshot() == expected
    call_command("rebuild_projections", "sales", "--batch-size", "3")  # a second rebuild over rebuilt tables
    assert snapshot() == expected
    assert shadow_tables() == []


def test_rebuilding_every_projection_reads_the_log_once(orders, monkeypatch):
    expected = snapshot()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM order_summary")
        cursor.execute("DELETE FROM daily_sales")
        handled = sorted(set().union(*(p.event_types() for p in projections().values())))
        cursor.execute("SELECT COUNT(*) FROM outbox_event WHERE event_type = ANY(%s)", [handled])
        (log_size,) = cursor.fetchone()
    reads = []
    original = PostgresEventStore.read_batch
    monkeypatch.setattr(PostgresEventStore, "read_batch", lambda self, **kw: reads.append(kw) or original(self, **kw))

    results = rebuild_many(["order_views", "sales"], batch_size=10)

    builds = [read for read in reads if read["limit"] == 10]  # the catch-ups read in batches of their own
    assert len(builds) == log_size // 10 + 1, "one read per batch of the log, shared by both shadows"
    assert {result.projection for result in results} == {"order_views", "sales"}
    assert all(result.events > 0 for result in results)
    assert snapshot() == expected
    assert verify("order_views") == [] and verify("sales") == []


def test_a_rebuild_keeps_up_with_commands_and_the_drain_running_meanwhile(orders, make_customer, sku):
    customer = make_customer()
    placed: list[int] = []
    stop = threading.Event()
    errors: list[BaseException] = []

    def keep_placing():
        try:
            while not stop.is_set():
                order_id = order_place(customer_id=customer, lines=[LineInput(sku=sku, quantity=1)]).order_id
                placed.append(order_id)
                if len(placed) % 3 == 0:
                    order_confirm(order_id=order_id)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    def keep_draining():
        try:
            while not stop.is_set():
                drain_all(batch_size=7)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=keep_placing), threading.Thread(target=keep_draining)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(0.2)
        results = [rebuild(name, batch_size=10) for name in OWNED]
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)

    assert errors == []
    assert len(placed) > 0 and all(result.events > 0 for result in results)
    drain_all()
    assert verify("order_views") == [] and verify("sales") == []
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM order_summary")
        assert cursor.fetchone()[0] == len(orders) + len(placed)


def test_a_rebuild_ahead_of_a_lagging_drain_moves_the_checkpoint_with_it(orders, customer, sku):
    """Events the drain has not applied yet are in the rebuilt tables, so the checkpoint follows them."""
    late = [order_place(customer_id=customer, lines=[LineInput(sku=sku, quantity=2)]).order_id for _ in range(3)]
    before = Checkpoint.objects.get(projection="order_views").last_position

    result = rebuild("order_views")

    checkpoint = Checkpoint.objects.get(projection="order_views")
    assert checkpoint.last_position == result.position.position > before
    assert drain("order_views") == 0
    assert all(order_detail(order_id=order_id) for order_id in late)
    assert verify("order_views") == []


def test_a_failing_handler_stops_the_rebuild_and_leaves_the_live_tables(orders, monkeypatch):
    before = snapshot()

    def broken(batch, stored):
        raise ValueError("handler bug")

    monkeypatch.setitem(order_views.HANDLERS, OrderConfirmed, broken)
    with pytest.raises(RebuildError, match="ValueError: handler bug"):
        rebuild("order_views")
    with pytest.raises(CommandError, match="Nothing was swapped"):
        call_command("rebuild_projections", "order_views", verbosity=0)

    assert snapshot() == before
    assert shadow_tables() == []


def test_privileges_on_a_table_survive_its_rebuild(orders):
    with connection.cursor() as cursor:
        cursor.execute("GRANT SELECT ON order_summary TO PUBLIC")
        try:
            rebuild("order_views")
            cursor.execute("SELECT has_table_privilege('public', 'order_summary', 'SELECT')")
            assert cursor.fetchone()[0] is True
        finally:
            cursor.execute("REVOKE SELECT ON order_summary FROM PUBLIC")


def test_the_swap_waits_out_a_long_reader_briefly_and_retries_or_gives_up_untouched(orders):
    """A reader that outlasts the lock timeout makes the swap roll back and retry, so readers never queue long."""
    before = snapshot()
    blocker = _connect()
    try:
        blocker.execute("BEGIN")
        blocker.execute("SELECT count(*) FROM customer_stats")
        with pytest.raises(RebuildError, match="could not take its locks"):
            rebuild("sales", lock_timeout_ms=50, swap_attempts=2)
        assert snapshot() == before and shadow_tables() == []

        threading.Timer(0.6, lambda: blocker.execute("COMMIT")).start()
        result = rebuild("sales", lock_timeout_ms=100, swap_attempts=20)
    finally:
        time.sleep(0.7)
        blocker.close()
    assert result.events > 0
    assert snapshot() == before and verify("sales") == []


def test_a_second_rebuild_of_the_same_projection_is_refused(orders):
    holder = _connect()
    try:
        holder.execute("SELECT pg_advisory_lock(hashtext('rebuild_projections:order_views'))")
        with pytest.raises(RebuildError, match="another rebuild"):
            rebuild("order_views")
    finally:
        holder.close()
    assert rebuild("sales").events > 0  # other projections are not held up


def test_unknown_names_are_refused():
    with pytest.raises(CommandError, match="unknown projection"):
        call_command("rebuild_projections", "nope")


def test_the_sqlite_quick_start_rebuilds_too(tmp_path):
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE", "DATABASE_URL"}},
        "DATABASE_URL": f"sqlite:///{tmp_path / 'rebuild.sqlite3'}",
    }

    def manage(*args: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    manage("migrate", "--noinput")
    manage("seed_demo", "--customers", "6", "--products", "5", "--orders", "20", "--seed", "3")
    manage("drain_projections")
    assert "rebuilt from" in manage("rebuild_projections", "--batch-size", "7")
    manage("rebuild_projections", "order_views")  # again, over the rebuilt tables and their recreated indexes
    assert "DIFFERENT" not in manage("verify_projections")
    schema = manage(
        "shell",
        "-c",
        "from django.db import connection as c; print(c.introspection.get_constraints(c.cursor(), 'order_summary'))",
    )
    assert all(name in schema for name in ("order_summary_customer_recent", "order_summary_status_recent"))
    assert "__shadow" not in manage(
        "shell", "-c", "from django.db import connection as c; print(c.introspection.table_names())"
    )
