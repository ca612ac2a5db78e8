"""End to end with the real worker: a `qcluster` process projects placed orders within a second."""

import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

from django.db import connection

from orders_write.services import LineInput, order_place

ROOT = Path(__file__).resolve().parents[2]


def _start_worker() -> subprocess.Popen:
    settings = connection.settings_dict
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},
        "DATABASE_URL": f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}",
        "Q_WORKERS": "1",
    }
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    for line in worker.stdout:
        if "running" in line:
            return worker
        if time.monotonic() > deadline:
            break
    worker.kill()
    raise AssertionError("qcluster did not start")


def _visible(order_id: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM order_summary WHERE order_id = %s", [order_id])
        return cursor.fetchone() is not None


def test_the_worker_projects_placed_orders_within_a_second(customer, sku):
    worker = _start_worker()
    try:
        delays = []
        for _ in range(5):
            started = time.monotonic()
            order_id = order_place(customer_id=customer, lines=[LineInput(sku=sku, quantity=1)]).order_id
            while not _visible(order_id) and time.monotonic() - started < 10:
                time.sleep(0.01)
            assert _visible(order_id), "the worker never projected the order"
            delays.append(time.monotonic() - started)
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
    assert statistics.median(delays) < 1.0, delays
