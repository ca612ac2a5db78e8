"""End to end with the real worker: a `qcluster` process projects placed orders within a second."""

import statistics
import time

from django.db import connection

from orders_write.services import LineInput, order_place
from tests.projections.processes import Qcluster, child_env, current_database_url


def _visible(order_id: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM order_summary WHERE order_id = %s", [order_id])
        return cursor.fetchone() is not None


def test_the_worker_projects_placed_orders_within_a_second(customer, sku):
    worker = Qcluster(child_env(current_database_url()))
    try:
        worker.wait_until_running()
        delays = []
        for _ in range(5):
            started = time.monotonic()
            order_id = order_place(customer_id=customer, lines=[LineInput(sku=sku, quantity=1)]).order_id
            while not _visible(order_id) and time.monotonic() - started < 10:
                time.sleep(0.01)
            assert _visible(order_id), "the worker never projected the order"
            delays.append(time.monotonic() - started)
    finally:
        worker.stop()
    assert statistics.median(delays) < 1.0, delays
