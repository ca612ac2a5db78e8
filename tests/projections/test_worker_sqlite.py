"""End to end with the real worker on SQLite: a `qcluster` projects placed orders within a second.

Everything runs in child processes on a throwaway SQLite file (this test process's Django is
connected to PostgreSQL): `migrate`, the `qcluster`, and a `shell` that places orders through
the domain services and polls the read table with the sqlite3 module every 10 ms.
"""

import json
import statistics

import pytest

from tests.projections.processes import Qcluster, child_env, manage

ORDERS = 3

PLACE_AND_WAIT = f"""
import json, sqlite3, time
from django.conf import settings
from orders_write.services import LineInput, customer_register, order_place, product_add

customer = customer_register(name="Ada Lovelace", email="ada@example.com").aggregate_id
product_add(sku="SKU-1", name="Widget", price=1250)
reader = sqlite3.connect(settings.DATABASES["default"]["NAME"])
for _ in range({ORDERS}):
    started = time.monotonic()  # before the command: the delay includes its commit
    order_id = order_place(customer_id=customer, lines=[LineInput(sku="SKU-1", quantity=1)]).order_id
    visible = False
    while not visible and time.monotonic() - started < 10:
        visible = reader.execute("SELECT 1 FROM order_summary WHERE order_id = ?", (order_id,)).fetchone() is not None
        if not visible:
            time.sleep(0.01)
    print("RESULT " + json.dumps({{"order_id": order_id, "visible": visible, "delay": time.monotonic() - started}}))
"""


@pytest.fixture
def empty_read_tables():
    """Override the PostgreSQL clean-up of this package's conftest: nothing here touches it."""


@pytest.mark.smoke
def test_the_worker_projects_placed_orders_within_a_second_on_sqlite(tmp_path):
    env = child_env(f"sqlite:///{tmp_path / 'w.sqlite3'}")
    manage(env, "migrate", "--noinput")
    worker = Qcluster(env)
    try:
        worker.wait_until_running()
        output = manage(env, "shell", "-c", PLACE_AND_WAIT, timeout=120)
    finally:
        worker.stop()
    results = [json.loads(line.removeprefix("RESULT ")) for line in output.splitlines() if line.startswith("RESULT ")]
    assert len(results) == ORDERS, output
    assert all(result["visible"] for result in results), ("the worker never projected an order", results)
    delays = [result["delay"] for result in results]
    assert statistics.median(delays) < 1.0, delays
