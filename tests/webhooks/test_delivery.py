"""Delivery to a real receiver on 127.0.0.1: signatures, per-order order, retries, outages."""

import threading

import pytest
from django.db import connection
from prometheus_client import REGISTRY
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from orders_write.services import LineInput, order_cancel, order_confirm, order_place
from tests.webhooks.helpers import create_endpoint, run_until, webhook_client
from webhooks.delivery import DeliveryWorker
from webhooks.models import WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db(transaction=True)


def orders_with_history(customer: int, sku: str, count: int) -> list[int]:
    """Place ``count`` orders, each confirmed and then cancelled (three events per order)."""
    ids = []
    for _ in range(count):
        order_id = order_place(customer_id=customer, lines=[LineInput(sku=sku, quantity=1)]).order_id
        order_confirm(order_id=order_id)
        order_cancel(order_id=order_id, reason="changed mind")
        ids.append(order_id)
    return ids


def outbox_event_ids(types: set[str] | None = None) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT event_id, event_type FROM outbox_event")
        return {str(event_id) for event_id, event_type in cursor.fetchall() if types is None or event_type in types}


def versions_by_order(received) -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    for request in received:
        event = request.event
        if event["aggregate_type"] == "order":
            found.setdefault(event["aggregate_id"], []).append(event["aggregate_version"])
    return found


def test_signed_deliveries_arrive_in_version_order_per_order(private_targets, receiver, customer, sku):
    endpoint = create_endpoint(webhook_client(), receiver.url, ["OrderPlaced", "OrderConfirmed", "OrderCancelled"])
    orders = orders_with_history(customer, sku, 6)
    receiver.delay = 0.01
    worker = DeliveryWorker(threads=4, poll_seconds=0.02)
    running = threading.Thread(target=worker.run)
    running.start()
    try:
        run_until(lambda: len(receiver.accepted()) >= 18, timeout=30)
    finally:
        worker.stop.set()
        running.join(timeout=30)

    verifier = Webhook(endpoint["secret"])
    for request in receiver.requests:
        assert verifier.verify(request.body, request.headers) == request.event
        assert request.headers["webhook-id"] == request.event["event_id"]
        assert request.headers["webhook-signature"].startswith("v1,")
    assert versions_by_order(receiver.requests) == {order_id: [1, 2, 3] for order_id in orders}
    assert receiver.max_in_flight_per_order == 1, "never two deliveries of one order at once"
    assert {r.event["event_id"] for r in receiver.requests} == outbox_event_ids(
        {"OrderPlaced", "OrderConfirmed", "OrderCancelled"}
    )


def deliveries_counted(outcome: str) -> float:
    return REGISTRY.get_sample_value("orders_webhook_deliveries_total", {"outcome": outcome}) or 0.0


def test_a_failing_order_is_retried_while_the_others_flow(private_targets, receiver, customer, sku):
    create_endpoint(webhook_client(), receiver.url, ["OrderPlaced", "OrderConfirmed", "OrderCancelled"])
    delivered_before, failed_before = deliveries_counted("delivered"), deliveries_counted("failed")
    failing, *_ = orders_with_history(customer, sku, 4)
    receiver.failing = {failing}

    run_until(lambda: len(receiver.accepted()) == 9)
    run_until(lambda: sum(r.event["aggregate_id"] == failing for r in receiver.requests) >= 3)
    tried = [r.event["aggregate_version"] for r in receiver.requests if r.event["aggregate_id"] == failing]
    assert set(tried) == {1}, "only the failing order's first event is tried: its later ones wait behind it"
    head = WebhookDelivery.objects.get(aggregate_id=failing, aggregate_version=1)
    assert head.state == "pending" and head.attempts >= 3 and head.status_code == 500 and head.error == "HTTP 500"
    assert deliveries_counted("delivered") - delivered_before >= 9  # orders_webhook_deliveries_total by outcome
    assert deliveries_counted("failed") - failed_before >= 3

    receiver.failing = set()
    run_until(lambda: len(versions_by_order(receiver.accepted()).get(failing, [])) >= 3)
    assert versions_by_order(receiver.accepted())[failing][-3:] == [1, 2, 3]


def test_a_receiver_down_for_a_while_gets_everything_once_back(private_targets, receiver, customer, sku):
    endpoint = create_endpoint(webhook_client(), receiver.url)
    receiver.stop()
    orders_with_history(customer, sku, 3)
    run_until(lambda: WebhookDelivery.objects.filter(attempts__gte=2).count() >= 1)
    assert WebhookEndpoint.objects.get(pk=endpoint["webhook_id"]).failing_since is not None

    receiver.start()
    wanted = outbox_event_ids()
    run_until(lambda: {r.event["event_id"] for r in receiver.requests} == wanted)
    ids = [r.headers["webhook-id"] for r in receiver.requests]
    assert set(ids) == wanted, "nothing lost"
    assert all(r.headers["webhook-id"] == r.event["event_id"] for r in receiver.requests), "duplicates keep their id"
    assert WebhookEndpoint.objects.get(pk=endpoint["webhook_id"]).failing_since is None


def test_after_the_retry_window_a_delivery_is_parked_and_the_endpoint_disabled(
    private_targets, settings, receiver, customer, sku
):
    endpoint = create_endpoint(webhook_client(), receiver.url, ["OrderPlaced", "OrderConfirmed", "OrderCancelled"])
    failing, other = orders_with_history(customer, sku, 2)
    receiver.failing = {failing, other}
    settings.WEBHOOK_RETRY_FOR_SECONDS = 1
    run_until(lambda: WebhookDelivery.objects.filter(state="failed").exists(), timeout=30)
    parked = WebhookDelivery.objects.filter(state="failed").first()
    assert parked.attempts >= 1 and parked.error == "HTTP 500"
    run_until(lambda: not WebhookEndpoint.objects.get(pk=endpoint["webhook_id"]).enabled, timeout=30)
    assert "every delivery failed since" in WebhookEndpoint.objects.get(pk=endpoint["webhook_id"]).disabled_reason


def test_a_rotated_secret_signs_beside_the_old_one(private_targets, receiver, customer, sku):
    client = webhook_client()
    endpoint = create_endpoint(client, receiver.url, ["OrderPlaced"])
    rotated = client.post(f"/api/webhooks/{endpoint['webhook_id']}/rotate-secret/").json()
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != endpoint["secret"]
    orders_with_history(customer, sku, 1)
    run_until(lambda: len(receiver.requests) == 1)
    request = receiver.requests[0]
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    for secret in (endpoint["secret"], rotated["secret"]):
        Webhook(secret).verify(request.body, request.headers)


def test_a_rotated_out_secret_can_be_dropped_at_once(private_targets, receiver, customer, sku):
    client = webhook_client()
    endpoint = create_endpoint(client, receiver.url, ["OrderPlaced"])
    rotation = client.post(f"/api/webhooks/{endpoint['webhook_id']}/rotate-secret/")
    assert "no-store" in rotation["Cache-Control"], "a secret is kept by no cache"
    dropped = client.post(f"/api/webhooks/{endpoint['webhook_id']}/drop-previous-secret/")
    assert dropped.status_code == 200 and "secret" not in dropped.json()
    assert client.post("/api/webhooks/999999/drop-previous-secret/").status_code == 404

    orders_with_history(customer, sku, 1)
    run_until(lambda: len(receiver.requests) == 1)
    request = receiver.requests[0]
    assert len(request.headers["webhook-signature"].split(" ")) == 1
    Webhook(rotation.json()["secret"]).verify(request.body, request.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(endpoint["secret"]).verify(request.body, request.headers)
