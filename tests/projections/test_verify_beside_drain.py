"""Verify runs beside the live drain (property 12): no checkpoint lock, no long transaction.

Verify is slowed down (its shadow ``apply`` sleeps, its batches and chunks are tiny) so it runs
over many transactions while orders keep being placed and drained. Every drain batch must find
the checkpoint free, and no transaction of verify's connection may stay open for long.
"""

import threading
import time

import psycopg
import pytest
from django.db import connection, connections

from orders_write import lookups
from orders_write.services import LineInput, order_confirm, order_place
from projections.order_views import OrderViews
from projections.runtime import rebuild, verify
from projections.runtime.loop import drain, drain_batch
from projections.runtime.registry import consumers

pytestmark = pytest.mark.django_db(transaction=True)

SLOW_APPLY_SECONDS = 0.05


def _url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def test_verify_holds_no_checkpoint_lock_and_no_long_transaction(customer, sku, monkeypatch):
    for _ in range(60):
        order_confirm(order_id=order_place(customer_id=customer, lines=[LineInput(sku, 1)]).order_id)
    drain("order_views")
    monkeypatch.setattr(verify, "CHUNK_ROWS", 10)
    monkeypatch.setattr(rebuild, "BUILD_BATCH", 10)
    original_apply = OrderViews.apply

    def slow_apply(self, events, cursor):
        if threading.current_thread().name == "verify":
            time.sleep(SLOW_APPLY_SECONDS)
        original_apply(self, events, cursor)

    monkeypatch.setattr(OrderViews, "apply", slow_apply)
    outcome: dict = {}

    def run_verify() -> None:
        outcome["pid"] = connections["default"].cursor().connection.info.backend_pid
        try:
            outcome["differences"] = verify.verify("order_views")
        finally:
            connections.close_all()

    worker = threading.Thread(target=run_verify, name="verify")
    started = time.monotonic()
    worker.start()
    longest, drained, free = 0.0, 0, 0
    with psycopg.connect(_url(), autocommit=True) as watcher:
        while worker.is_alive():
            order_place(customer_id=customer, lines=[LineInput(sku, 1)])
            result = drain_batch(consumers()["order_views"], batch_size=100)
            free += not result.locked_elsewhere
            drained += result.events
            if "pid" in outcome:
                (age,) = watcher.execute(
                    "SELECT COALESCE(EXTRACT(EPOCH FROM now() - xact_start), 0) FROM pg_stat_activity WHERE pid = %s",
                    [outcome["pid"]],
                ).fetchone() or (0,)
                longest = max(longest, float(age))
            time.sleep(0.01)
    worker.join()
    took = time.monotonic() - started

    assert took > 1.0, "verify must run long enough for the test to mean something"
    assert drained > 10 and free > 10, "the drain kept applying events while verify ran"
    assert longest < min(0.5, took / 4), (longest, took)
    assert outcome["differences"] == []


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
