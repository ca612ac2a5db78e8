"""Crash drill: a webhook worker process SIGKILLed during deliveries, 10 times, loses nothing.

A real ``manage.py deliver_webhooks`` child fans out and delivers to a receiver on 127.0.0.1
and is killed at random moments while POSTs are in flight. A killed worker's leases run out
(ADR 0027) and its claimed deliveries are attempted again by the next one, so afterwards the
receiver holds every event the endpoint wants (duplicates allowed, each under its event's
``webhook-id``) and each order's events first arrived in version order.
"""

import random
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta

import pytest
from django.db import connection

from orders_write.services import LineInput, order_confirm, order_place
from tests.projections.processes import ROOT, child_env, current_database_url, stop
from tests.webhooks.helpers import create_endpoint, webhook_client
from webhooks.delivery import LEASE_MARGIN_SECONDS, ROUND_SECONDS

pytestmark = pytest.mark.django_db(transaction=True)

ORDERS = 150
KILLS = 10
WORKER = "webhook-crash-drill"
TYPES = ["OrderPlaced", "OrderConfirmed"]
LEASE_SECONDS = ROUND_SECONDS + 1 + LEASE_MARGIN_SECONDS  # the workers' lease with a 1 s deadline


def no_nudge() -> None:
    """No qcluster runs here: the webhook worker drains its relay itself."""


def worker_backends() -> list[str]:
    """States of the worker's server backends."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT state FROM pg_stat_activity WHERE application_name = %s", [WORKER])
        return [row[0] for row in cursor.fetchall()]


def database_now() -> datetime:
    with connection.cursor() as cursor:
        cursor.execute("SELECT clock_timestamp()")
        return cursor.fetchone()[0]


def leased_since(started: datetime) -> int:
    """Deliveries claimed since ``started`` whose outcome is not recorded (their lease is held)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM webhook_delivery WHERE leased_until > %s",
            [started + timedelta(seconds=LEASE_SECONDS)],
        )
        return cursor.fetchone()[0]


def wait_for(condition, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)


def wanted_event_ids() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT event_id FROM outbox_event WHERE event_type = ANY(%s)", [TYPES])
        return {str(row[0]) for row in cursor.fetchall()}


def start_worker(env: dict[str, str], log) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "deliver_webhooks", "--threads", "4"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip


def test_a_worker_killed_during_deliveries_ten_times_loses_nothing(
    settings, receiver, customer, sku, tmp_path, private_targets
):
    settings.OUTBOX_NUDGE = f"{__name__}.no_nudge"
    create_endpoint(webhook_client(), receiver.url, TYPES)
    for index in range(ORDERS):
        order_id = order_place(customer_id=customer, lines=[LineInput(sku=sku, quantity=1)]).order_id
        if index % 2 == 0:
            order_confirm(order_id=order_id)
    receiver.delay = 0.01  # deliveries take a moment: kills land with POSTs in flight
    env = child_env(current_database_url(application_name=WORKER)) | {
        "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
        "WEBHOOK_RETRY_BASE_MS": "50",
        # Short leases (a 1 s deadline: 16 s), and no cap binding: the dead workers' leases would hold
        # the one endpoint at its cap until they run out, and this drill is about what they leave.
        "WEBHOOK_DEADLINE_MS": "1000",
        "WEBHOOK_ENDPOINT_CONCURRENCY": "100",
        "OUTBOX_NUDGE": f"{__name__}.no_nudge",
    }
    rng = random.Random(14)
    kills_mid_delivery = 0
    for kill in range(KILLS):
        before = len(receiver.requests)
        started = database_now()
        with (tmp_path / f"worker-{kill}.log").open("w") as log:
            worker = start_worker(env, log)
        try:
            wait_for(lambda: len(receiver.requests) > before or worker.poll() is not None, "a delivery")  # noqa: B023
            time.sleep(rng.uniform(0, 0.2))
            assert worker.poll() is None, (tmp_path / f"worker-{kill}.log").read_text()
            kills_mid_delivery += leased_since(started) > 0
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=10)
        finally:
            stop(worker)
        wait_for(lambda: not worker_backends(), "the killed worker's backends to end")

    wanted = wanted_event_ids()
    with (tmp_path / "worker-final.log").open("w") as log:
        worker = start_worker(env, log)
    try:
        wait_for(lambda: {r.event["event_id"] for r in receiver.requests} >= wanted, "every event delivered", 120)
    finally:
        stop(worker, graceful=True)

    received = {r.event["event_id"] for r in receiver.requests}
    assert received == wanted, "the receiver's event ids equal the outbox's for the endpoint's types"
    assert all(r.headers["webhook-id"] == r.event["event_id"] for r in receiver.requests)
    first_arrival: dict[int, list[int]] = {}
    for request in receiver.requests:
        versions = first_arrival.setdefault(request.event["aggregate_id"], [])
        if request.event["aggregate_version"] not in versions:
            versions.append(request.event["aggregate_version"])
    assert all(versions == sorted(versions) for versions in first_arrival.values()), "version order per order"
    assert kills_mid_delivery >= KILLS // 2, f"only {kills_mid_delivery} kills landed with deliveries claimed"
