"""Bounded reads (ADR 0023): queries throttled per user, read-your-writes waits capped per user, history pages."""

import threading
import time

import pytest
from django.core.cache import caches
from django.db import connections
from django_q.conf import Conf
from rest_framework.utils.urls import replace_query_param

from api.base import QueryRateThrottle
from api.waits import feed_waits_held, feed_waits_per_process, read_your_writes_waits_held, serve_threads
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


def test_read_your_writes_waits_are_capped_per_user(drain, settings, monkeypatch, customer, sku):
    """Real threads, each its own connection: the third concurrent wait of one user is refused at once."""
    monkeypatch.setattr(Conf, "SYNC", False)  # nothing drains until the test does
    settings.READ_YOUR_WRITES_TIMEOUT = 30  # the two holders wait until the test drains
    settings.READ_YOUR_WRITES_MAX_WAITS_PER_USER = 2
    placed = order_place(customer_id=customer, lines=[LineInput(sku, 1)])
    path, query = f"/api/orders/{placed.order_id}/", {"min_position": placed.position}
    waiter, neighbour = client_for(make_user(superuser=True)), client_for(make_user(superuser=True))
    answers: dict[str, int] = {}

    def read(name: str, client) -> None:
        try:
            answers[name] = same_credentials(client).get(path, query).status_code
        finally:
            connections.close_all()

    holders = [threading.Thread(target=read, args=(f"wait{n}", waiter)) for n in range(2)]
    for thread in holders:
        thread.start()
    until(lambda: read_your_writes_waits_held() == 2)
    refused = same_credentials(waiter).get(path, query)
    # Answered while both still wait: had it waited too, its wait (as long as theirs, begun later)
    # would have outlasted theirs. An order of events, not a time, so a busy machine cannot break it.
    assert read_your_writes_waits_held() == 2, "refused at once, not after a wait"
    settings.READ_YOUR_WRITES_TIMEOUT = 0.3
    read("neighbour", neighbour)  # another user still gets a wait of its own
    drain()  # the read side reaches the position: the holders' waits end
    for thread in holders:
        thread.join(timeout=60)

    assert_error(refused, 429, "throttled")
    assert refused["Retry-After"] == "1"
    assert answers["wait0"] == answers["wait1"] == 200, "they waited until the read side caught up"
    assert answers["neighbour"] == 503, "it waited its own timeout (a 503 comes only from a wait that ran out)"
    # The slots are given back: the same user may wait again.
    again = order_place(customer_id=customer, lines=[LineInput(sku, 1)])
    assert same_credentials(waiter).get(path, {"min_position": again.position}).status_code == 503


@pytest.fixture
def feed_end(transactional_db, customer, sku) -> str:
    """The feed's cursor at the end of the log (a long-poll from it waits), after the customer and
    the product the tests order with."""
    return client_for(make_user(VIEW_EVENTS)).get("/api/events/?limit=500").json()["next"]


LONG_POLL = 25  # the longest wait the feed allows


def test_long_polls_are_capped_per_user_and_per_process(feed_end, settings, customer, sku):
    """Real threads, each its own connection: a user's third long-poll, and any long-poll once the
    process holds its cap, is refused at once; a poll that need not wait is still answered."""
    settings.FEED_MAX_WAITS_PER_USER = 2
    settings.FEED_MAX_WAITS_PER_PROCESS = 3
    first, second, third = (client_for(make_user(VIEW_EVENTS)) for _ in range(3))
    long_poll = feed_end + f"&wait={LONG_POLL}"
    answers: dict[str, tuple[int, dict]] = {}

    def read(name: str, client) -> None:
        try:
            response = same_credentials(client).get(long_poll)
            answers[name] = (response.status_code, response.json())
        finally:
            connections.close_all()

    holders = [threading.Thread(target=read, args=(f"wait{n}", first)) for n in range(2)]
    holders.append(threading.Thread(target=read, args=("wait2", second)))
    for thread in holders:
        thread.start()
    until(lambda: feed_waits_held() == 3)
    over_user = same_credentials(first).get(long_poll)
    over_process = same_credentials(third).get(long_poll)
    at_once = same_credentials(third).get(feed_end)  # wait=0: takes no slot
    from_start = same_credentials(third).get("/api/events/?wait=5&limit=1")  # events at hand: no wait either
    # All answered while the three still wait: a refusal that waited first would have outlasted
    # their waits (as long, begun later). An order of events, not a time.
    assert feed_waits_held() == 3, "refused at once, not after a wait"
    order_id = order_place(customer_id=customer, lines=[LineInput(sku, 1)]).order_id  # wakes the three
    for thread in holders:
        thread.join(timeout=LONG_POLL + 15)

    for refused in (over_user, over_process):
        assert_error(refused, 429, "throttled")
        assert refused["Retry-After"] == "1"
    assert "per user" in over_user.json()["error"]["message"]
    assert "per user" not in over_process.json()["error"]["message"]
    assert at_once.status_code == 200 and at_once.json()["results"] == []
    assert from_start.status_code == 200 and len(from_start.json()["results"]) == 1
    for name in ("wait0", "wait1", "wait2"):
        status, body = answers[name]
        assert status == 200 and order_id in [e["aggregate_id"] for e in body["results"]], "it waited for the commit"
    # The slots are given back: the same users may wait again.
    short_poll = replace_query_param(answers["wait0"][1]["next"], "wait", "0.2")  # from the new end: it waits
    assert same_credentials(first).get(short_poll).status_code == 200
    assert same_credentials(third).get(short_poll).status_code == 200


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
        refused = client.get(feed_end + f"&wait={LONG_POLL}")
        # Generous, so a busy machine holds it: what it catches is a refusal after the whole wait (25 s).
        assert time.monotonic() - started < 5
        assert_error(refused, 429, "throttled")
    finally:
        serve_threads(None)
    assert feed_waits_per_process() == 4


def test_read_your_writes_waits_are_capped_per_process_and_with_long_polls_leave_a_thread_free(
    drain, settings, monkeypatch, customer, sku
):
    """Real threads: once the process holds its read-your-writes cap, another user's wait is refused
    at once; and waits of both kinds together never take the worker's last thread."""
    monkeypatch.setattr(Conf, "SYNC", False)  # nothing drains until the test does
    settings.READ_YOUR_WRITES_TIMEOUT = 30  # the holder waits until the test drains
    settings.READ_YOUR_WRITES_MAX_WAITS_PER_PROCESS = 1
    placed = order_place(customer_id=customer, lines=[LineInput(sku, 1)])
    path, query = f"/api/orders/{placed.order_id}/", {"min_position": placed.position}
    holder, other = client_for(make_user(superuser=True)), client_for(make_user(superuser=True))
    poller = client_for(make_user(VIEW_EVENTS))
    feed_end = poller.get("/api/events/?limit=500").json()["next"]  # after the order: a long-poll waits
    answers: dict[str, int] = {}

    def get(name: str, client, *args) -> None:
        try:
            answers[name] = same_credentials(client).get(*args).status_code
        finally:
            connections.close_all()

    waiting = threading.Thread(target=get, args=("holder", holder, path, query))
    waiting.start()
    until(lambda: read_your_writes_waits_held() == 1)
    over_process = same_credentials(other).get(path, query)
    assert read_your_writes_waits_held() == 1, "refused at once, not after a wait"

    settings.READ_YOUR_WRITES_MAX_WAITS_PER_PROCESS = 4
    try:
        serve_threads(3)  # the one wait and one long-poll take all but the last thread
        polling = threading.Thread(target=get, args=("poller", poller, feed_end + f"&wait={LONG_POLL}"))
        polling.start()
        until(lambda: feed_waits_held() == 1)
        last_thread = same_credentials(other).get(path, query)
        assert read_your_writes_waits_held() == 1 and feed_waits_held() == 1, "refused at once"
    finally:
        serve_threads(None)
    drain()  # the read side reaches the position: the holder's wait ends
    order_place(customer_id=customer, lines=[LineInput(sku, 1)])  # an event: the long-poll ends
    for thread in (waiting, polling):
        thread.join(timeout=LONG_POLL + 15)

    for refused in (over_process, last_thread):
        assert_error(refused, 429, "throttled")
        assert "per user" not in refused.json()["error"]["message"]
    assert answers == {"holder": 200, "poller": 200}


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
