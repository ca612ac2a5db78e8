"""Verify runs beside the live drain (property 12): no checkpoint lock, no long transaction.

Verify's batches are tiny, and each of them pauses, inside verify's transaction, until the live
drain has placed an order and applied it in a batch of its own: so the drain provably runs while
verify holds a transaction open, and the test sees which of verify's transactions each pause
fell in. No figure here depends on how fast the machine is.
"""

import threading
from collections import Counter

import pytest
from django.db import connections

from config.databases import read_alias
from orders_write import lookups
from orders_write.services import LineInput, order_confirm, order_place
from projections.order_views import OrderViews
from projections.runtime import rebuild, verify
from projections.runtime.loop import drain, drain_batch
from projections.runtime.registry import consumers

pytestmark = pytest.mark.django_db(transaction=True)


def test_verify_holds_no_checkpoint_lock_and_no_long_transaction(customer, sku, monkeypatch):
    for _ in range(60):
        order_confirm(order_id=order_place(customer_id=customer, lines=[LineInput(sku, 1)]).order_id)
    drain("order_views")
    monkeypatch.setattr(verify, "CHUNK_ROWS", 10)
    monkeypatch.setattr(verify, "BUILD_BATCH", 10)  # the replay's batches
    monkeypatch.setattr(rebuild, "BUILD_BATCH", 10)  # the catch-up's, chunk by chunk
    original_apply = OrderViews.apply
    paused, resume = threading.Event(), threading.Event()
    outcome: dict = {}
    transactions: list = []  # per pause: when verify's transaction began (its ``now()``)

    def apply_after_a_live_batch(self, events, cursor):
        if threading.current_thread().name == "verify":
            cursor.execute("SELECT now()")  # the transaction's start, which also opens it if nothing had yet
            transactions.append(cursor.fetchone()[0])
            resume.clear()
            paused.set()
            assert resume.wait(30), "the live drain never ran while verify held its transaction"
        original_apply(self, events, cursor)

    monkeypatch.setattr(OrderViews, "apply", apply_after_a_live_batch)

    def run_verify() -> None:
        try:
            with connections[read_alias()].cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                outcome["pid"] = cursor.fetchone()[0]
            outcome["differences"] = verify.verify("order_views")
        except BaseException as error:  # reported below
            outcome["error"] = error
        finally:
            connections.close_all()

    worker = threading.Thread(target=run_verify, name="verify")
    worker.start()
    live = []  # per pause: verify's backend state while the live drain ran its batch, and that batch
    with connections[read_alias()].cursor() as watcher:
        while worker.is_alive():
            if not paused.wait(0.05):
                continue
            paused.clear()
            order_place(customer_id=customer, lines=[LineInput(sku, 1)])
            batch = drain_batch(consumers()["order_views"], batch_size=100)
            watcher.execute("SELECT state FROM pg_stat_activity WHERE pid = %s", [outcome["pid"]])
            live.append((watcher.fetchone()[0], batch))
            resume.set()
    worker.join()

    assert "error" not in outcome, outcome["error"]
    assert outcome["differences"] == []
    assert len(live) == len(transactions) >= 10, "verify must run over many batches for the test to mean something"
    for state, batch in live:
        assert state == "idle in transaction", "verify held its transaction open meanwhile"
        assert not batch.locked_elsewhere and batch.events >= 1, "the live drain found the checkpoint free and applied"
    # One transaction per batch of the replay, one per chunk of the comparison: none applies more
    # than the replay's batch, or what the drain applied since the chunk before (at most two here).
    per_transaction = Counter(transactions)
    assert max(per_transaction.values()) <= 2 and len(per_transaction) >= 10, sorted(per_transaction.values())


def test_orders_placed_and_projected_while_verify_reads_the_write_side_are_not_differences(customer, sku, monkeypatch):
    order_place(customer_id=customer, lines=[LineInput(sku, 1)])
    drain("order_views")
    original = lookups.order_facts

    def racing() -> dict:
        facts = original()
        order_place(customer_id=customer, lines=[LineInput(sku, 1)])  # commits and is projected meanwhile
        drain("order_views")
        return facts

    monkeypatch.setattr(lookups, "order_facts", racing)
    assert consumers()["order_views"].write_side_differences(caught_up=True) == []
