"""A slow receiver costs its own deliveries, never the others' (ADR 0027).

A real ``manage.py deliver_webhooks`` child delivers to two receivers on 127.0.0.1: one that
answers a byte a second for ever (slow loris) and a healthy one. Each POST to the slow one ends
at the wall-clock deadline and is recorded as a failed attempt with backoff; no transaction
stays open across a POST; the healthy endpoint keeps receiving everything promptly. With the
per-endpoint cap, a slow endpoint holds at most that many delivery threads.
"""

import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection

from orders_write.services import LineInput, order_place
from tests.api.conftest import until
from tests.projections.processes import ROOT, child_env, current_database_url, stop
from tests.webhooks.helpers import create_endpoint, webhook_client
from tests.webhooks.receiver import Receiver, SlowLoris
from webhooks.delivery import CLAIM_LIMIT, DeliveryWorker
from webhooks.models import WebhookDelivery

pytestmark = pytest.mark.django_db(transaction=True)

WORKER = "webhook-slow-receiver"
DEADLINE_SECONDS = 1.0
# Generous, so a busy machine holds it: what it catches is a POST the trickle keeps alive, which
# without a wall-clock deadline never ends (the per-read timeout restarts at every byte).
SLACK_SECONDS = 3.0
# A claim held across a POST idles in its transaction for a whole round of cut POSTs; a claim or
# a record is a few statements, which even a busy machine ends well within this.
HELD_TRANSACTION_SECONDS = 2.0
# What the healthy endpoint's deliveries are awaited for. The failure it catches is "never" (0 of
# 12 in 91 s, all threads stuck behind the slow receiver); the timing is bench.webhooks's.
FLOW_TIMEOUT_SECONDS = 30


def no_nudge() -> None:
    """No qcluster runs here: the webhook worker drains its relay itself."""


def place(customer: int, sku: str, count: int) -> list[int]:
    return [order_place(customer_id=customer, lines=[LineInput(sku=sku, quantity=1)]).order_id for _ in range(count)]


def transactions_held_over(seconds: float) -> list[tuple[str, float]]:
    """The worker's backends idle inside a transaction for longer than ``seconds``: a claim held across a POST."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT state, EXTRACT(EPOCH FROM now() - state_change)::float FROM pg_stat_activity "
            "WHERE application_name = %s AND state LIKE 'idle in transaction%%' AND now() - state_change > %s",
            [WORKER, timedelta(seconds=seconds)],
        )
        return cursor.fetchall()


def test_a_slow_loris_receiver_is_cut_at_the_deadline_and_the_healthy_endpoint_keeps_receiving(
    private_targets, settings, customer, sku, tmp_path
):
    settings.OUTBOX_NUDGE = f"{__name__}.no_nudge"
    slow = SlowLoris(interval=1.0).start()
    healthy = Receiver(keep_alive=True).start()
    try:
        client = webhook_client()
        slow_endpoint = create_endpoint(client, slow.url, ["OrderPlaced"])
        create_endpoint(client, healthy.url, ["OrderPlaced"])
        first = place(customer, sku, 12)
        env = child_env(current_database_url(application_name=WORKER)) | {
            "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
            "WEBHOOK_DEADLINE_MS": str(int(DEADLINE_SECONDS * 1000)),
            "WEBHOOK_ENDPOINT_CONCURRENCY": "2",
            "WEBHOOK_RETRY_BASE_MS": "3000",
            "OUTBOX_NUDGE": f"{__name__}.no_nudge",
        }
        with (tmp_path / "worker.log").open("w") as log:
            worker = subprocess.Popen(
                [sys.executable, "manage.py", "deliver_webhooks", "--threads", "4"],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        try:
            held: list[tuple[str, float]] = []
            sampling = threading.Event()

            def sample() -> None:  # pg_stat_activity, every 50 ms, for as long as the test runs
                from django.db import connections

                try:
                    while not sampling.is_set():
                        held.extend(transactions_held_over(HELD_TRANSACTION_SECONDS))
                        time.sleep(0.05)
                finally:
                    connections.close_all()

            sampler = threading.Thread(target=sample)
            sampler.start()
            try:
                until(lambda: len(slow.held) >= 1, timeout=30, what="the first POST to the slow receiver")
                until(lambda: len(healthy.accepted()) >= 12, timeout=FLOW_TIMEOUT_SECONDS, what="the first 12")
                # While the slow receiver keeps holding its share of the threads, later orders still flow.
                second = place(customer, sku, 12)
                until(lambda: len(healthy.accepted()) >= 24, timeout=FLOW_TIMEOUT_SECONDS, what="the next 12")
                until(lambda: len(slow.held) - slow.in_flight() >= 6, timeout=30, what="several cut slow POSTs")
                longest_open = max((time.monotonic() - h.opened for h in slow.held if h.closed is None), default=0)
            finally:
                sampling.set()
                sampler.join()
            assert worker.poll() is None, (tmp_path / "worker.log").read_text()
        finally:
            stop(worker, graceful=True)
    finally:
        slow.stop()
        healthy.stop()

    assert {r.event["aggregate_id"] for r in healthy.accepted()} == set(first + second)
    assert held == [], "no transaction stays open across a POST"

    closed = [h for h in slow.held if h.closed is not None]
    assert len(closed) >= 6
    assert max(h.closed - h.opened for h in closed) < DEADLINE_SECONDS + SLACK_SECONDS, "cut at the deadline"
    assert longest_open < DEADLINE_SECONDS + SLACK_SECONDS
    tried = list(WebhookDelivery.objects.filter(endpoint_id=slow_endpoint["webhook_id"], attempts__gte=1))
    assert tried and all(d.state == "pending" for d in tried), "retried, not delivered"
    for delivery in tried:
        assert delivery.error == f"DeadlineExceeded: no complete answer within the {DEADLINE_SECONDS:g} s deadline"
        assert delivery.status_code is None
        assert delivery.duration_ms < (DEADLINE_SECONDS + SLACK_SECONDS) * 1000
        # Backoff: the first retry waits at least half the base delay (jitter 0.5-1.5).
        assert delivery.next_attempt_at - delivery.last_attempt_at >= timedelta(seconds=1.5)
        assert delivery.leased_by is None and delivery.leased_until is None, "the lease ends with the outcome"


@pytest.mark.parametrize("cap", [1, 2])
def test_one_endpoint_never_has_more_deliveries_in_flight_than_its_cap(private_targets, settings, customer, sku, cap):
    settings.WEBHOOK_ENDPOINT_CONCURRENCY = cap
    receiver = Receiver(delay=0.15).start()
    try:
        create_endpoint(webhook_client(), receiver.url, ["OrderPlaced"])
        place(customer, sku, CLAIM_LIMIT + 10)  # more than one claim holds
        worker = DeliveryWorker(threads=4, poll_seconds=0.02)
        running = threading.Thread(target=worker.run)
        running.start()
        try:
            until(lambda: len(receiver.accepted()) >= CLAIM_LIMIT + 10, timeout=60, what="every delivery")
        finally:
            worker.stop.set()
            running.join(timeout=30)
    finally:
        receiver.stop()
    assert receiver.max_in_flight == cap, "up to the cap, never past it, with 4 threads free"
