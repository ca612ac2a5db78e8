"""``/metrics`` in the test process: its token, the families it exposes, what commands and requests record.

Without ``PROMETHEUS_MULTIPROC_DIR`` (the test process) the values come from the process's own
registry, cumulative over the session, so the tests compare before and after.
"""

import threading

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from observability import instruments
from projections.runtime.registry import consumers
from projections.runtime.status import State
from tests.observability.scraping import samples, unbounded_labels, value

pytestmark = pytest.mark.django_db


def scrape(client, **headers):
    response = client.get("/metrics", **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    return samples(response.content.decode())


def place(client, customer: int, sku: str, **headers):
    return client.post(
        "/api/orders/", {"customer_id": customer, "lines": [{"sku": sku, "quantity": 1}]}, format="json", **headers
    )


def test_metrics_refuse_a_missing_or_wrong_token_when_one_is_set(client, settings):
    settings.METRICS_TOKEN = "s3cret-metrics-token"
    for headers in ({}, {"HTTP_AUTHORIZATION": "Bearer wrong"}, {"HTTP_AUTHORIZATION": "s3cret-metrics-token"}):
        response = client.get("/metrics", **headers)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "not_authenticated"
        assert response["WWW-Authenticate"].startswith("Bearer")
    assert "orders_consumer_lag_events" in scrape(client, HTTP_AUTHORIZATION="Bearer s3cret-metrics-token").__repr__()


def test_metrics_are_open_without_a_token(client, settings):
    settings.METRICS_TOKEN = None
    assert value(scrape(client), "orders_consumer_status_up") == 1


def test_every_consumer_has_its_lag_state_and_parked_gauges(client, customer, sku):
    found = scrape(client)
    for name, consumer in consumers().items():
        for family in ("orders_consumer_lag_events", "orders_consumer_lag_seconds", "orders_consumer_parked_streams",
                       "orders_consumer_position", "orders_consumer_events_applied_total"):  # fmt: skip
            assert (family, frozenset({("consumer", name), ("kind", consumer.kind)})) in found, (family, name)
        states = {dict(labels)["state"]: v for (n, labels), v in found.items()
                  if n == "orders_consumer_state" and dict(labels)["consumer"] == name}  # fmt: skip
        assert set(states) == set(State)
        assert sum(states.values()) == 1
    assert value(found, "orders_outbox_head_position") >= 1  # the fixtures' customer and product


def test_a_command_counts_by_outcome_and_a_request_by_route(client, clerk_client, customer, sku):
    before = scrape(client)
    assert place(clerk_client, customer, sku).status_code == 201
    assert place(clerk_client, customer, "NO-SUCH-SKU").status_code in (400, 422)
    order = clerk_client.get("/api/orders/")
    assert order.status_code == 200
    after = scrape(client)

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("orders_commands_total", command="order_place", outcome="ok") == 1
    failed = {
        dict(labels)["outcome"]: v - value(before, name, **dict(labels))
        for (name, labels), v in after.items()
        if name == "orders_commands_total"
        and dict(labels)["command"] == "order_place"
        and dict(labels)["outcome"] != "ok"
    }
    assert sum(failed.values()) == 1 and set(k for k, v in failed.items() if v) <= {
        "validation_error",
        "invariant_violated",
    }
    assert delta("orders_command_duration_seconds_count", command="order_place") == 2
    assert delta("orders_http_requests_total", route="api:order-list", method="POST", status="201") == 1
    assert delta("orders_http_requests_total", route="api:order-list", method="GET", status="200") == 1
    assert delta("orders_http_request_duration_seconds_count", route="api:order-list", method="POST") == 2
    assert delta("orders_http_requests_total", route="metrics", method="GET", status="200") == 1


def test_paths_with_ids_are_labelled_by_their_pattern_and_no_label_holds_an_id(client, clerk_client, customer, sku):
    order_id = place(clerk_client, customer, sku).json()["order_id"]
    assert clerk_client.get(f"/api/orders/{order_id}/").status_code in (200, 404)
    assert clerk_client.get("/api/orders/123456789/history/").status_code == 404
    assert client.get("/no/such/page/42").status_code == 404
    found = scrape(client)
    routes = {dict(labels).get("route") for (name, labels) in found if name == "orders_http_requests_total"}
    assert {"api:order-detail", "api:order-history", "unmatched"} <= routes
    assert unbounded_labels(found) == []


@pytest.mark.django_db(transaction=True)  # the drain that ends the second wait runs on a connection of its own
def test_read_your_writes_waits_count_their_outcome(client, clerk_client, customer, sku, settings, monkeypatch):
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", False)  # nothing drains unless the test says so
    settings.READ_YOUR_WRITES_TIMEOUT = 0.1
    position = place(clerk_client, customer, sku).json()["position"]
    before = scrape(client)
    assert clerk_client.get("/api/orders/", {"min_position": position}).status_code == 503  # times out: lagging
    settings.READ_YOUR_WRITES_TIMEOUT = 10
    drainer = threading.Timer(0.3, call_command, ["drain_projections"])
    drainer.start()
    try:
        assert clerk_client.get("/api/orders/", {"min_position": position}).status_code == 200  # reached mid-wait
    finally:
        drainer.join()
    after = scrape(client)
    for outcome in ("lagging", "reached"):
        assert (
            value(after, "orders_read_your_writes_waits_total", outcome=outcome)
            - value(before, "orders_read_your_writes_waits_total", outcome=outcome)
            == 1
        )
    waited = value(after, "orders_read_your_writes_wait_seconds_sum") - value(
        before, "orders_read_your_writes_wait_seconds_sum"
    )
    assert waited >= 0.1 + 0.3


def test_recording_runs_no_statement():
    with CaptureQueriesContext(connection) as queries:
        instruments.record_command("order_place", "ok", 0.001)
        instruments.record_request("api:order-list", "POST", 201, 0.002)
        instruments.record_batch("order_views", 3, 0.01)
        instruments.record_read_your_writes(True, 0.01)
        instruments.record_wait_slot("long-poll", 1)
        instruments.record_wait_slot("long-poll", -1)
    assert len(queries) == 0


def test_webhook_and_bus_recorders_count_by_outcome_and_refuse_anything_else(client):
    before = scrape(client)
    instruments.record_webhook_delivery("delivered", 0.05)
    instruments.record_webhook_delivery("failed")
    instruments.record_webhook_endpoint_disabled()
    instruments.record_bus_publish("published", 0.002)
    after = scrape(client)
    for name, labels, expected in (
        ("orders_webhook_deliveries_total", {"outcome": "delivered"}, 1),
        ("orders_webhook_deliveries_total", {"outcome": "failed"}, 1),
        ("orders_webhook_delivery_duration_seconds_count", {"outcome": "delivered"}, 1),
        ("orders_webhook_endpoints_disabled_total", {}, 1),
        ("orders_bus_publishes_total", {"outcome": "published"}, 1),
    ):
        assert value(after, name, **labels) - value(before, name, **labels) == expected, name
    for bad in ("https://hooks.example/x", "42", "Delivered"):
        with pytest.raises(ValueError):
            instruments.record_webhook_delivery(bad)
        with pytest.raises(ValueError):
            instruments.record_bus_publish(bad)


@pytest.mark.parametrize("label", ["12345", "order 7", "a/b", "3f1c9a52-0000-4000-8000-000000000000", ""])
def test_an_outcome_that_could_be_data_is_refused(label):
    with pytest.raises(ValueError):
        instruments.outcome_label(label)
