"""The drain's horizon waits for outbox writers only (ADR 0015): never skips, never stalls on strangers.

Real PostgreSQL, real connections and threads (``transaction=True``): a held command is a real
service stopped after its outbox append, before commit; an unrelated transaction is a raw
connection that wrote a row somewhere else and stays open, in this database or in another
database of the same cluster.
"""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection

from orders_write.services import LineInput, order_place
from projections.models import Checkpoint
from projections.runtime.loop import drain_all
from projections.store.horizon import horizon
from tests.projections.processes import current_database_url
from tests.services.test_command_lock import HeldCommand

pytestmark = pytest.mark.django_db(transaction=True)

SCRATCH_TABLE = "horizon_test_scratch"


def place(customer_id: int, sku: str) -> int:
    return order_place(customer_id=customer_id, lines=[LineInput(sku=sku, quantity=1)]).order_id


def projected(order_id: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM order_summary WHERE order_id = %s", [order_id])
        return cursor.fetchone() is not None


def order_txid(order_id: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT txid::text::bigint FROM outbox_event WHERE aggregate_type = 'order' AND aggregate_id = %s",
            [order_id],
        )
        return cursor.fetchone()[0]


def current_horizon() -> int:
    with connection.cursor() as cursor:
        return horizon(cursor)


def commit_something_else() -> None:
    """Commit a transaction with an id of its own, so the snapshot's xmax moves past every running one."""
    with psycopg.connect(current_database_url(), autocommit=True) as other:
        other.execute("SELECT pg_current_xact_id()")


@contextmanager
def unrelated_write(database_url: str) -> Iterator[int]:
    """Write a row in ``database_url`` (not the outbox) and keep the transaction open; yield its id."""
    with psycopg.connect(database_url, autocommit=True) as setup:
        setup.execute(f"CREATE TABLE IF NOT EXISTS {SCRATCH_TABLE} (note text)")
    writer = psycopg.connect(database_url)
    try:
        writer.execute(f"INSERT INTO {SCRATCH_TABLE} VALUES ('a long batch job')")
        yield writer.execute("SELECT pg_current_xact_id()::text::bigint").fetchone()[0]
    finally:
        writer.rollback()
        writer.close()
        with psycopg.connect(database_url, autocommit=True) as setup:
            setup.execute(f"DROP TABLE IF EXISTS {SCRATCH_TABLE}")


@contextmanager
def other_database() -> Iterator[str]:
    """Create a scratch database on this cluster; yield its URL; drop it after."""
    name = f"{connection.settings_dict['NAME']}_horizon_{os.getpid()}"
    parts = urlsplit(current_database_url())
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- (a) a held command is still waited for ---------------------------------------------------


def test_a_held_command_is_waited_for_and_applied_once_it_commits(monkeypatch, make_customer, sku):
    customer = make_customer()
    early = place(customer, sku)
    with HeldCommand(
        monkeypatch, order_place, customer_id=make_customer(name="Held Writer"), lines=[LineInput(sku=sku, quantity=1)]
    ) as held:
        later = [place(customer, sku) for _ in range(3)]
        assert all(order_txid(order_id) > held.txid for order_id in later)
        assert current_horizon() == held.txid, "the horizon stops at the oldest running writer"

        drain_all()

        assert projected(early)
        assert not any(projected(order_id) for order_id in later), "later commits wait behind the open writer"
        checkpoint = Checkpoint.objects.get(projection="order_views")
        assert checkpoint.last_txid < held.txid, "the checkpoint never passes a running writer"
    assert held.error is None
    drain_all()
    assert all(projected(order_id) for order_id in [early, held.result.order_id, *later]), "nothing skipped"


def test_the_horizon_sees_a_new_writer_when_read_twice_in_one_transaction(monkeypatch, customer, sku):
    """A rebuild's catch-up reads batches in one transaction: the horizon must not use a per-transaction copy.

    (``pg_stat_activity`` is read once per transaction and kept; ``pg_locks`` is read live.)
    """
    with psycopg.connect(current_database_url()) as reader:
        with reader.cursor() as cursor:
            horizon(cursor)
            cursor.execute("SELECT count(*) FROM pg_stat_activity")  # the view's copy is now taken
            with HeldCommand(
                monkeypatch, order_place, customer_id=customer, lines=[LineInput(sku=sku, quantity=1)]
            ) as held:
                commit_something_else()
                assert horizon(cursor) == held.txid
        reader.rollback()


# --- (b), (c) unrelated transactions no longer hold projection back -----------------------------


def test_an_unrelated_write_transaction_in_the_same_database_no_longer_delays_projection(customer, sku):
    with unrelated_write(current_database_url()) as stranger:
        order_id = place(customer, sku)
        assert order_txid(order_id) > stranger, "the order is placed after the stranger took its id"

        drain_all()

        assert projected(order_id)
        assert current_horizon() > order_txid(order_id) > stranger


def test_an_unrelated_write_transaction_in_another_database_of_the_cluster_no_longer_delays_projection(customer, sku):
    with other_database() as url, unrelated_write(url) as stranger:
        order_id = place(customer, sku)
        assert order_txid(order_id) > stranger

        call_command("drain_projections", verbosity=0)

        assert projected(order_id)


def test_a_writer_of_another_database_does_not_hold_this_one_back(monkeypatch, customer, sku):
    """The same lock key in another database (another copy of this app on the cluster) is not ours."""
    from orders_write.models.outbox import OUTBOX_WRITER_LOCK

    with other_database() as url, psycopg.connect(url) as elsewhere:
        elsewhere.execute("SELECT pg_advisory_xact_lock_shared(%s)", [OUTBOX_WRITER_LOCK])
        stranger = elsewhere.execute("SELECT pg_current_xact_id()::text::bigint").fetchone()[0]
        order_id = place(customer, sku)
        assert order_txid(order_id) > stranger

        drain_all()

        assert projected(order_id)
        elsewhere.rollback()
