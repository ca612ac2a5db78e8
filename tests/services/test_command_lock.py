"""Every outbox writer holds the outbox writers' lock, taken first thing in its transaction (ADR 0015).

The drain's horizon waits only for transactions holding that lock, so a writer without it, or
one that took it after its first write, could have its events skipped. Real transactions
(``transaction=True``) and real threads: the lock is seen from another connection in ``pg_locks``.
"""

import threading
from collections.abc import Callable
from io import StringIO
from typing import Any

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection, transaction

from events import CustomerRegistered
from orders_write import outbox
from orders_write.errors import NotFound
from orders_write.models import OutboxEvent
from orders_write.models.guard import service_write_scope
from orders_write.models.outbox import OUTBOX_WRITER_LOCK
from orders_write.outbox import WriterLockError
from orders_write.services import (
    LineInput,
    customer_deactivate,
    customer_register,
    customer_rename,
    order_cancel,
    order_confirm,
    order_deliver,
    order_discount_apply,
    order_line_add,
    order_line_remove,
    order_place,
    order_ship,
    product_add,
    product_reprice,
    product_retire,
)
from tests.projections.processes import current_database_url

pytestmark = pytest.mark.django_db(transaction=True)

LOCK_ROWS = f"""
    SELECT pid, mode, granted FROM pg_locks
    WHERE locktype = 'advisory' AND classid = {OUTBOX_WRITER_LOCK >> 32} AND objid = {OUTBOX_WRITER_LOCK & 0xFFFFFFFF}
      AND objsubid = 1 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
    ORDER BY pid
"""


_HELD: dict[threading.Thread, "HeldCommand"] = {}


def _hold_after(insert: Callable[[list[tuple]], int]) -> Callable[[list[tuple]], int]:
    def insert_then_hold(rows: list[tuple]) -> int:
        position = insert(rows)
        held = _HELD.get(threading.current_thread())
        if held is not None:
            held._hold()
        return position

    insert_then_hold.holds_commands = True  # type: ignore[attr-defined]
    return insert_then_hold


class HeldCommand:
    """A real service run in a thread of its own, stopped right after its outbox append, before commit.

    ``with HeldCommand(monkeypatch, order_place, ...) as held:`` returns once the event row is
    written (the transaction has its id and holds its locks); leaving the block lets it commit.
    """

    def __init__(self, monkeypatch: pytest.MonkeyPatch, service: Callable[..., Any], **arguments: Any) -> None:
        self.service, self.arguments = service, arguments
        self.appended, self.release = threading.Event(), threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None
        self.pid = self.txid = 0
        self.thread = threading.Thread(target=self._run)
        if not getattr(outbox._insert, "holds_commands", False):
            monkeypatch.setattr(outbox, "_insert", _hold_after(outbox._insert))
        _HELD[self.thread] = self

    def _hold(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid(), pg_current_xact_id()::text::bigint")
            self.pid, self.txid = cursor.fetchone()
        self.appended.set()
        assert self.release.wait(timeout=60), "the test never released the held command"

    def _run(self) -> None:
        try:
            self.result = self.service(**self.arguments)
        except BaseException as error:
            self.error = error
            self.appended.set()
        finally:
            connection.close()

    def __enter__(self) -> "HeldCommand":
        self.thread.start()
        assert self.appended.wait(timeout=30), "the held command never reached its outbox append"
        assert self.error is None, self.error
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.release.set()
        self.thread.join(timeout=30)
        _HELD.pop(self.thread, None)
        assert not self.thread.is_alive(), "the held command did not finish"


def other_connection() -> psycopg.Connection:
    return psycopg.connect(current_database_url(), autocommit=True)


# --- the command decorator takes the lock ------------------------------------------------------


def test_a_command_holds_the_writer_lock_shared_until_it_commits(monkeypatch, customer, sku):
    with other_connection() as observer:
        assert observer.execute(LOCK_ROWS).fetchall() == []
        place = {"customer_id": customer, "lines": [LineInput(sku=sku, quantity=1)]}
        with (
            HeldCommand(monkeypatch, order_place, **place) as first,
            HeldCommand(monkeypatch, order_place, **place) as second,
        ):
            # Shared: two writers hold it at once, neither waits for the other.
            assert observer.execute(LOCK_ROWS).fetchall() == sorted(
                [(first.pid, "ShareLock", True), (second.pid, "ShareLock", True)]
            )
        assert first.error is None and second.error is None
        assert observer.execute(LOCK_ROWS).fetchall() == [], "a transaction-level lock ends with the transaction"


def test_a_failing_command_releases_the_lock_with_its_rollback():
    with pytest.raises(NotFound):
        order_confirm(order_id=987654321)
    with other_connection() as observer:
        assert observer.execute(LOCK_ROWS).fetchall() == []


# --- first statement, every service --------------------------------------------------------------


def _scenarios() -> dict[str, Callable[[dict], Any]]:
    def order(state: dict, quantity: int = 1) -> int:
        return order_place(
            customer_id=state["customer"], lines=[LineInput(sku=state["sku"], quantity=quantity)]
        ).order_id

    return {
        "customer_register": lambda s: customer_register(name="New", email="new@example.com"),
        "customer_rename": lambda s: customer_rename(customer_id=s["customer"], name="Renamed"),
        "customer_deactivate": lambda s: customer_deactivate(customer_id=s["customer"]),
        "product_add": lambda s: product_add(sku="NEW-1", name="New", price=100),
        "product_reprice": lambda s: product_reprice(sku=s["sku"], price=999),
        "product_retire": lambda s: product_retire(sku=s["sku"]),
        "order_place": lambda s: order(s),
        "order_place (idempotency key)": lambda s: order_place(
            customer_id=s["customer"], lines=[LineInput(sku=s["sku"], quantity=1)], idempotency_key="k-1"
        ),
        "order_line_add": lambda s: order_line_add(order_id=s["order"], sku=s["other_sku"], quantity=1),
        "order_line_remove": lambda s: order_line_remove(order_id=s["two_lines"], sku=s["other_sku"]),
        "order_discount_apply": lambda s: order_discount_apply(order_id=s["order"], percent=10),
        "order_confirm": lambda s: order_confirm(order_id=s["order"]),
        "order_ship": lambda s: order_ship(order_id=s["confirmed"], tracking_number="T-1"),
        "order_deliver": lambda s: order_deliver(order_id=s["shipped"]),
        "order_cancel": lambda s: order_cancel(order_id=s["order"], reason="changed my mind"),
    }


@pytest.mark.parametrize("name", list(_scenarios()))
def test_every_service_takes_the_lock_as_the_first_statement_of_its_transaction(name, customer, make_product):
    state: dict[str, Any] = {"customer": customer, "sku": make_product(), "other_sku": make_product()}
    lines = [LineInput(sku=state["sku"], quantity=1)]
    state["order"] = order_place(customer_id=customer, lines=lines).order_id
    state["two_lines"] = order_place(
        customer_id=customer, lines=[*lines, LineInput(sku=state["other_sku"], quantity=1)]
    ).order_id
    state["confirmed"] = order_place(customer_id=customer, lines=lines).order_id
    order_confirm(order_id=state["confirmed"])
    state["shipped"] = order_place(customer_id=customer, lines=lines).order_id
    order_confirm(order_id=state["shipped"])
    order_ship(order_id=state["shipped"], tracking_number="T-0")
    statements: list[tuple[str, bool]] = []

    def record(execute, sql, params, many, context):
        statements.append((sql, connection.in_atomic_block))
        return execute(sql, params, many, context)

    head = OutboxEvent.objects.order_by("-position").values_list("position", flat=True).first()
    with connection.execute_wrapper(record):
        _scenarios()[name](state)

    in_transaction = [sql for sql, atomic in statements if atomic]
    assert in_transaction, statements
    assert "pg_advisory_xact_lock_shared" in in_transaction[0], in_transaction[:3]
    assert sum("pg_advisory_xact_lock_shared" in sql for sql in in_transaction) == 1
    inserts = [i for i, sql in enumerate(in_transaction) if sql.startswith('INSERT INTO "outbox_event"')]
    assert inserts and inserts[0] > 0, "the command wrote its event after taking the lock"
    assert OutboxEvent.objects.filter(position__gt=head).count() == 1


# --- writers that forget it fail loudly ---------------------------------------------------------


def test_outbox_append_without_the_writer_lock_is_refused_and_writes_nothing():
    before = OutboxEvent.objects.count()
    event = CustomerRegistered(customer_id=1, name="Nobody", email="nobody@example.com")
    with pytest.raises(WriterLockError, match="writer lock"), transaction.atomic(), service_write_scope():
        outbox.append([(event, 1)], actor=None)
    assert OutboxEvent.objects.count() == before


def test_the_writer_lock_taken_after_a_write_is_refused():
    with pytest.raises(WriterLockError, match="first thing"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_current_xact_id()")  # the transaction now has an id, as after a write
        with outbox.writer_lock():
            pass


def test_appending_inside_the_writer_lock_works_outside_a_service_decorator():
    event = CustomerRegistered(customer_id=424242, name="Direct", email="direct@example.com")
    with transaction.atomic(), outbox.writer_lock(), service_write_scope():
        position = outbox.append([(event, 1)], actor=None)
    assert OutboxEvent.objects.get(position=position).aggregate_id == 424242


def test_the_demo_seeder_writes_its_events_under_the_lock():
    """``seed_demo`` records through the services; ``append`` would refuse any event without the lock."""
    out = StringIO()
    call_command("seed_demo", seed=1, customers=5, products=4, orders=12, verbosity=0, stdout=out)
    assert "Seeded 12 orders" in out.getvalue()
    assert OutboxEvent.objects.filter(event_type="OrderPlaced").count() == 12
