"""Acceptance: ``/metrics`` under a real gunicorn with two workers, after real commands and a real drain.

gunicorn (single-threaded sync workers, so concurrent requests spread over both) and ``manage.py
drain_projections`` run as subprocesses sharing one ``PROMETHEUS_MULTIPROC_DIR`` and the test
database (committed data: a transactional test). The test reads each worker's value file
itself and checks that every scrape, whichever worker answers it, reports their sum; that the
lag gauges count the placed orders, then drop to zero once the drain ran; that a killed worker's
counts stay; and that no label of ours holds an id or a path.
"""

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.db import connection
from prometheus_client.mmap_dict import MmapedDict

from api.tokens import api_token_issue
from bench import stack
from projections.runtime.registry import consumers
from tests.api.conftest import make_user
from tests.observability.scraping import samples, unbounded_labels, value

ROUND = 16
MAX_ROUNDS = 10
TOKEN = "metrics-test-token-0123456789"


def _database_url() -> str:
    settings = connection.settings_dict
    return (
        f"postgres://{settings['USER']}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}/{settings['NAME']}"
    )


@pytest.fixture
def web(projected, tmp_path):
    """gunicorn with 2 sync workers on the test database, metrics in ``tmp_path / "metrics"``."""
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    env = stack.stack_env(
        _database_url(),
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
        METRICS_TOKEN=TOKEN,
        COMMAND_THROTTLE_RATE="off",
        OUTBOX_NUDGE="tests.observability.test_gunicorn_metrics.no_nudge",  # nothing drains until the test does
    )
    port = stack.free_port()
    args = [str(Path(sys.executable).parent / "gunicorn"), "config.wsgi", "--bind", f"127.0.0.1:{port}",
            "--workers", "2", "--worker-class", "sync", "--threads", "1", "--access-logfile", "/dev/null"]  # fmt: skip
    child = stack.Child(f"metrics-test-{port}", args, env).start()
    try:
        stack.wait_for_http(port, "/health/live", child=child)
        deadline = time.monotonic() + 60
        while child.log_text().count("Booting worker") < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}", env, metrics_dir, child
    finally:
        child.stop()


def no_nudge() -> None:
    """The commands' after-commit nudge, here: do nothing (the test drains when it chooses)."""


def _post(url: str, token: str, body: dict) -> tuple[int, int]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), method="POST",
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json", "Connection": "close"},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, json.loads(response.read())["position"]


def _get(url: str, token: str) -> int:
    request = urllib.request.Request(url, headers={"Authorization": f"Token {token}", "Connection": "close"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def scrape(base: str) -> dict:
    request = urllib.request.Request(f"{base}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return samples(response.read().decode())


def placed_per_process(metrics_dir: Path) -> dict[int, float]:
    """``orders_commands_total{command="order_place",outcome="ok"}`` in each process's own file."""
    found = {}
    for path in metrics_dir.glob("counter_*.db"):
        for key, number, _, _ in MmapedDict.read_all_values_from_file(str(path)):
            _, sample, labels, _ = json.loads(key)
            if sample == "orders_commands_total" and labels == {"command": "order_place", "outcome": "ok"}:
                found[int(path.stem.rsplit("_", 1)[1])] = number
    return found


def test_metrics_sum_both_workers_and_lag_moves_with_the_drain(web, customer, sku):
    base, env, metrics_dir, child = web
    token = api_token_issue(user=make_user(superuser=True))[1]
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{base}/metrics", timeout=30)
    assert refused.value.code == 401

    before = scrape(base)
    body = {"customer_id": customer, "lines": [{"sku": sku, "quantity": 1}]}
    placed, newest = 0, 0
    with ThreadPoolExecutor(max_workers=ROUND + 1) as pool:
        # Rounds of concurrent placements until both workers have placed some. On an idle machine one
        # worker can win every accept, so after the first round a read that waits for an undrained
        # position (read-your-writes, about 2 s) holds whichever worker takes it while the round runs.
        for round_number in range(MAX_ROUNDS):
            blocker = None
            if round_number:
                blocker = pool.submit(_get, f"{base}/api/orders/?min_position={newest}", token)
                time.sleep(0.3)
            answers = list(pool.map(lambda _: _post(f"{base}/api/orders/", token, body), range(ROUND)))
            assert [status for status, _ in answers] == [201] * ROUND
            newest = max(position for _, position in answers)
            placed += ROUND
            if blocker is not None:
                assert blocker.result() == 503  # nothing drains: the wait ran out, holding its worker
            if len(placed_per_process(metrics_dir)) == 2:
                break
    per_process = placed_per_process(metrics_dir)
    assert len(per_process) == 2 and all(per_process.values()), per_process  # both workers placed orders
    assert sum(per_process.values()) == placed
    lagging = scrape(base)
    for _ in range(4):  # whichever worker answers, the figure is the sum over both
        assert value(scrape(base), "orders_commands_total", command="order_place", outcome="ok") == placed
    assert value(lagging, "orders_http_requests_total", route="api:order-list", method="POST", status="201") == placed
    assert value(lagging, "orders_command_duration_seconds_count", command="order_place") == placed
    for name in consumers():
        assert (
            value(lagging, "orders_consumer_lag_events", consumer=name)
            - value(before, "orders_consumer_lag_events", consumer=name)
            == placed
        )
        assert value(lagging, "orders_consumer_lag_seconds", consumer=name) > 0
        assert value(lagging, "orders_consumer_batch_duration_seconds_count", consumer=name) == 0
    assert value(lagging, "orders_outbox_head_position") >= placed

    drained = subprocess.run(
        [sys.executable, "manage.py", "drain_projections"], cwd=stack.ROOT, env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert drained.returncode == 0, drained.stderr
    caught_up = scrape(base)
    for name in consumers():
        assert value(caught_up, "orders_consumer_lag_events", consumer=name) == 0
        assert value(caught_up, "orders_consumer_lag_seconds", consumer=name) == 0
        assert value(caught_up, "orders_consumer_state", consumer=name, state="idle") == 1
        applied = value(caught_up, "orders_consumer_events_applied_total", consumer=name)
        assert applied - value(lagging, "orders_consumer_events_applied_total", consumer=name) >= placed
        # recorded by the drain process, read from the shared directory
        assert value(caught_up, "orders_consumer_batch_duration_seconds_count", consumer=name) >= 1
        assert value(caught_up, "orders_consumer_batch_events_total", consumer=name) >= placed

    victim = next(iter(per_process))
    os.kill(victim, signal.SIGKILL)  # gunicorn replaces it (child_exit marks it dead); its counts stay
    deadline = time.monotonic() + 30
    while child.log_text().count("Booting worker") < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert child.log_text().count("Booting worker") == 3
    assert value(scrape(base), "orders_commands_total", command="order_place", outcome="ok") == placed
    assert unbounded_labels(scrape(base)) == []


def test_the_label_check_catches_an_id_or_a_path():
    text = 'orders_x_total{route="/api/orders/7/"} 1\norders_y_total{order="12345"} 1\norders_z_total{s="ok"} 1\n'
    assert {label for _, label, _ in unbounded_labels(samples(text))} == {"route", "order"}


HEALTH_CALLS = 8


def test_without_a_directory_gunicorn_gives_its_workers_one_for_the_run(projected, make_order):
    """No ``PROMETHEUS_MULTIPROC_DIR``: gunicorn.conf.py makes one for the run, so every scrape still
    reports both workers' sum (each worker used to count for itself), and removes it at exit (ADR 0026)."""
    position = make_order().position  # not drained: a read waiting for it holds its worker ~2 s
    token = api_token_issue(user=make_user(superuser=True))[1]
    env = stack.stack_env(_database_url(), METRICS_TOKEN=TOKEN, COMMAND_THROTTLE_RATE="off")
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    port = stack.free_port()
    args = [str(Path(sys.executable).parent / "gunicorn"), "config.wsgi", "--bind", f"127.0.0.1:{port}",
            "--workers", "2", "--worker-class", "sync", "--access-logfile", "/dev/null"]  # fmt: skip
    child = stack.Child(f"metrics-per-run-{port}", args, env).start()
    base = f"http://127.0.0.1:{port}"
    try:
        stack.wait_for_http(port, "/health/live", child=child)
        deadline = time.monotonic() + 60
        while child.log_text().count("Booting worker") < 2 and time.monotonic() < deadline:
            time.sleep(0.1)

        before = scrape(base)
        with ThreadPoolExecutor(max_workers=1) as pool:
            # One worker waits for the undrained position; every health check meanwhile goes to the other.
            blocker = pool.submit(_get, f"{base}/api/orders/?min_position={position}", token)
            time.sleep(0.3)
            for _ in range(HEALTH_CALLS):
                with urllib.request.urlopen(
                    urllib.request.Request(f"{base}/health/live", headers={"Connection": "close"}), timeout=30
                ) as response:
                    assert response.status == 200
            assert blocker.result() == 503
        for _ in range(4):  # whichever worker answers, the figures are both workers' sum
            scraped = scrape(base)
            assert value(scraped, "orders_http_requests_total", route="api:order-list", method="GET", status="503") == 1
            assert (
                value(scraped, "orders_http_requests_total", route="health-live", method="GET", status="200")
                - value(before, "orders_http_requests_total", route="health-live", method="GET", status="200")
                == HEALTH_CALLS
            )
        said = re.search(r"PROMETHEUS_MULTIPROC_DIR is unset: the workers' metrics meet in (\S+) ", child.log_text())
        assert said is not None, child.log_text()
        directory = Path(said.group(1))
        assert directory.is_dir()
        workers = {int(pid) for pid in Path(f"/proc/{child.pid}/task/{child.pid}/children").read_text().split()}
        written = {int(path.stem.rsplit("_", 1)[1]) for path in directory.glob("counter_*.db")}
        assert len(workers) == 2 and workers <= written, (workers, written)
    finally:
        child.stop()
    assert not directory.exists()  # this run's, removed at exit
