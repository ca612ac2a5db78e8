"""Idle workers trace (almost) nothing: a real qcluster and webhook worker exporting to a real OTLP receiver.

Before ADR 0029 an idle worker sent a root span per broker poll and per idle-loop statement, and
a span per empty drain batch: thousands of traces a minute. Idle now, they send none; the one
order placed at the end shows the export works and a batch that did work is traced.
"""

import subprocess
import sys
import time

import pytest

from orders_write.services import LineInput, order_place
from projections.runtime.status import consumer_health
from tests.observability.otlp_receiver import OtlpReceiver
from tests.projections.processes import ROOT, Qcluster, child_env, current_database_url, stop

IDLE_SECONDS = 12
FLUSH_MS = 200  # the SDK's batch export interval in the children: spans reach the receiver at once


@pytest.fixture
def receiver():
    server = OtlpReceiver()
    yield server
    server.close()


def wait_for(condition, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def settled(receiver: OtlpReceiver) -> bool:
    """Say whether no span arrived for five export intervals."""
    count = len(receiver.received())
    time.sleep(5 * FLUSH_MS / 1000)
    return len(receiver.received()) == count


def test_idle_workers_export_no_span_and_a_batch_that_did_work_is_traced(projected, receiver, customer, sku, tmp_path):
    env = child_env(current_database_url()) | {
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
        "OTEL_BSP_SCHEDULE_DELAY": str(FLUSH_MS),
        "OTEL_SERVICE_NAME": "idle-worker",
    }
    worker = Qcluster(env)
    with (tmp_path / "webhooks.log").open("w") as log:
        webhooks = subprocess.Popen(
            [sys.executable, "manage.py", "deliver_webhooks", "--threads", "2"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        worker.wait_until_running()
        wait_for(lambda: not any(row.lag_events for row in consumer_health()), "the fixtures' events drained")
        wait_for(lambda: settled(receiver), "the start-up's spans exported")  # start-up is not idling
        before = len(receiver.received())
        time.sleep(IDLE_SECONDS)
        idle = receiver.received()[before:]
        assert webhooks.poll() is None, (tmp_path / "webhooks.log").read_text()

        order_place(customer_id=customer, lines=[LineInput(sku=sku, quantity=1)])
        wait_for(lambda: any(s.name == "drain order_views" for s in receiver.received()), "the batch's span")
    finally:
        worker.stop()
        stop(webhooks, graceful=True)
    # Measured before the fix: about a hundred root statement spans a second from these two processes.
    assert len(idle) <= 3, sorted({(s.name, s.has_parent) for s in idle})
    worked = receiver.received()[before + len(idle) :]
    assert {s.service for s in worked} == {"idle-worker"}
    assert any(s.has_parent and s.name in ("INSERT", "UPDATE") for s in worked)  # the batch's statements, children
