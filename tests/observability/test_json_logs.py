"""JSON log lines: one object per line, and one correlation id from the request to the batch that applied it."""

import io
import json
import logging
import uuid

import pytest

from observability.context import log_context
from observability.logging import JsonFormatter, TextFormatter
from projections.history import order_history
from projections.runtime.registry import consumers


@pytest.fixture
def json_lines():
    """Every record logged at INFO or above, formatted by ``JsonFormatter``, parsed back."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)

    def read() -> list[dict]:
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    yield read
    root.removeHandler(handler)
    root.setLevel(level)


def test_a_line_is_one_json_object_with_time_level_logger_message_context_and_extras(json_lines):
    logger = logging.getLogger("orders.test")
    with log_context(request_id="r-1", order_id=7, user_id=None):
        logger.warning("hello %s", "world", extra={"event_ids": [uuid.UUID(int=1)]})
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logger.exception("failed")
    first, second = json_lines()
    assert first["level"] == "WARNING" and first["logger"] == "orders.test" and first["message"] == "hello world"
    assert first["time"].endswith("+00:00") and "T" in first["time"]
    assert first["request_id"] == "r-1" and first["order_id"] == 7 and "user_id" not in first
    assert first["event_ids"] == [str(uuid.UUID(int=1))]
    assert "request_id" not in second and "RuntimeError: boom" in second["exception"]


def test_values_json_cannot_hold_are_written_as_text(json_lines):
    logger = logging.getLogger("orders.test")
    logger.info("odd values", extra={"figures": {3: "int key"}, "huge": 2**70, "kinds": {"a"}})
    (line,) = json_lines()
    assert line["message"] == "odd values" and line["figures"] == {"3": "int key"}
    assert line["huge"] == 2**70 and line["kinds"] == "{'a'}"


def test_the_text_format_appends_the_same_fields():
    record = logging.LogRecord("orders.test", logging.INFO, __file__, 1, "placed", None, None)
    record.duration_ms = 1.5
    with log_context(order_id=9):
        text = TextFormatter().format(record)
    assert text.endswith("INFO orders.test placed order_id=9 duration_ms=1.5")


def place_with_request_id(client, customer: int, sku: str):
    """Place an order through the API under a fresh ``X-Request-ID``; return the id and the response."""
    incoming = uuid.uuid4()
    response = client.post(
        "/api/orders/",
        {"customer_id": customer, "lines": [{"sku": sku, "quantity": 2}]},
        format="json",
        HTTP_X_REQUEST_ID=str(incoming),
    )
    assert response.status_code == 201, response.content
    return incoming, response


def test_one_api_placement_logs_one_correlation_id_from_request_to_command_to_every_drain_batch(
    json_lines, clerk_client, customer, sku, drain
):
    incoming, response = place_with_request_id(clerk_client, customer, sku)
    assert response["X-Request-ID"] == str(incoming)
    order_id = response.json()["order_id"]
    drain()
    lines = json_lines()
    correlation = str(incoming)

    (request_line,) = [line for line in lines if line["logger"] == "orders.request" and line.get("method") == "POST"]
    assert request_line["request_id"] == request_line["correlation_id"] == correlation
    assert request_line["route"] == "api:order-list" and request_line["status"] == 201
    assert request_line["user_id"] == response.wsgi_request.user.pk

    (command_line,) = [
        line for line in lines if line["logger"] == "orders.command" and line["command"] == "order_place"
    ]
    assert command_line["correlation_id"] == correlation and command_line["request_id"] == correlation
    assert command_line["order_id"] == order_id and command_line["outcome"] == "ok"
    assert command_line["user_id"] == request_line["user_id"]
    (event,) = order_history(order_id=order_id)
    assert event["correlation_id"] == correlation  # the id stored in the event is the request's
    assert len(command_line["event_ids"]) == 1

    batches = [line for line in lines if line["logger"] == "orders.consumer" and correlation in line["correlation_ids"]]
    assert batches
    assert {line["consumer"] for line in batches} == {
        name for name, c in consumers().items() if "OrderPlaced" in c.event_types()
    }
    for line in batches:
        assert line["batch_events"] >= 1 and line["from_position"] <= event["position"] <= line["to_position"]
        assert line["duration_ms"] > 0


@pytest.mark.parametrize("header", ["not-a-uuid", "x" * 100, ""])
def test_an_invalid_request_id_is_replaced_by_a_new_one(clerk_client, customer, sku, header, db):
    response = clerk_client.post(
        "/api/orders/",
        {"customer_id": customer, "lines": [{"sku": sku, "quantity": 1}]},
        format="json",
        HTTP_X_REQUEST_ID=header,
    )
    assert response.status_code == 201
    given = uuid.UUID(response["X-Request-ID"])
    assert str(given) != header
    (event,) = order_history(order_id=response.json()["order_id"])
    assert event["correlation_id"] == str(given)


def test_x_correlation_id_is_honoured_when_there_is_no_request_id(clerk_client, customer, sku, db):
    incoming = uuid.uuid4()
    response = clerk_client.post(
        "/api/orders/",
        {"customer_id": customer, "lines": [{"sku": sku, "quantity": 1}]},
        format="json",
        HTTP_X_CORRELATION_ID=str(incoming),
    )
    assert response["X-Request-ID"] == str(incoming)
    (event,) = order_history(order_id=response.json()["order_id"])
    assert event["correlation_id"] == str(incoming)
