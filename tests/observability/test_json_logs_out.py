"""One correlation id from the API request to the webhook delivery and the NATS publish (ADR 0024)."""

import asyncio
import uuid

import pytest

from tests.bus.conftest import SHARED_NATS, _delete_stream, use_bus
from tests.observability.test_json_logs import json_lines, place_with_request_id  # noqa: F401 (fixture)
from tests.webhooks.helpers import create_endpoint, run_until, webhook_client
from tests.webhooks.receiver import Receiver

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def events_out(settings):
    """The webhook and NATS relays on, a receiver on 127.0.0.1 and a stream of this test's own."""
    tag = uuid.uuid4().hex[:10]
    names = {"NATS_STREAM": f"TEST_LOGS_{tag}", "NATS_SUBJECT_PREFIX": f"test_logs_{tag}.orders.events"}
    if "webhooks.fanout.WebhookFanOut" not in settings.CONSUMERS:
        settings.CONSUMERS = [*settings.CONSUMERS, "webhooks.fanout.WebhookFanOut"]
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    relay = use_bus(settings, SHARED_NATS, names)
    receiver = Receiver().start()
    yield receiver
    receiver.stop()
    relay.close()
    asyncio.run(_delete_stream(SHARED_NATS, names["NATS_STREAM"]))


def test_the_webhook_delivery_and_the_nats_publish_log_the_requests_correlation_id(
    json_lines,  # noqa: F811 (fixture)
    events_out,
    clerk_client,
    customer,
    sku,
    drain,
):
    create_endpoint(webhook_client(), events_out.url, ["OrderPlaced"])
    incoming, _ = place_with_request_id(clerk_client, customer, sku)
    drain()  # every consumer, the NATS relay among them
    run_until(lambda: len(events_out.accepted()) >= 1)
    correlation = str(incoming)
    lines = json_lines()

    (request_line,) = [line for line in lines if line["logger"] == "orders.request" and line.get("method") == "POST"
                       and line.get("route") == "api:order-list"]  # fmt: skip
    assert request_line["correlation_id"] == correlation
    batches = {line["consumer"] for line in lines
               if line["logger"] == "orders.consumer" and correlation in line.get("correlation_ids", [])}  # fmt: skip
    assert {"nats", "webhooks", "order_views"} <= batches, batches
    (delivered,) = [line for line in lines if line["logger"] == "webhooks.delivery" and "failed" not in line["message"]]
    assert delivered["correlation_id"] == correlation
    assert delivered["event_ids"] == [events_out.accepted()[0].event["event_id"]]
