"""End to end with the real worker on SQLite: a `qcluster` projects each placed order, nudged by its command.

Everything runs in child processes on a throwaway SQLite file (this test process's Django is
connected to PostgreSQL): `migrate`, the `qcluster`, and a `shell` that places orders through
the domain services and polls the read table with the sqlite3 module every 10 ms. The
once-a-minute sweep is unscheduled first, so only the commands' nudges can have the worker drain
(as in test_worker.py; the latency is measured by `python -m bench.lag`, not asserted here).
"""

import json

import pytest

from projections.tasks import SWEEP_SCHEDULE_NAME
from tests.projections.processes import Qcluster, child_env, manage

ORDERS = 3
VISIBLE_WITHIN = 30  # generous, so a busy machine holds it; without the sweep a missed nudge never projects

UNSCHEDULE_THE_SWEEP = f"""
from django_q.models import Schedule
assert Schedule.objects.filter(name={SWEEP_SCHEDULE_NAME!r}).delete()[0] == 1
"""

PLACE_AND_WAIT = f"""
import json, sqlite3, time
from django.conf import settings
from orders_write.services import LineInput, customer_register, order_place, product_add

customer = customer_register(name="Ada Lovelace", email="ada@example.com").aggregate_id
product_add(sku="SKU-1", name="Widget", price=1250)
reader = sqlite3.connect(settings.DATABASES["default"]["NAME"])
for _ in range({ORDERS}):
    started = time.monotonic()
    order_id = order_place(customer_id=customer, lines=[LineInput(sku="SKU-1", quantity=1)]).order_id
    visible = False
    while not visible and time.monotonic() - started < {VISIBLE_WITHIN}:
        visible = reader.execute("SELECT 1 FROM order_summary WHERE order_id = ?", (order_id,)).fetchone() is not None
        if not visible:
            time.sleep(0.01)
    print("RESULT " + json.dumps({{"order_id": order_id, "visible": visible}}))
"""


@pytest.fixture
def empty_read_tables():
    """Override the PostgreSQL clean-up of this package's conftest: nothing here touches it."""


@pytest.mark.smoke
def test_the_worker_projects_each_placed_order_its_command_nudges_it_for_on_sqlite(tmp_path):
    env = child_env(f"sqlite:///{tmp_path / 'w.sqlite3'}")
    manage(env, "migrate", "--noinput")
    manage(env, "shell", "-c", UNSCHEDULE_THE_SWEEP)
    worker = Qcluster(env)
    try:
        worker.wait_until_running()
        output = manage(env, "shell", "-c", PLACE_AND_WAIT, timeout=120)
    finally:
        worker.stop()
    results = [json.loads(line.removeprefix("RESULT ")) for line in output.splitlines() if line.startswith("RESULT ")]
    assert len(results) == ORDERS, output
    assert all(result["visible"] for result in results), ("the worker never projected an order", results)
