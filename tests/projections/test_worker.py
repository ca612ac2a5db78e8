"""End to end with the real worker: a `qcluster` process projects each placed order, nudged by its command.

The once-a-minute sweep is unscheduled first, so only the commands' nudges can have the worker
drain: an order that becomes visible was projected by the drain its command (or an earlier one,
debounced) enqueued. How soon is a figure, not a property: `python -m bench.lag` measures commit
to visible with the real qcluster (p99 under 1 s at 200 orders/s, docs/benchmarks.md).
"""

import time

from django.db import connection
from django_q.models import Schedule

from orders_write.services import LineInput, order_place
from projections.tasks import SWEEP_SCHEDULE_NAME
from tests.projections.processes import Qcluster, child_env, current_database_url

# Generous, so a busy machine holds it; without the sweep, an order the nudge missed is never projected.
VISIBLE_WITHIN = 30


def _visible(order_id: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM order_summary WHERE order_id = %s", [order_id])
        return cursor.fetchone() is not None


def test_the_worker_projects_each_placed_order_its_command_nudges_it_for(customer, sku):
    assert Schedule.objects.filter(name=SWEEP_SCHEDULE_NAME).delete()[0] == 1
    worker = Qcluster(child_env(current_database_url()))
    try:
        worker.wait_until_running()
        for _ in range(5):
            started = time.monotonic()
            order_id = order_place(customer_id=customer, lines=[LineInput(sku=sku, quantity=1)]).order_id
            while not _visible(order_id) and time.monotonic() - started < VISIBLE_WITHIN:
                time.sleep(0.01)
            assert _visible(order_id), "the worker never projected the order"
    finally:
        worker.stop()
