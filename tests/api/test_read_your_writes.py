"""Read-your-writes over HTTP: ``min_position`` waits (bounded) for the projections behind a query.

The worker is django-q2: in sync mode (``Conf.SYNC``) the command's after-commit nudge drains
in-process before the response; otherwise the nudge only enqueues a task no worker runs here,
so the read side stays behind until the test drains.
"""

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db import connection, connections, transaction
from django_q.conf import Conf
from prometheus_client import REGISTRY

from config.databases import read_alias
from observability.instruments import READ_YOUR_WRITES_OUTCOMES
from orders_write.services import LineInput, order_place
from projections.models import Checkpoint


@pytest.fixture
def no_worker(monkeypatch):
    monkeypatch.setattr(Conf, "SYNC", False)


@pytest.fixture
def short_wait(settings):
    settings.READ_YOUR_WRITES_TIMEOUT = 0.3
    return 0.3


def place_over_http(client, customer: int, sku: str) -> dict:
    response = client.post(
        "/api/orders/", {"customer_id": customer, "lines": [{"sku": sku, "quantity": 2}]}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert type(body["position"]) is int and body["position"] > 0
    return body


def timed_get(client, path: str, params: dict):
    started = time.monotonic()
    response = client.get(path, params)
    return response, time.monotonic() - started


@contextmanager
def watermark_looks() -> Iterator[list[float]]:
    """Record when each look at the watermark began (a read of the checkpoints) on this thread's connection.

    A query looks once before it decides to wait, then once per poll of its wait.
    """
    started: list[float] = []

    def record(execute, sql, params, many, context):
        if "projection_checkpoint" in sql:
            started.append(time.monotonic())
        return execute(sql, params, many, context)

    with connections[read_alias()].execute_wrapper(record):
        yield started


def assert_waited_the_timeout_and_no_longer(looks: list[float], waited: float, timeout: float) -> None:
    """The wait ran out its ``timeout``, and ended at its first look past the deadline.

    Neither bound depends on how busy the machine is: the deadline is set before the first poll
    (``looks[1]``), and every poll but the last began before it, or the wait would have ended
    there; a wait of another length (the 2 s default instead of the setting) fails the second.
    """
    assert waited >= timeout, "it waits the configured time"
    assert len(looks) >= 2, "one look before deciding to wait, then at least one poll"
    assert looks[-2] - looks[1] < timeout, "no poll began after the deadline but the last"


def waits_entered() -> float:
    """Queries of this process that entered a read-your-writes wait (the metric counts each once, as it ends)."""
    return sum(
        REGISTRY.get_sample_value("orders_read_your_writes_waits_total", {"outcome": outcome}) or 0.0
        for outcome in READ_YOUR_WRITES_OUTCOMES
    )


def position_header(response) -> int:
    return int(response["X-Projection-Position"])


def assert_lagging(response, min_position: int) -> int:
    assert response.status_code == 503, response.content
    error = response.json()["error"]
    assert error["code"] == "projection_lagging"
    assert response["Retry-After"] == "1"
    assert set(error["details"]) == {"min_position", "position"}
    assert error["details"]["min_position"] == min_position
    assert error["details"]["position"] < min_position
    assert error["details"]["position"] == position_header(response)
    return error["details"]["position"]


# --- (a) a worker that drains at once --------------------------------------------------------


def test_with_a_sync_worker_a_client_reads_its_write_at_once(
    clerk_client, projected, make_customer, make_product, monkeypatch, settings
):
    monkeypatch.setattr(Conf, "SYNC", True)
    settings.READ_YOUR_WRITES_TIMEOUT = 0  # one look only: a 200 proves nothing had to be waited for
    # Created with the worker already in sync mode: no stale debounce mark from an earlier nudge.
    customer, sku = make_customer("Ada"), make_product(price=800)
    # The in-process drain sees only events below the oldest transaction open on the whole
    # PostgreSQL cluster, which other test runs sharing the server keep moving; when one held it
    # back, a fresh order gets a fresh drain (bounded: a worker that never drains still fails).
    deadline = time.monotonic() + 30
    while True:
        placed = place_over_http(clerk_client, customer, sku)
        response = clerk_client.get(f"/api/orders/{placed['order_id']}/", {"min_position": placed["position"]})
        if response.status_code != 503 or time.monotonic() > deadline:
            break
        time.sleep(0.2)

    assert response.status_code == 200, response.content
    assert position_header(response) >= placed["position"]
    body = response.json()
    assert (body["order_id"], body["customer_id"], body["status"], body["total"]) == (
        placed["order_id"],
        customer,
        "PENDING",
        1600,
    )
    assert [(line["sku"], line["quantity"]) for line in body["lines"]] == [(sku, 2)]

    stats = clerk_client.get(f"/api/customers/{customer}/", {"min_position": placed["position"]})
    assert stats.status_code == 200, stats.content
    assert stats.json()["lifetime_value"] == 1600 * stats.json()["order_count"]
    listed = clerk_client.get(f"/api/customers/{customer}/orders/", {"min_position": placed["position"]})
    assert listed.json()["results"][0]["order_id"] == placed["order_id"]


# --- (b) a read side that has not caught up --------------------------------------------------


def test_a_lagging_projection_is_a_503_with_retry_after_then_the_retry_succeeds(
    clerk_client, drain, customer, sku, no_worker, short_wait
):
    drain()
    placed = place_over_http(clerk_client, customer, sku)
    path, params = f"/api/orders/{placed['order_id']}/", {"min_position": placed["position"]}

    with watermark_looks() as looks:
        response, waited = timed_get(clerk_client, path, params)

    assert_lagging(response, placed["position"])
    assert_waited_the_timeout_and_no_longer(looks, waited, short_wait)

    drain()
    retry = clerk_client.get(path, params)
    assert retry.status_code == 200, retry.content
    assert retry.json()["order_id"] == placed["order_id"]
    assert position_header(retry) >= placed["position"]


def test_the_default_wait_is_about_two_seconds(clerk_client, drain, customer, sku, no_worker):
    drain()
    placed = place_over_http(clerk_client, customer, sku)

    with watermark_looks() as looks:
        response, waited = timed_get(
            clerk_client, f"/api/orders/{placed['order_id']}/", {"min_position": placed["position"]}
        )

    assert_lagging(response, placed["position"])
    assert_waited_the_timeout_and_no_longer(looks, waited, 2.0)


@contextmanager
def checkpoint_row_locked(projection: str) -> Iterator[None]:
    """Hold the projection's checkpoint row lock from another connection, as a busy drainer would;
    fail if anything in the block waited for it (the block then ends only when the holder gives up)."""
    locked, release, failures = threading.Event(), threading.Event(), []

    def hold() -> None:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    "SELECT projection FROM projection_checkpoint WHERE projection = %s FOR UPDATE", [projection]
                )
                assert cursor.fetchone() == (projection,)
                locked.set()
                # Released by the test as soon as its block ends; anything in the block that
                # waited on this lock would have held it here until the timeout.
                if not release.wait(30):
                    raise AssertionError(f"the block waited on {projection}'s checkpoint lock")
        except BaseException as error:  # reported to the test below
            failures.append(error)
            locked.set()
        finally:
            connection.close()

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    assert locked.wait(10) and not failures, failures
    try:
        yield
    finally:
        release.set()
        holder.join(10)
    assert not failures, failures


def test_a_drain_blocked_by_a_busy_drainer_leaves_the_query_lagging_without_blocking_it(
    clerk_client, drain, make_customer, make_product, monkeypatch, short_wait
):
    monkeypatch.setattr(Conf, "SYNC", True)
    customer, sku = make_customer(), make_product()
    drain()  # the checkpoint rows exist

    with checkpoint_row_locked("order_views"):
        placed = place_over_http(clerk_client, customer, sku)  # its sync drain skips the locked projection
        response = clerk_client.get(f"/api/orders/{placed['order_id']}/", {"min_position": placed["position"]})
        assert_lagging(response, placed["position"])  # answered while the lock is still held: never waited on it

    drain()
    retry = clerk_client.get(f"/api/orders/{placed['order_id']}/", {"min_position": placed["position"]})
    assert retry.status_code == 200, retry.content


@pytest.mark.parametrize("past_the_head", [1, 1000])
def test_a_position_beyond_the_head_is_a_400_at_once_everywhere(
    admin_client_api, drain, customer, sku, no_worker, short_wait, past_the_head
):
    """No client can hold a position the outbox has not reached: refused at once, never waited for (ADR 0023)."""
    order_id = order_place(customer_id=customer, lines=[LineInput(sku, 1)]).order_id
    order_place(customer_id=customer, lines=[LineInput(sku, 2)])  # not drained: the wait path, not the fast one
    head = position_header(admin_client_api.get(f"/api/orders/{order_id}/history/"))
    beyond = head + past_the_head
    entered = waits_entered()

    for path in (f"/api/orders/{order_id}/", f"/api/orders/{order_id}/history/", "/api/reports/summary/"):
        with watermark_looks() as looks:
            response = admin_client_api.get(path, {"min_position": beyond})
        assert response.status_code == 400, response.content
        error = response.json()["error"]
        assert error["code"] == "validation_error" and set(error["details"]) == {"min_position"}
        assert str(head) in error["details"]["min_position"][0]
        assert len(looks) <= 1, f"{path}: {len(looks)} looks at the watermark: it polled"
    assert waits_entered() == entered, "no wait was entered"
    # The head itself is a position a command returned: it is waited for, as before (and counted).
    with watermark_looks() as looks:
        assert_lagging(admin_client_api.get(f"/api/orders/{order_id}/", {"min_position": head}), head)
    assert waits_entered() == entered + 1 and len(looks) >= 2


# --- (c) bad positions -----------------------------------------------------------------------


@pytest.mark.parametrize("min_position", [-1, "x", "1.5", 2**63])
@pytest.mark.parametrize(
    "path",
    [
        "/api/orders/1/",
        "/api/orders/",
        "/api/orders/1/history/",
        "/api/customers/1/",
        "/api/customers/1/orders/",
        "/api/reports/summary/",
        "/api/reports/daily-sales/",
        "/api/reports/top-products/",
        "/api/reports/top-customers/",
        "/api/projections/",
    ],
)
def test_a_bad_min_position_is_a_400(admin_client_api, path, min_position):
    response = admin_client_api.get(path, {"min_position": min_position})

    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert list(error["details"]) == ["min_position"]


def test_min_position_zero_is_always_satisfied(clerk_client, drain, customer, sku, settings):
    order_id = order_place(customer_id=customer, lines=[LineInput(sku, 1)]).order_id
    drain()
    settings.READ_YOUR_WRITES_TIMEOUT = 0

    assert clerk_client.get(f"/api/orders/{order_id}/", {"min_position": 0}).status_code == 200


# --- (d) positions of events no projection behind the query handles -----------------------


def test_a_position_the_projection_does_not_handle_is_reached_once_the_earlier_events_are(
    clerk_client, catalog_client, drain, customer, sku, no_worker, settings
):
    drain()
    placed = order_place(customer_id=customer, lines=[LineInput(sku, 1)])  # not drained yet
    product = catalog_client.post("/api/products/", {"sku": "NEW-1", "name": "New", "price": 300}, format="json")
    assert product.status_code == 201, product.content
    product_position = product.json()["position"]
    assert product_position > placed.position
    path = f"/api/orders/{placed.order_id}/"

    settings.READ_YOUR_WRITES_TIMEOUT = 0.3
    watermark = assert_lagging(clerk_client.get(path, {"min_position": product_position}), product_position)
    assert watermark < placed.position, "the order event below it is still pending"

    drain()
    settings.READ_YOUR_WRITES_TIMEOUT = 0  # one look only
    response = clerk_client.get(path, {"min_position": product_position})

    assert response.status_code == 200, response.content
    assert position_header(response) >= product_position
    checkpoint = Checkpoint.objects.get(projection="order_views")
    assert checkpoint.last_position < product_position, "the projection never applied the product event itself"
    assert clerk_client.get(f"/api/customers/{customer}/", {"min_position": product_position}).status_code == 200


def test_a_later_unhandled_event_needs_no_drain_at_all(
    clerk_client, catalog_client, drain, customer, sku, no_worker, settings
):
    order_id = order_place(customer_id=customer, lines=[LineInput(sku, 1)]).order_id
    drain()
    product = catalog_client.post("/api/products/", {"sku": "NEW-2", "name": "New", "price": 300}, format="json")
    settings.READ_YOUR_WRITES_TIMEOUT = 0

    for path in (f"/api/orders/{order_id}/", "/api/orders/", f"/api/customers/{customer}/orders/"):
        response = clerk_client.get(path, {"min_position": product.json()["position"]})
        assert response.status_code == 200, (path, response.content)
        assert position_header(response) >= product.json()["position"]
