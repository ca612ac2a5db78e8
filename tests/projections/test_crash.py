"""Crash drill: drainer processes killed with SIGKILL mid-batch leave nothing half-applied.

A real ``manage.py drain_projections`` process is killed again and again at random moments
after it has committed at least one batch. PostgreSQL rolls back the batch it was in (rows
and checkpoint together), the next drain resumes from the last committed checkpoint, and
once a final drain has run the read tables equal a rebuild from the log and daily revenue
is exact to the cent.
"""

import random
import signal
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

import pytest
from django.db import connection
from django.db.models import Sum

from events import OrderStatus
from orders_read.queries.reports import sales_summary
from orders_write.models import Order
from orders_write.services import LineInput, order_cancel, order_confirm, order_place
from projections.order_views import OrderViews
from projections.runtime.loop import drain, drain_all, drain_batch, ensure_checkpoints
from projections.runtime.registry import projections
from projections.runtime.verify import verify
from tests.projections.processes import ROOT, child_env, current_database_url, stop

pytestmark = pytest.mark.django_db(transaction=True)

ORDERS = 3000
KILLS = 5
DRAINER = "crash-drill-drainer"  # the drainer's application_name, to find its backend


def no_nudge() -> None:
    """No worker runs in this test: the drainers are started by hand (and placing is faster)."""


def events_applied(name: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT events_applied FROM projection_checkpoint WHERE projection = %s", [name])
        row = cursor.fetchone()
    return 0 if row is None else row[0]


def drainer_backends() -> list[str]:
    """States of the drainer's server backends (``active``, ``idle in transaction``, ...)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT state FROM pg_stat_activity WHERE application_name = %s", [DRAINER])
        return [row[0] for row in cursor.fetchall()]


def wait_for(condition, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)


def place_orders(customer: int, skus: list[str], rng: random.Random) -> None:
    for index in range(ORDERS):
        lines = [LineInput(sku=sku, quantity=rng.randint(1, 5)) for sku in rng.sample(skus, rng.randint(1, 3))]
        order_id = order_place(customer_id=customer, lines=lines).order_id
        if index % 5 == 0:
            order_cancel(order_id=order_id, reason="crash drill")
        elif index % 10 == 1:
            order_confirm(order_id=order_id)


def start_and_kill_a_drainer(name: str, env: dict[str, str], log: Path, rng: random.Random) -> bool:
    """Start a drainer of ``name``, SIGKILL it a random moment after its first commit; say whether
    its backend was then inside a transaction (a batch open)."""
    before = events_applied(name)
    with log.open("w") as output:
        drainer = subprocess.Popen(
            [sys.executable, "manage.py", "drain_projections", "--projection", name, "--batch-size", "50"],
            cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_for(lambda: events_applied(name) > before or drainer.poll() is not None, "a committed batch")
        time.sleep(rng.uniform(0, 0.3))
        assert drainer.poll() is None, "the drain ended before it was killed:\n" + log.read_text()
        in_a_batch = bool({"active", "idle in transaction"} & set(drainer_backends()))
        drainer.send_signal(signal.SIGKILL)
        drainer.wait(timeout=10)
    finally:
        stop(drainer)
    # The server notices the dead client, rolls its open batch back and frees the checkpoint
    # row; until then the next drainer would find the checkpoint locked and do nothing.
    wait_for(lambda: not drainer_backends(), "the killed drainer's backend to end")
    return in_a_batch


def test_drainers_killed_mid_batch_leave_the_projections_exact(customer, make_product, settings, tmp_path):
    settings.OUTBOX_NUDGE = f"{__name__}.no_nudge"
    rng = random.Random(20240601)
    skus = [make_product(price=price) for price in (199, 1250, 4999, 10_000, 37)]
    place_orders(customer, skus, rng)
    env = child_env(current_database_url(application_name=DRAINER))

    names = sorted(projections())
    kills_in_a_batch = sum(
        start_and_kill_a_drainer(names[kill % len(names)], env, tmp_path / f"drainer-{kill}.log", rng)
        for kill in range(KILLS)
    )
    assert kills_in_a_batch, "no kill landed while a batch was open"
    drain_all()

    for name in names:
        assert verify(name) == [], name
    revenue = sales_summary(start=date(2000, 1, 1), end=date(2100, 12, 31))["revenue"]
    assert revenue == Order.objects.exclude(status=OrderStatus.CANCELLED).aggregate(total=Sum("total"))["total"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*), COUNT(DISTINCT order_id) FROM order_summary")
        assert cursor.fetchone() == (ORDERS, ORDERS)
    assert Order.objects.count() == ORDERS


def test_a_frozen_drainer_is_cut_off_and_the_projection_moves_on(customer, sku, settings):
    """A drainer that stops talking mid-batch (here: blocked inside ``apply`` in a thread, as a
    hung worker would be) holds the checkpoint until PostgreSQL ends its idle transaction."""
    settings.OUTBOX_NUDGE = f"{__name__}.no_nudge"
    settings.PROJECTION_BATCH_IDLE_TIMEOUT = 1
    for _ in range(20):
        order_place(customer_id=customer, lines=[LineInput(sku=sku, quantity=1)])
    ensure_checkpoints(["order_views"])
    frozen, release = threading.Event(), threading.Event()

    class HungOrderViews(OrderViews):
        def apply(self, events, cursor):
            frozen.set()
            release.wait(timeout=30)
            super().apply(events, cursor)

    outcome: list[BaseException] = []

    def hung_drainer() -> None:
        try:
            drain_batch(HungOrderViews(), batch_size=50)
        except BaseException as error:  # the server ended its session: that is the point
            outcome.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=hung_drainer)
    thread.start()
    try:
        assert frozen.wait(timeout=10)
        assert drain_batch(OrderViews(), batch_size=50).locked_elsewhere, "the hung batch holds the checkpoint"
        wait_for(lambda: not drain_batch(OrderViews(), batch_size=50).locked_elsewhere, "the lock to be freed", 15)
    finally:
        release.set()
        thread.join(timeout=30)
    assert outcome, "the hung drainer's transaction should have been ended by the server"
    drain("order_views")
    assert verify("order_views") == []
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM order_summary")
        assert cursor.fetchone()[0] == 20
