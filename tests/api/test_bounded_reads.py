"""Bounded reads (ADR 0023): queries throttled per user, read-your-writes waits capped per user, history pages."""

import threading
import time

import pytest
from django.core.cache import caches
from django.db import connections
from django_q.conf import Conf

from api.base import QueryRateThrottle
from api.waits import feed_waits_held, feed_waits_per_process, serve_threads
from config.rights import VIEW_EVENTS
from orders_write.services import LineInput, order_line_add, order_line_remove, order_place
from tests.api.conftest import client_for, make_user, same_credentials, until
from tests.api.responses import assert_error


@pytest.fixture
def query_rate(monkeypatch):
    caches["throttle"].clear()
    monkeypatch.setattr(QueryRateThrottle, "THROTTLE_RATES", {"queries": "3/min"})
    yield
    caches["throttle"].clear()


def test_a_user_over_the_query_rate_gets_429_with_retry_after(db, query_rate):
    busy, other = client_for(make_user(superuser=True)), client_for(make_user(superuser=True))
    for _ in range(3):
        assert busy.get("/api/orders/").status_code == 200
    refused = busy.get("/api/reports/summary/")  # the rate spans every query endpoint
    assert_error(refused, 429, "throttled")
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert other.get("/api/orders/").status_code == 200  # per user: the others are not held back


def test_the_default_query_rate_is_generous_and_per_user(settings):
    assert QueryRateThrottle.scope == "queries"
    assert settings.QUERY_THROTTLE_RATE == "100/s"
    assert QueryRateThrottle().parse_rate(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["queries"]) == (100, 1)


def test_read_your_writes_waits_are_capped_per_user(projected, settings, monkeypatch, customer, sku):
    """Real threads, each its own connection: the third concurrent wait of one user is refused at once."""
    monkeypatch.setattr(Conf, "SYNC", False)  # nothing drains: every wait runs to its timeout
    settings.READ_YOUR_WRITES_TIMEOUT = 1.5
    settings.READ_YOUR_WRITES_MAX_WAITS_PER_USER = 2
    placed = order_place(customer_id=customer, lines=[LineInput(sku, 1)])
    path, query = f"/api/orders/{placed.order_id}/", {"min_position": placed.position}
    waiter, neighbour = client_for(make_user(superuser=True)), client_for(make_user(superuser=True))
    answers: dict[str, tuple[int, float]] = {}

    def read(name: str, client) -> None:
        try:
            started = time.monotonic()
            response = same_credentials(client).get(path, query)
            answers[name] = (response.status_code, time.monotonic() - started)
        finally:
            connections.close_all()

    holders = [threading.Thread(target=read, args=(f"wait{n}", waiter)) for n in range(2)]
    for thread in holders:
        thread.start()
    time.sleep(0.5)  # both are waiting now
    started = time.monotonic()
    refused = same_credentials(waiter).get(path, query)
    refused_after = time.monotonic() - started
    read("neighbour", neighbour)  # another user still gets a wait of its own
    for thread in holders:
        thread.join()

    assert_error(refused, 429, "throttled")
    assert refused["Retry-After"] == "1"
    assert refused_after < 0.5, "refused at once, not after a wait"
    assert answers["wait0"][0] == answers["wait1"][0] == 503  # they waited the whole timeout
    assert answers["neighbour"][0] == 503 and answers["neighbour"][1] >= 1.4
    # The slots are given back: the same user may wait again.
    assert same_credentials(waiter).get(path, query).status_code == 503


@pytest.fixture
def feed_end(transactional_db, customer) -> str:
    """The feed's cursor at the end of the log (a long-poll from it waits), after one event at least."""
    return client_for(make_user(VIEW_EVENTS)).get("/api/events/?limit=500").json()["next"]


def test_long_polls_are_capped_per_user_and_per_process(feed_end, settings):
    """Real threads, each its own connection: a user's third long-poll, and any long-poll once the
    process holds its cap, is refused at once; a poll that need not wait is still answered."""
    settings.FEED_MAX_WAITS_PER_USER = 2
    settings.FEED_MAX_WAITS_PER_PROCESS = 3
    first, second, third = (client_for(make_user(VIEW_EVENTS)) for _ in range(3))
    long_poll = feed_end + "&wait=1.5"
    answers: dict[str, tuple[int, float]] = {}

    def read(name: str, client) -> None:
        try:
            started = time.monotonic()
            response = same_credentials(client).get(long_poll)
            answers[name] = (response.status_code, time.monotonic() - started)
        finally:
            connections.close_all()

    holders = [threading.Thread(target=read, args=(f"wait{n}", first)) for n in range(2)]
    holders.append(threading.Thread(target=read, args=("wait2", second)))
    for thread in holders:
        thread.start()
    until(lambda: feed_waits_held() == 3)
    started = time.monotonic()
    over_user = same_credentials(first).get(long_poll)
    over_process = same_credentials(third).get(long_poll)
    refused_after = time.monotonic() - started
    at_once = same_credentials(third).get(feed_end)  # wait=0: takes no slot
    from_start = same_credentials(third).get("/api/events/?wait=5&limit=1")  # events at hand: no wait either
    for thread in holders:
        thread.join()

    for refused in (over_user, over_process):
        assert_error(refused, 429, "throttled")
        assert refused["Retry-After"] == "1"
    assert "per user" in over_user.json()["error"]["message"]
    assert "per user" not in over_process.json()["error"]["message"]
    assert refused_after < 0.5, "refused at once, not after a wait"
    assert at_once.status_code == 200 and at_once.json()["results"] == []
    assert from_start.status_code == 200 and len(from_start.json()["results"]) == 1
    assert [answers[f"wait{n}"][0] for n in range(3)] == [200] * 3
    assert all(seconds >= 1.4 for _, seconds in answers.values()), "they waited the whole wait"
    # The slots are given back: the same users may wait again.
    assert same_credentials(first).get(feed_end + "&wait=0.2").status_code == 200
    assert same_credentials(third).get(feed_end + "&wait=0.2").status_code == 200


def test_long_polls_leave_a_thread_of_the_worker_free(feed_end, settings):
    """Under gunicorn the worker says how many threads it has (``post_worker_init``): long-polls
    take at most all but one, whatever ``FEED_MAX_WAITS_PER_PROCESS`` says; a single-threaded
    worker never waits, it refuses at once."""
    settings.FEED_MAX_WAITS_PER_PROCESS = 4
    client = client_for(make_user(VIEW_EVENTS))
    try:
        serve_threads(3)
        assert feed_waits_per_process() == 2
        serve_threads(1)
        assert feed_waits_per_process() == 0
        started = time.monotonic()
        refused = client.get(feed_end + "&wait=5")
        assert time.monotonic() - started < 0.5
        assert_error(refused, 429, "throttled")
    finally:
        serve_threads(None)
    assert feed_waits_per_process() == 4


def test_history_pages_walk_every_version_once(db, admin_client_api, customer, make_product):
    skus = [make_product() for _ in range(4)]
    order = order_place(customer_id=customer, lines=[LineInput(skus[0], 1)])
    for sku in skus[1:]:
        order_line_add(order_id=order.order_id, sku=sku, quantity=2)
    for sku in skus[1:3]:
        order_line_remove(order_id=order.order_id, sku=sku)
    versions, pages = [], 0
    url = f"/api/orders/{order.order_id}/history/?limit=2"
    while url:
        body = admin_client_api.get(url).json()
        assert len(body["events"]) <= 2
        assert body["order"]["version"] == 6  # every page carries the order as it stands
        versions += [event["version"] for event in body["events"]]
        url, pages = body["next"], pages + 1
    assert versions == [1, 2, 3, 4, 5, 6]
    assert pages == 3
    whole = admin_client_api.get(f"/api/orders/{order.order_id}/history/").json()
    assert [event["version"] for event in whole["events"]] == versions and whole["next"] is None


def test_a_history_page_past_the_end_is_empty_not_missing(db, admin_client_api, customer, sku):
    order_id = order_place(customer_id=customer, lines=[LineInput(sku, 1)]).order_id
    body = admin_client_api.get(f"/api/orders/{order_id}/history/", {"after_version": 9}).json()
    assert body["events"] == [] and body["next"] is None and body["order"]["version"] == 1
